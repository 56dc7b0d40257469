from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Organization
from accounts.two_factor import staff_verified
from mechanisms.abuse import rate_limits
from mechanisms.admission import busy_when_overloaded
from mechanisms.page_cache import page_cached
from mechanisms.sharing import embed_code, share_links
from mechanisms.signing import sign_post
from mechanisms.tokens import TokenExpired, TokenInvalid
from petitions import pictures, routing, selectors, services
from petitions.forms import SOURCE_SLUG, ConfirmForm, NewLinkForm, SignatureForm
from petitions.models import Petition, Signature
from petitions.services import campaigns
from petitions.share_cards import petition_share_card


def _sign_form(
    petition: Petition,
    data: object = None,
    *,
    sponsors: Sequence[Organization] = (),
    source: str = "",
) -> SignatureForm:
    return SignatureForm(
        data,
        action=reverse("petitions:sign", kwargs={"slug": petition.slug}),
        petition=petition,
        sponsors=sponsors,
        source=source,
    )


def _opt_in_sponsors(petition: Petition) -> list[Organization]:
    # Read only for petitions that offer the opt-in: the sign POST is the hot path.
    return list(petition.sponsors.all()) if petition.offer_sponsor_opt_in else []


def _new_link_form(petition: Petition, data: object = None, *, email: str = "") -> NewLinkForm:
    return NewLinkForm(
        data,
        action=reverse("petitions:new_link", kwargs={"slug": petition.slug}),
        initial={"email": email},
    )


# The address someone just signed with, kept by their own browser (a signed cookie sent only to
# the petition's new-link page) so that asking for another link from "Check your inbox" does not
# make them type it again (WCAG 3.3.7 Redundant Entry). The server keeps nothing. On a shared
# computer it would say who signed: so it lives only until the browser closes (and an hour at
# most, checked on reading), goes once a new link was asked for, and the page it fills is never
# cached.
SIGNED_WITH_COOKIE = "signed_with"
_SIGNED_WITH_SALT = "petitions.new_link"
_SIGNED_WITH_SECONDS = 3600


def _signed_with_remember(response: HttpResponse, *, petition: Petition, email: str) -> None:
    response.set_signed_cookie(
        SIGNED_WITH_COOKIE,
        email,
        salt=_SIGNED_WITH_SALT,
        path=_signed_with_path(petition),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _signed_with_path(petition: Petition) -> str:
    return reverse("petitions:new_link", kwargs={"slug": petition.slug})


def _signed_with(request: HttpRequest) -> str:
    return str(
        request.get_signed_cookie(
            SIGNED_WITH_COOKIE, default="", salt=_SIGNED_WITH_SALT, max_age=_SIGNED_WITH_SECONDS
        )
    )


def _detail(
    request: HttpRequest,
    petition: Petition,
    *,
    form: SignatureForm | None = None,
    status: int = 200,
    rate_limit_message: str = "",
    source: str = "",
) -> HttpResponse:
    sponsors = list(petition.sponsors.all())
    # Canonical and shared links use SITE_URL, never the request's Host header.
    url = f"{settings.SITE_URL}{petition.get_absolute_url()}"
    context = {
        "petition": petition,
        "form": form or _sign_form(petition, sponsors=sponsors, source=source),
        "accepting": petition.is_accepting_signatures(),
        "sponsors": sponsors,
        "recent_signatures": selectors.signatures_recent_public(petition=petition),
        "updates": selectors.petition_updates_published(petition=petition),
        "deliveries": selectors.deliveries_sent(petition=petition),
        "responses": selectors.responses_published(petition=petition),
        "target_counts": routing.target_counts(
            petition=petition, targets=list(petition.targets.filter(active=True))
        ),
        "canonical_url": url,
        "share_links": share_links(title=petition.title, url=url),
        "share_card": petition_share_card(petition=petition),
        "embed_code": embed_code(
            widget_url=f"{settings.SITE_URL}{reverse('petitions:embed', args=[petition.slug])}",
            title=petition.title,
        ),
        "preview": petition.status == Petition.Status.DRAFT,
        "rate_limit_message": rate_limit_message,
        "pictures_html": pictures.petition_pictures_html(petition=petition),
    }
    return render(request, "petitions/detail.html", context, status=status)


@require_safe
def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    source = request.GET.get("source", "")
    if source and SOURCE_SLUG.fullmatch(source):
        # Tools that add `?source=` to links (as Action Network's do) reach the sponsor's own
        # link, whose page every reader through it shares from the cache.
        return redirect("petitions:detail_from", slug=slug, source=source)

    def render_page() -> HttpResponse:
        # Staff see drafts, marked as a preview, to check them before they open.
        preview = staff_verified(request.user)
        return _detail(request, selectors.petition_get_public(slug=slug, preview=preview))

    # Readers of a viral petition refresh it: anonymous ones share a copy a few seconds old.
    return page_cached(request, render=render_page)


@require_safe
def petition_detail_from(request: HttpRequest, slug: str, source: str) -> HttpResponse:
    """The petition through a sponsor's share link: the same page, whose sign form carries the
    sponsor's slug, so that the signatures it brings count on that sponsor's dashboard. The
    link's source is in the path, not a cookie: nothing follows the reader elsewhere."""

    def render_page() -> HttpResponse:
        preview = staff_verified(request.user)
        petition = selectors.petition_get_public(slug=slug, preview=preview)
        if not petition.sponsors.filter(slug=source).exists():
            # No longer (or never) a sponsor: the petition itself, without a source.
            return redirect(petition)
        return _detail(request, petition, source=source)

    return page_cached(request, render=render_page)


@require_POST
@busy_when_overloaded
def signature_create(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_get_for_signing(slug=slug)
    form = _sign_form(petition, request.POST, sponsors=_opt_in_sponsors(petition))
    response = sign_post(
        request,
        form=form,
        action="sign",
        campaign_kind="petition",
        campaign_id=petition.pk,
        accepting=petition.is_accepting_signatures(),
        # Set by LocaleMiddleware from the URL prefix, always one of LANGUAGES.
        create=partial(
            services.signature_create, petition=petition, language=request.LANGUAGE_CODE
        ),
        closed=(services.PetitionNotOpen,),
        refused=partial(_detail, request, petition, form=form),
        done_url=reverse("petitions:check_inbox", kwargs={"slug": petition.slug}),
        title=petition.title,
    )
    # Only on the way to "Check your inbox", which every valid form gets alike.
    if response.status_code == 302 and form.is_valid():
        _signed_with_remember(response, petition=petition, email=form.cleaned_data["email"])
    return response


@require_safe
def signature_check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_get_for_signing(slug=slug)
    return render(request, "petitions/check_inbox.html", {"petition": petition})


@require_http_methods(["GET", "POST"])
def signature_confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows one button and changes nothing (mail scanners follow links); POST confirms."""
    petition = selectors.petition_get_public(slug=slug)
    try:
        signature = selectors.signature_from_token(petition=petition, token=token)
    except TokenExpired:
        return _link_problem(request, petition, token=token, expired=True)
    except TokenInvalid:
        return _link_problem(request, petition, token=token, expired=False)

    if signature.status == Signature.Status.REJECTED:
        # Removed by a moderator: the link no longer stands for a signature we will count.
        return _link_problem(request, petition, token=token, expired=False)
    if request.method == "GET" or signature.status == Signature.Status.CONFIRMED:
        form = ConfirmForm(initial={"name": signature.name, "display": signature.display})
        return _confirm_page(request, petition, signature, form)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return _confirm_page(request, petition, signature, form, status=400)
    try:
        signature = services.signature_confirm(signature_id=signature.pk, **form.cleaned_data)
    except services.PetitionNotOpen:
        return render(request, "petitions/confirm_closed.html", {"petition": petition}, status=409)
    except Signature.DoesNotExist:
        # Withdrawn while this was being posted: the link stands for nothing any more.
        return _link_problem(request, petition, token=token, expired=False)
    context = {
        "petition": petition,
        "signature": signature,
        "area_count": routing.area_count(signature=signature),
    }
    return render(request, "petitions/confirmed.html", context)


def _confirm_page(
    request: HttpRequest,
    petition: Petition,
    signature: Signature,
    form: ConfirmForm,
    *,
    status: int = 200,
) -> HttpResponse:
    context = {"petition": petition, "signature": signature, "form": form}
    return render(request, "petitions/confirm.html", context, status=status)


def _link_problem(
    request: HttpRequest,
    petition: Petition,
    *,
    token: str,
    expired: bool,
    rate_limited: bool = False,
) -> HttpResponse:
    context = {
        "petition": petition,
        "expired": expired,
        "token": token,
        "form": _new_link_form(petition),
        # The one-click renewal's refusal, shown where the person clicked.
        "rate_limit_message": rate_limits.rate_limit_message("new_link") if rate_limited else "",
    }
    status = 429 if rate_limited else 400
    return render(request, "petitions/link_problem.html", context, status=status)


@require_POST
def signature_renew(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """One click from an expired link's page: mail a fresh link to the address it was sent to."""
    petition = selectors.petition_get_public(slug=slug)
    if rate_limits.rate_limited(request, action="new_link"):
        return _link_problem(request, petition, token=token, expired=True, rate_limited=True)
    try:
        selectors.signature_from_token(petition=petition, token=token)
    except TokenExpired as expired:
        # A genuine link, only expired: the one kind of renewal the shared budgets count.
        if rate_limits.submission_rate_limited(request, action="new_link", scope=str(petition.pk)):
            return _link_problem(request, petition, token=token, expired=True, rate_limited=True)
        services.signature_notice_request(signature=expired.value)
    except TokenInvalid:
        return _link_problem(request, petition, token=token, expired=False)
    return redirect("petitions:check_inbox", slug=petition.slug)


@require_http_methods(["GET", "POST"])
def signature_new_link(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_get_public(slug=slug)
    form = _new_link_form(
        petition, request.POST if request.method == "POST" else None, email=_signed_with(request)
    )
    rate_limit_message = ""
    if request.method == "POST" and (
        rate_limits.rate_limited(request, action="new_link")
        or (
            form.is_valid()
            and rate_limits.submission_rate_limited(
                request, action="new_link", scope=str(petition.pk)
            )
        )
    ):
        rate_limit_message = rate_limits.rate_limit_message("new_link")
        status = 429
    elif request.method == "POST" and form.is_valid():
        services.signature_new_link_request(
            petition=petition, email=form.cleaned_data["email"], language=request.LANGUAGE_CODE
        )
        asked = redirect("petitions:check_inbox", slug=petition.slug)
        asked.delete_cookie(SIGNED_WITH_COOKIE, path=_signed_with_path(petition))
        return asked
    else:
        status = 400 if form.is_bound else 200
    context = {"petition": petition, "form": form, "rate_limit_message": rate_limit_message}
    response = render(request, "petitions/new_link.html", context, status=status)
    if SIGNED_WITH_COOKIE in request.COOKIES:
        add_never_cache_headers(response)
    return response


# RFC 8058: a mail program's one-click unsubscribe POSTs to the link with no CSRF token; the
# signed token in the address is what authorizes the change.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def signature_unsubscribe(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links), POST unsubscribes; no login either way."""
    petition = selectors.petition_get_public(slug=slug)
    try:
        signature = selectors.signature_from_unsubscribe_token(petition=petition, token=token)
    except TokenInvalid:
        return render(
            request, "petitions/unsubscribe_invalid.html", {"petition": petition}, status=400
        )
    if request.method == "POST":
        campaigns.signature_unsubscribe(signature_id=signature.pk)
        return render(request, "petitions/unsubscribed.html", {"petition": petition})
    return render(request, "petitions/unsubscribe.html", {"petition": petition})


# The one page other sites may frame: campaigners put the widget on their own pages. It shows
# only what the public page shows, takes no input, and its Sign link opens our page in a new tab,
# so a framing site cannot overlay a form of ours (the reason every other page refuses frames).
@xframe_options_exempt
# django-csp types its decorators for views without URL arguments; its wrapper passes them on.
@csp_replace({"frame-ancestors": ["*"]})  # type: ignore[arg-type]
@require_safe
def petition_embed(request: HttpRequest, slug: str) -> HttpResponse:
    def render_widget() -> HttpResponse:
        petition = selectors.petition_get_public(slug=slug)
        context = {
            "petition": petition,
            "petition_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
            "accepting": petition.is_accepting_signatures(),
        }
        return render(request, "petitions/embed.html", context)

    # Embedded on campaigners' sites, every reader of theirs loads it too.
    return page_cached(request, render=render_widget)
