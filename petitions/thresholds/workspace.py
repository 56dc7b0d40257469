"""The thresholds page of a petition in its leading organization's workspace
(/organizations/<slug>/campaigns/petition/<pk>/thresholds/): the thresholds, the targets asked
so far and where their answers stand, and a form to add one.

As every drafting page: editors and administrators of an organization that leads the petition
(its drafter or a co-lead); the organization's other members get a 403, anyone else a 404. A
refused change writes nothing and says why, with what was typed kept."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import Capability, Organization
from accounts.selectors import membership_get, user_logged_in
from petitions.drafting.petition_kind import PETITION
from petitions.drafting.selectors import campaign_for_editor
from petitions.models import Petition, Threshold, ThresholdRequest
from petitions.services import thresholds as services
from petitions.thresholds.forms import ThresholdForm


def _petition_for_editor(
    request: HttpRequest, organization: str, pk: int
) -> tuple[Organization, Petition]:
    found = get_object_or_404(Organization, slug=organization)
    membership = membership_get(user=request.user, organization=found)
    if membership is None:
        raise Http404
    if not membership.may(Capability.EDIT_CAMPAIGNS):
        raise PermissionDenied
    return found, campaign_for_editor(kind=PETITION, organization=found, pk=pk)


def _page(
    request: HttpRequest,
    organization: Organization,
    petition: Petition,
    form: ThresholdForm,
    *,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "organization": organization,
        "kind": PETITION,
        "campaign": petition,
        "form": form,
        "thresholds": list(
            Threshold.objects.filter(petition=petition)
            .select_related("target")
            .prefetch_related("requests")
            .order_by("count", "target__title")
        ),
        "requests": list(
            ThresholdRequest.objects.filter(petition=petition)
            .select_related("target")
            .order_by("-count", "target__title")
        ),
    }
    return render(request, "petitions/thresholds/workspace.html", context, status=status)


def _form(petition: Petition, data: Any = None) -> ThresholdForm:
    return ThresholdForm(data, targets=petition.targets.order_by("title"))


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def thresholds_page(request: HttpRequest, organization: str, pk: int) -> HttpResponse:
    found, petition = _petition_for_editor(request, organization, pk)
    if request.method != "POST":
        return _page(request, found, petition, _form(petition))
    user = user_logged_in(request=request)
    if "remove" in request.POST:
        remove = request.POST["remove"]
        try:
            if not remove.isdigit() or len(remove) > 12:
                raise ValidationError(_("This threshold is not one of the petition's."))
            services.threshold_remove(petition_id=petition.pk, threshold_id=int(remove), user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Threshold removed."))
        return redirect("drafting:thresholds", organization=found.slug, pk=petition.pk)
    form = _form(petition, request.POST)
    if not form.is_valid():
        return _page(request, found, petition, form, status=400)
    target = form.cleaned_data["target"]
    try:
        services.threshold_add(
            petition_id=petition.pk,
            target_id=target.pk if target else None,
            count=form.cleaned_data["count"],
            days_to_respond=form.cleaned_data["days_to_respond"],
            user=user,
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _page(request, found, petition, form, status=400)
    messages.success(request, _("Threshold added."))
    return redirect("drafting:thresholds", organization=found.slug, pk=petition.pk)
