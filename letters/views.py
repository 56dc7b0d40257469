from __future__ import annotations

import csv
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from accounts.selectors import user_logged_in
from accounts.two_factor import staff_verified
from letters import selectors, services
from letters.forms import (
    CosignForm,
    DecisionForm,
    IndividualConfirmForm,
    IndividualSignatureForm,
)
from letters.models import IndividualSignature, OpenLetter, OrganizationSignature, Statement
from letters.share_cards import letter_share_card
from mechanisms.admission import busy_when_overloaded
from mechanisms.sharing import share_links
from mechanisms.signing import sign_post
from mechanisms.spreadsheet import csv_cell
from mechanisms.tokens import TokenExpired, TokenInvalid
from mechanisms.web_urls import web_url_or_blank


def _letter(request: HttpRequest, slug: str) -> OpenLetter:
    return selectors.letter_get_public(slug=slug, preview=staff_verified(request.user))


def _individual_form(letter: OpenLetter, data: object = None) -> IndividualSignatureForm:
    action = reverse("letters:sign", kwargs={"slug": letter.slug})
    return IndividualSignatureForm(data, letter=letter, action=action)


def _detail(
    request: HttpRequest,
    letter: OpenLetter,
    *,
    form: IndividualSignatureForm | None = None,
    status: int = 200,
    rate_limit_message: str = "",
) -> HttpResponse:
    url = f"{settings.SITE_URL}{letter.get_absolute_url()}"
    organizations = selectors.letter_organizations_public(letter=letter)
    individuals = selectors.letter_individuals_public(letter=letter)
    context = {
        "letter": letter,
        "organizations": organizations,
        "individuals": individuals,
        "statements": selectors.letter_statements_public(letter=letter),
        "updates": selectors.letter_updates(letter=letter),
        "withdrawals": selectors.letter_withdrawals(letter=letter),
        "own_signatures": selectors.signatures_of_user(letter=letter, user=request.user),
        "leads": isinstance(request.user, User)
        and services.user_leads(user=request.user, letter=letter),
        "form": form or (_individual_form(letter) if letter.individuals_may_sign else None),
        "canonical_url": url,
        "share_links": share_links(title=letter.title, url=url),
        "share_card": letter_share_card(letter=letter, count=len(organizations)),
        "preview": letter.status == OpenLetter.Status.DRAFT,
        "rate_limit_message": rate_limit_message,
    }
    return render(request, "letters/detail.html", context, status=status)


@require_safe
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, _letter(request, slug))


@require_POST
@busy_when_overloaded
def individual_sign(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_get_public(slug=slug)
    if not (letter.individuals_may_sign and letter.accepts_signatures):
        # Before the form: a letter closed to individuals shows none.
        return _detail(request, letter, status=409)
    form = _individual_form(letter, request.POST)
    return sign_post(
        request,
        form=form,
        action="letter_sign",
        campaign_kind="letter",
        campaign_id=letter.pk,
        accepting=letter.accepts_signatures,
        # A letter signed by one employer's staff expects a crowd from its domains.
        trusted_domains=letter.required_domains,
        create=partial(
            services.individual_signature_create, letter=letter, language=request.LANGUAGE_CODE
        ),
        closed=(services.LetterNotOpen,),
        refused=partial(_detail, request, letter, form=form),
        done_url=reverse("letters:check_inbox", kwargs={"slug": letter.slug}),
        title=letter.title,
    )


@require_safe
def individual_check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_get_public(slug=slug)
    return render(request, "letters/check_inbox.html", {"letter": letter})


@require_http_methods(["GET", "POST"])
def individual_confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows one button (mail scanners follow links); POST confirms."""
    letter = selectors.letter_get_public(slug=slug)
    try:
        signature = selectors.individual_from_token(letter=letter, token=token)
    except (TokenInvalid, TokenExpired) as problem:
        context = {"letter": letter, "expired": isinstance(problem, TokenExpired)}
        return render(request, "letters/link_problem.html", context, status=400)
    form = IndividualConfirmForm(
        request.POST if request.method == "POST" else None,
        letter=letter,
        initial={"name": signature.name, "withhold_name": signature.withhold_name},
    )
    status = 200
    if request.method == "POST" and signature.status == signature.Status.PENDING:
        if form.is_valid():
            try:
                signature = services.individual_signature_confirm(
                    signature_id=signature.pk,
                    name=form.cleaned_data["name"],
                    withhold_name=form.cleaned_data.get("withhold_name", False),
                )
            except services.LetterNotOpen:
                status = 409
            except IndividualSignature.DoesNotExist:
                # Withdrawn (or deleted by retention) between the link check and the confirmation.
                context = {"letter": letter, "expired": False}
                return render(request, "letters/link_problem.html", context, status=400)
        else:
            status = 400
    context = {"letter": letter, "signature": signature, "form": form}
    return render(request, "letters/confirm.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def letter_cosign(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_get_public(slug=slug)
    action = reverse("letters:cosign", kwargs={"slug": letter.slug})
    user = user_logged_in(request=request)
    form = CosignForm(request.POST or None, user=user, action=action)
    status = 200
    if not letter.accepts_signatures:
        status = 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                signature = services.letter_cosign(
                    letter=letter,
                    organization=data["organization"],
                    user=user,
                    speaker_name=data["speaker_name"],
                    speaker_title=data["speaker_title"],
                    statement=data["statement"],
                )
            except services.AlreadySigned:
                form.add_error(
                    "organization",
                    _("This organization has already signed this letter. See it on the letter."),
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    target = "statement" if field == "text" else field
                    form.add_error(target if target in form.fields else None, errors)
            else:
                messages.success(request, _cosign_message(signature))
                return redirect(letter.get_absolute_url())
    context = {
        "letter": letter,
        "form": form,
        "has_organizations": form.organizations.exists(),
    }
    return render(request, "letters/cosign.html", context, status=status)


def _cosign_message(signature: OrganizationSignature) -> str:
    if not signature.organization.is_verified:
        return _(
            "Thank you. %(org)s will appear on the letter once Cosign's staff have verified it."
        ) % {"org": signature.organization}
    if signature.status == OrganizationSignature.Status.APPROVED:
        return _("%(org)s has signed the letter.") % {"org": signature.organization}
    return _(
        "Thank you. %(org)s will appear on the letter once the lead organizations approve it."
    ) % {"org": signature.organization}


@login_required
@require_safe
def letter_manage(request: HttpRequest, slug: str) -> HttpResponse:
    """The lead organizations' queue of co-signatures and statements to approve."""
    letter = _letter(request, slug)
    if not services.user_leads(user=user_logged_in(request=request), letter=letter):
        raise Http404
    signatures, statements = selectors.letter_pending(letter=letter)
    context = {"letter": letter, "signatures": signatures, "statements": statements}
    return render(request, "letters/manage.html", context)


def _decide(request: HttpRequest, slug: str, decide, **ids: int) -> HttpResponse:
    letter = _letter(request, slug)
    form = DecisionForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        decide(user=request.user, approve=approve, reason=reason, **ids)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Approved.") if approve else _("Rejected."))
    return redirect("letters:manage", slug=letter.slug)


@login_required
@require_POST
def cosignature_decide(request: HttpRequest, slug: str, signature_id: int) -> HttpResponse:
    if not OrganizationSignature.objects.filter(pk=signature_id, letter__slug=slug).exists():
        raise Http404
    return _decide(request, slug, services.cosignature_decide, signature_id=signature_id)


@login_required
@require_POST
def statement_decide(request: HttpRequest, slug: str, statement_id: int) -> HttpResponse:
    if not Statement.objects.filter(pk=statement_id, signature__letter__slug=slug).exists():
        raise Http404
    return _decide(request, slug, services.statement_decide, statement_id=statement_id)


@login_required
@require_POST
def cosignature_withdraw(request: HttpRequest, slug: str, signature_id: int) -> HttpResponse:
    signature = OrganizationSignature.objects.filter(pk=signature_id, letter__slug=slug).first()
    if signature is None:
        raise Http404
    try:
        services.cosignature_withdraw(
            signature_id=signature.pk, user=user_logged_in(request=request)
        )
    except PermissionDenied:
        raise Http404 from None
    messages.success(
        request,
        _("%(org)s has withdrawn its signature; the letter's history says so.")
        % {"org": signature.organization},
    )
    return redirect("letters:detail", slug=slug)


def _press_text(request: HttpRequest, letter: OpenLetter, release: object) -> str:
    return render_to_string(
        "letters/press_release.txt", {"release": release, "letter": letter}, request=request
    )


@require_safe
def letter_press(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter(request, slug)
    release = selectors.press_release(letter=letter)
    # The text version is rendered unescaped, as text, so the page must escape it (force_escape:
    # render_to_string marks its output safe).
    context = {
        "release": release,
        "letter": letter,
        "press_text": _press_text(request, letter, release),
    }
    return render(request, "letters/press.html", context)


@require_safe
def letter_press_text(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter(request, slug)
    text = _press_text(request, letter, selectors.press_release(letter=letter))
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@require_safe
def letter_organizations_csv(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(letter.slug)}-organizations.csv"'
    )
    # Every cell quoted, so a ";" in a name never splits it into a new cell (and formula) in a
    # spreadsheet whose list separator is ";"; csv_cell guards each cell's start.
    writer = csv.writer(response, quoting=csv.QUOTE_ALL)
    writer.writerow([_("Organization"), _("Website"), _("Lead"), _("Signed on")])
    for row in selectors.letter_organizations_public(letter=letter):
        writer.writerow(
            [
                csv_cell(row.organization.name),
                # Spreadsheets make a link of it: only ever the normalized address.
                csv_cell(web_url_or_blank(row.organization.website)),
                _("yes") if row.is_lead else "",
                row.signature.created_at.date().isoformat(),
            ]
        )
    return response
