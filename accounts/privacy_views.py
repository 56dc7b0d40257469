"""Self-service for signers, who have no account: ask for a link by email, then see every
signature we hold for that address, download it as JSON, or withdraw some or all of it.

The request page says the same thing whether or not the address has signed anything, and only
queues a task: the lookup and the email happen in the worker, so neither the words nor the
response time tell a visitor whether someone signed.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import my_signatures, services
from accounts.my_signatures import LinkOwner
from accounts.privacy_emails import MY_SIGNATURES_TOKEN_PURPOSE
from accounts.privacy_forms import MySignaturesForm
from mechanisms import personal_data
from mechanisms.abuse.rate_limits import rate_limit_message, rate_limited, submission_rate_limited
from mechanisms.tokens import TokenExpired, TokenInvalid, token_read

logger = logging.getLogger(__name__)

RATE_LIMIT_ACTION = "my_data"


def _request_page(request: HttpRequest, form: MySignaturesForm, *, status: int) -> HttpResponse:
    return render(
        request,
        "accounts/my_signatures.html",
        {
            "form": form,
            "limit_message": rate_limit_message(RATE_LIMIT_ACTION) if status == 429 else "",
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def my_signatures_request(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _request_page(request, MySignaturesForm(), status=200)
    form = MySignaturesForm(request.POST)
    if rate_limited(request, action=RATE_LIMIT_ACTION):
        return _request_page(request, form, status=429)
    if not form.is_valid():
        return _request_page(request, form, status=400)
    # The site-wide budget counts only what passed validation: empty posts cannot spend it.
    if submission_rate_limited(request, action=RATE_LIMIT_ACTION):
        return _request_page(request, form, status=429)
    services.my_signatures_link_request(
        email=form.cleaned_data["email"], language=request.LANGUAGE_CODE
    )
    return redirect("accounts:my_signatures_sent")


@require_safe
def my_signatures_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/my_signatures_sent.html")


class _LinkProblem(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _link_problem(request: HttpRequest, *, token: str, expired: bool) -> HttpResponse:
    context = {"expired": expired, "token": token, "form": MySignaturesForm()}
    return render(request, "accounts/my_signatures_link_problem.html", context, status=400)


def _owner(request: HttpRequest, token: str) -> LinkOwner | None:
    """Whose signatures the link shows; None when none are left (all withdrawn)."""
    try:
        refs = token_read(
            purpose=MY_SIGNATURES_TOKEN_PURPOSE,
            token=token,
            max_age=settings.MY_SIGNATURES_LINK_MAX_AGE,
        )
    except TokenExpired:
        raise _LinkProblem(_link_problem(request, token=token, expired=True)) from None
    except TokenInvalid:
        raise _LinkProblem(_link_problem(request, token=token, expired=False)) from None
    return my_signatures.link_owner(refs=refs)


def _records(owner: LinkOwner | None) -> list[personal_data.PersonalRecord]:
    if owner is None:
        return []
    return personal_data.personal_records_list(canonical_email=owner.canonical_email)


# Each page behind the link shows personal data: no shared cache or browser cache keeps it.
@never_cache
@require_safe
def my_signatures_list(request: HttpRequest, token: str) -> HttpResponse:
    try:
        owner = _owner(request, token)
    except _LinkProblem as problem:
        return problem.response
    context = {"token": token, "records": _records(owner)}
    return render(request, "accounts/my_signatures_list.html", context)


@never_cache
@require_safe
def my_signatures_download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        owner = _owner(request, token)
    except _LinkProblem as problem:
        return problem.response
    data = (
        personal_data.personal_data_export(canonical_email=owner.canonical_email)
        if owner
        else {"exported_at": timezone.now().isoformat(), "site": settings.SITE_URL, "records": []}
    )
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="cosign-my-signatures.json"'
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def my_signatures_withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks which (one signature, or all) and changes nothing; POST withdraws."""
    try:
        owner = _owner(request, token)
    except _LinkProblem as problem:
        return problem.response
    params = request.POST if request.method == "POST" else request.GET
    everything = params.get("all") == "1"
    ref = params.get("record", "")
    if request.method == "POST":
        try:
            withdrawn = (
                personal_data.personal_records_withdraw(
                    canonical_email=owner.canonical_email, refs=None if everything else [ref]
                )
                if owner
                else 0
            )
        except personal_data.UnknownRecord:
            withdrawn = 0
        if withdrawn:
            messages.success(
                request,
                ngettext(
                    "Your signature was withdrawn and its personal data deleted.",
                    "%(count)d signatures were withdrawn and their personal data deleted.",
                    withdrawn,
                )
                % {"count": withdrawn},
            )
        else:
            messages.info(request, _("There was nothing to withdraw: it is already gone."))
        return redirect("accounts:my_signatures_list", token=token)
    records = _records(owner)
    chosen = records if everything else [record for record in records if record.ref == ref]
    if not chosen:
        raise Http404
    context = {"token": token, "records": chosen, "everything": everything, "ref": ref}
    return render(request, "accounts/my_signatures_withdraw.html", context)


@require_POST
def my_signatures_renew(request: HttpRequest, token: str) -> HttpResponse:
    """One click from an expired link's page: a fresh link, to the address that got the old one."""
    try:
        refs = token_read(
            purpose=MY_SIGNATURES_TOKEN_PURPOSE,
            token=token,
            max_age=settings.MY_SIGNATURES_LINK_MAX_AGE,
        )
    except TokenExpired as expired:
        refs = expired.value
    except TokenInvalid:
        return _link_problem(request, token=token, expired=False)
    else:
        # Still valid: nothing to renew.
        return redirect("accounts:my_signatures_list", token=token)
    # A genuine link, only expired: per address, and then the budget everyone shares.
    if rate_limited(request, action=RATE_LIMIT_ACTION) or submission_rate_limited(
        request, action=RATE_LIMIT_ACTION
    ):
        return _request_page(request, MySignaturesForm(), status=429)
    owner = my_signatures.link_owner(refs=refs)
    if owner is not None:
        services.my_signatures_link_request(email=owner.email, language=request.LANGUAGE_CODE)
    return redirect("accounts:my_signatures_sent")
