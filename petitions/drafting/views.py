"""The drafting workspace of an organization: its campaigns and drafts, invitations it received,
and for each draft the form with its preview, its targets, its partners and its history.

Editors and administrators of the organization reach these pages; its other members get a 403,
and everyone else a 404, so another organization's drafts are not known to exist. Every write is
a POST to a service that either does all of a step or nothing, and a refused step is said on the
page with what was typed kept."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Capability, Membership, Organization
from accounts.selectors import membership_get, user_logged_in
from mechanisms.markdown import markdown_render
from petitions.drafting import selectors, services
from petitions.drafting.forms import InvitationForm, TargetProposalForm, UpdateForm
from petitions.drafting.kinds import DraftKind, draft_kind_get
from petitions.drafting.models import CampaignInvitation, ReviewedCampaign
from petitions.drafting.services import EDITABLE
from petitions.models import Petition

# Versions on one page of a draft's history.
HISTORY_PAGE = 50


def _organization_for(request: HttpRequest, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    membership: Membership | None = membership_get(user=request.user, organization=organization)
    if membership is None:
        raise Http404
    if not membership.may(Capability.EDIT_CAMPAIGNS):
        raise PermissionDenied
    return organization


def _campaign(
    request: HttpRequest, organization: str, kind: str, pk: int
) -> tuple[Organization, DraftKind, Any]:
    found = _organization_for(request, organization)
    draft_kind = draft_kind_get(kind)
    campaign = selectors.campaign_for_editor(kind=draft_kind, organization=found, pk=pk)
    return found, draft_kind, campaign


def _back(organization: Organization, kind: DraftKind, campaign: ReviewedCampaign) -> HttpResponse:
    return redirect(
        "drafting:campaign", organization=organization.slug, kind=kind.name, pk=campaign.pk
    )


def _refused(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _preview(kind: DraftKind, campaign: Any) -> list[dict[str, Any]]:
    """The campaign's texts as its page would show them, in each language that has a title."""
    from django.conf import settings

    shown = []
    for code, language in settings.LANGUAGES:
        title = getattr(campaign, f"title_{code}", "")
        if not title:
            continue
        shown.append(
            {
                "code": code,
                "language": language,
                "title": title,
                "summary": getattr(campaign, f"summary_{code}", ""),
                "html": [
                    markdown_render(getattr(campaign, f"{name}_{code}", "") or "")
                    for name in kind.markdown_fields
                ],
            }
        )
    return shown


@require_safe
@never_cache
@login_required
def workspace(request: HttpRequest, organization: str) -> HttpResponse:
    found = _organization_for(request, organization)
    context = {
        "organization": found,
        "campaigns": selectors.workspace_campaigns(organization=found),
        "invitations": selectors.invitations_received(organization=found),
        "kinds": [draft_kind_get(name) for name in ("petition", "letter")],
    }
    return render(request, "drafting/list.html", context)


def _form_page(
    request: HttpRequest,
    *,
    organization: Organization,
    kind: DraftKind,
    form: Any,
    campaign: Any = None,
    preview: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "organization": organization,
        "kind": kind,
        "form": form,
        "campaign": campaign,
        "preview": preview,
    }
    if campaign is not None:
        context.update(_campaign_context(request, organization, kind, campaign))
    template = "drafting/campaign.html" if campaign is not None else "drafting/new.html"
    return render(request, template, context, status=status)


def _campaign_context(
    request: HttpRequest, organization: Organization, kind: DraftKind, campaign: Any
) -> dict[str, Any]:
    query = request.GET.get("q", "")[:100]
    editable = campaign.review in EDITABLE
    lead = campaign.organization_id == organization.pk
    return {
        "editable": editable,
        "lead": lead,
        "targets": list(campaign.targets.order_by("title")),
        "query": query,
        "results": selectors.directory_search(organization=organization, query=query)
        if editable
        else [],
        "partners": list(kind.partners(campaign)),
        "invitations": selectors.invitations_sent(kind=kind, campaign=campaign),
        "invite_form": InvitationForm(
            organizations=selectors.organizations_invitable(kind=kind, campaign=campaign)
        )
        if lead and editable
        else None,
        "versions": selectors.versions_of(kind=kind, campaign=campaign, limit=5),
        "shown": _preview(kind, campaign),
        "updates": list(campaign.updates.filter(organization__isnull=False).order_by("-created_at"))
        if isinstance(campaign, Petition)
        else [],
    }


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def campaign_new(request: HttpRequest, organization: str, kind: str) -> HttpResponse:
    found = _organization_for(request, organization)
    draft_kind = draft_kind_get(kind)
    if not found.is_verified:
        messages.error(request, str(services.NOT_VERIFIED))
        return redirect("drafting:list", organization=found.slug)
    if request.method != "POST":
        return _form_page(request, organization=found, kind=draft_kind, form=draft_kind.form())
    return _draft_post(request, organization=found, kind=draft_kind)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def campaign_page(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    if request.method != "POST":
        form = draft_kind.form(instance=campaign) if campaign.review in EDITABLE else None
        return _form_page(
            request, organization=found, kind=draft_kind, form=form, campaign=campaign
        )
    return _draft_post(request, organization=found, kind=draft_kind, campaign=campaign)


def _draft_post(
    request: HttpRequest, *, organization: Organization, kind: DraftKind, campaign: Any = None
) -> HttpResponse:
    """The draft form sent: shown again with its errors, or with its preview (nothing saved),
    or saved as a new draft or a new version of one."""
    form = kind.form(request.POST, instance=campaign)
    page = functools.partial(
        _form_page, request, organization=organization, kind=kind, form=form, campaign=campaign
    )
    if not form.is_valid():
        return page(status=400)
    if "preview" in request.POST:
        return page(preview=_preview(kind, form.instance))
    user = user_logged_in(request=request)
    try:
        if campaign is None:
            campaign = services.draft_create(
                kind=kind, campaign=form.save(commit=False), organization=organization, user=user
            )
            message = _("Draft saved. Add its targets and partners, then submit it.")
        else:
            changed = services.draft_save(
                kind=kind, campaign=form.save(commit=False), organization=organization, user=user
            )
            message = _("Draft saved.") if changed else _("Nothing had changed.")
    except ValidationError as error:
        form.add_error(None, error)
        if campaign is None:
            return page(status=400)
        # The page around the form shows the draft as stored, not as the form changed it.
        stored = selectors.campaign_for_editor(kind=kind, organization=organization, pk=campaign.pk)
        return page(campaign=stored, status=409)
    messages.success(request, message)
    return _back(organization, kind, campaign)


@require_POST
@login_required
def campaign_submit(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    try:
        services.draft_submit(
            kind=draft_kind,
            campaign_id=campaign.pk,
            organization=found,
            user=user_logged_in(request=request),
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Submitted. Our staff will review it; we email you then."))
    return _back(found, draft_kind, campaign)


@require_POST
@login_required
def campaign_targets(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    try:
        add = int(request.POST["add"]) if request.POST.get("add") else None
        remove = int(request.POST["remove"]) if request.POST.get("remove") else None
    except ValueError:
        add = remove = None
    if add is None and remove is None:
        messages.error(request, _("Choose an official from the directory."))
        return _back(found, draft_kind, campaign)
    try:
        services.draft_targets_change(
            kind=draft_kind,
            campaign_id=campaign.pk,
            organization=found,
            user=user_logged_in(request=request),
            add=add,
            remove=remove,
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Targets changed."))
    return _back(found, draft_kind, campaign)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def target_propose(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    form = TargetProposalForm(request.POST or None)
    context = {"organization": found, "kind": draft_kind, "campaign": campaign, "form": form}
    if request.method != "POST":
        return render(request, "drafting/propose_target.html", context)
    if not form.is_valid():
        return render(request, "drafting/propose_target.html", context, status=400)
    try:
        services.target_propose(
            kind=draft_kind,
            campaign_id=campaign.pk,
            organization=found,
            user=user_logged_in(request=request),
            target=form.save(commit=False),
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, "drafting/propose_target.html", context, status=400)
    messages.success(
        request, _("Official proposed and added to the draft. Our staff confirm it on review.")
    )
    return _back(found, draft_kind, campaign)


@require_POST
@login_required
def campaign_invite(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    if campaign.organization_id != found.pk:
        raise PermissionDenied  # co-leads write; the drafting organization invites
    form = InvitationForm(
        request.POST,
        organizations=selectors.organizations_invitable(kind=draft_kind, campaign=campaign),
    )
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return _back(found, draft_kind, campaign)
    try:
        invitation = services.invitation_create(
            kind=draft_kind,
            campaign_id=campaign.pk,
            organization=found,
            invited=form.cleaned_data["organization"],
            role=form.cleaned_data["role"],
            user=user_logged_in(request=request),
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("%(name)s is invited. We email its people.") % {"name": invitation.organization},
        )
    return _back(found, draft_kind, campaign)


@require_POST
@login_required
def invitation_answer(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    found = _organization_for(request, organization)
    draft_kind = draft_kind_get(kind)
    invitation = draft_kind.invitation_model._default_manager.filter(
        pk=pk, organization=found
    ).first()
    if invitation is None:
        raise Http404
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        messages.error(request, _("Choose to accept or to decline."))
        return redirect("drafting:list", organization=found.slug)
    try:
        services.invitation_decide(
            kind=draft_kind,
            invitation_id=invitation.pk,
            organization=found,
            user=user_logged_in(request=request),
            accept=answer == "accept",
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        if answer == "accept":
            role = CampaignInvitation.Role(invitation.role).label
            messages.success(
                request,
                _("Accepted: your organization is now a %(role)s of “%(title)s”.")
                % {"role": str(role).lower(), "title": invitation.campaign.title},
            )
        else:
            messages.success(request, _("Declined. We told the organization that invited you."))
    return redirect("drafting:list", organization=found.slug)


@require_safe
@never_cache
@login_required
def campaign_history(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    before = request.GET.get("before", "")
    versions = selectors.versions_of(
        kind=draft_kind,
        campaign=campaign,
        limit=HISTORY_PAGE + 1,
        before=int(before) if before.isdigit() and len(before) < 10 else None,
    )
    context = {
        "organization": found,
        "kind": draft_kind,
        "campaign": campaign,
        "versions": versions[:HISTORY_PAGE],
        # The number to go on from, when there are older versions than this page shows.
        "older": versions[HISTORY_PAGE - 1].version.number
        if len(versions) > HISTORY_PAGE
        else None,
    }
    return render(request, "drafting/history.html", context)


@require_safe
@never_cache
@login_required
def campaign_version(
    request: HttpRequest, organization: str, kind: str, pk: int, number: int
) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    version = selectors.version_get(kind=draft_kind, campaign=campaign, number=number)
    rows = selectors.version_rows(kind=draft_kind, version=version)
    context = {
        "organization": found,
        "kind": draft_kind,
        "campaign": campaign,
        "version": version,
        "rows": rows,
    }
    return render(request, "drafting/version.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def update_new(request: HttpRequest, organization: str, pk: int) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, "petition", pk)
    form = UpdateForm(request.POST or None)
    context: dict[str, Any] = {
        "organization": found,
        "kind": draft_kind,
        "campaign": campaign,
        "form": form,
        "trusted": found.trusted,
    }
    if request.method != "POST":
        return render(request, "drafting/update_new.html", context)
    if not form.is_valid():
        return render(request, "drafting/update_new.html", context, status=400)
    if "preview" in request.POST:
        context["preview"] = [
            (code, language, markdown_render(form.cleaned_data.get(f"body_{code}") or ""))
            for code, language in (("en", _("English")), ("it", _("Italian")))
            if form.cleaned_data.get(f"body_{code}")
        ]
        return render(request, "drafting/update_new.html", context)
    try:
        update = services.update_submit(
            petition_id=campaign.pk,
            organization=found,
            user=user_logged_in(request=request),
            update=form.save(commit=False),
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, "drafting/update_new.html", context, status=400)
    if update.published_at:
        messages.success(request, _("Update published and on its way to signers."))
    else:
        messages.success(request, _("Update sent to our staff for review. We email you then."))
    return _back(found, draft_kind, campaign)
