"""An organization's supporters: the people who ticked that it may contact them. Its data stewards
(and administrators) list and download them; its administrators read who received what. Members
of other organizations get a 404; its other members a 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Capability, Membership, Organization
from accounts.selectors import membership_get, user_logged_in
from petitions import supporters
from petitions.forms import SupporterFilterForm
from petitions.models import SupporterExport
from petitions.services.supporters import supporter_export_record

PER_PAGE = 50


def _organization_for(request: HttpRequest, slug: str, capability: Capability) -> Organization:
    """The organization, for a member whose role gives `capability`. Staff rights do not reach
    supporters' personal data here: it leaves only with the organization's own people."""
    organization = get_object_or_404(Organization, slug=slug)
    membership: Membership | None = membership_get(user=request.user, organization=organization)
    if membership is None:
        raise Http404
    if not membership.may(capability):
        raise PermissionDenied
    return organization


def _page(
    request: HttpRequest,
    organization: Organization,
    form: SupporterFilterForm,
    *,
    status: int = 200,
) -> HttpResponse:
    """The list, a page at a time. Its rows are personal data leaving Cosign as a download's
    are: shown only to a verified organization, only on a plain 200 (a refused download shows
    the count alone), and recorded (supporter_export_record) for the people on the page."""
    valid = form.is_valid()
    filters = form.cleaned_data if valid else {}
    rows = supporters.supporters_of(organization=organization, **filters)
    show = valid and organization.is_verified and status == 200
    page = Paginator(rows if show else rows.none(), PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page)
    if shown:
        supporter_export_record(
            organization=organization,
            user=user_logged_in(request=request),
            shown=[opt_in.pk for opt_in in shown],
            **filters,
        )
    context = {
        "organization": organization,
        "form": form,
        "total": rows.count() if valid else 0,
        "page": page,
        "rows": [(opt_in, supporters.supporter_cells(opt_in)) for opt_in in shown],
        "columns": [label for _key, label in supporters.SUPPORTER_COLUMNS],
        "verified": organization.is_verified,
    }
    response = render(request, "petitions/workspace/supporters.html", context, status=status)
    add_never_cache_headers(response)
    return response


@require_safe
@login_required
def supporter_list(request: HttpRequest, organization: str) -> HttpResponse:
    found = _organization_for(request, organization, Capability.EXPORT_SUPPORTERS)
    # Bound even when empty: no filter is a valid choice (everyone).
    form = SupporterFilterForm(request.GET, organization=found)
    return _page(request, found, form, status=200 if form.is_valid() else 400)


@require_POST
@login_required
def supporter_export(request: HttpRequest, organization: str) -> HttpResponseBase:
    found = _organization_for(request, organization, Capability.EXPORT_SUPPORTERS)
    form = SupporterFilterForm(request.POST, organization=found)
    if not found.is_verified:
        # An organization staff have not verified takes no one's personal data away.
        return _page(request, found, form, status=403)
    if not form.is_valid():
        return _page(request, found, form, status=400)
    export = supporter_export_record(
        organization=found, user=user_logged_in(request=request), **form.cleaned_data
    )
    # Exactly the people the record counted: anyone confirming meanwhile waits for the next one.
    rows = supporters.supporters_of(
        organization=found, as_of=export.created_at, **form.cleaned_data
    )
    response = StreamingHttpResponse(
        supporters.supporters_csv(rows=rows), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="supporters-{found.slug}-{day}.csv"'
    # Personal data: no cache anywhere keeps it.
    response["Cache-Control"] = "no-store"
    return response


@require_safe
@login_required
def supporter_exports(request: HttpRequest, organization: str) -> HttpResponse:
    found = _organization_for(request, organization, Capability.MANAGE_MEMBERS)
    exports = SupporterExport.objects.filter(organization=found).select_related(
        "exported_by", "petition"
    )[:200]
    context = {"organization": found, "exports": exports}
    response = render(request, "petitions/workspace/supporter_exports.html", context)
    add_never_cache_headers(response)
    return response
