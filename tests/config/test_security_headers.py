"""Security headers: the Content-Security-Policy on every page Cosign answers (every URL pattern,
walked from config.urls, and the error pages), X-Frame-Options everywhere but the petition
widget, and the transport settings a production environment gets."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.organization_emails import contact_confirmation_token
from letters.emails import CONFIRM_TOKEN_PURPOSE as LETTER_CONFIRM
from mechanisms.outbox import email_enqueue
from mechanisms.tokens import token_make
from petitions.emails import CONFIRM_TOKEN_PURPOSE, CONFIRMATIONS, UNSUBSCRIBE_TOKEN_PURPOSE
from petitions.models import PetitionInvitation, PetitionVersion
from petitions.models.questions import Question
from tests.factories import (
    IndividualSignatureFactory,
    MembershipFactory,
    OpenLetterFactory,
    OrganizationSignatureFactory,
    PendingOrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    StatementFactory,
)

ROOT = Path(__file__).resolve().parents[2]
EMBED = "petitions:embed"


def assert_strict_csp(response, where: str, *, framed_by: str = "'none'") -> None:
    policy = response.get("Content-Security-Policy")
    assert policy, f"{where} answered {response.status_code} without a Content-Security-Policy"
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives.get("script-src") == "'self'", f"{where}: {policy}"
    assert directives.get("style-src") == "'self'", f"{where}: {policy}"
    assert directives.get("default-src") == "'self'", f"{where}: {policy}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, f"{where}: {policy}"
    assert directives.get("frame-ancestors") == framed_by, f"{where}: {policy}"


# --- Walking the URL patterns -----------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    route: str  # the whole pattern, prefixes included, as ResolverMatch.route spells it
    name: str  # "namespace:name", or "" for an unnamed pattern


def _join(prefix: str, pattern: str) -> str:
    # The way Django joins routes in a ResolverMatch: an included regex loses its leading "^".
    return prefix + pattern.removeprefix("^")


def routes(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from routes(entry.url_patterns, _join(prefix, str(entry.pattern)), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield Route(_join(prefix, str(entry.pattern)), name)


_ROUTE_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")


def path_for(route: Route, value_of) -> str:
    """The route with each argument filled in: `<slug:slug>` and `(?P<slug>...)` alike."""
    # Regex groups first: their "<name>" would otherwise read as a route argument.
    path = _REGEX_GROUP.sub(lambda m: value_of(route, m.group(1)), route.route)
    path = _ROUTE_ARGUMENT.sub(lambda m: value_of(route, m.group(1)), path)
    return "/" + path.replace("^", "").replace("$", "")


@dataclass
class World:
    """Real objects for the arguments of every pattern."""

    staff: User
    values: dict[str, str]
    by_route: dict[str, dict[str, str]]

    def __call__(self, route: Route, argument: str) -> str:
        special = self.by_route.get(route.name, {})
        if argument in special:
            return special[argument]
        if argument in ("object_id", "pk", "id"):
            return self._object_id(route)
        if argument == "slug":
            app = route.name.split(":")[0]
            return self.values[f"slug:{app}"]
        # New views get a sample here: a pattern this test cannot fill fails below, by name.
        assert argument in self.values, f"no sample value for <{argument}> in {route}"
        return self.values[argument]

    def _object_id(self, route: Route) -> str:
        # Admin model pages are named admin:<app>_<model>_<view>; unnamed ones sit under
        # admin/<app>/<model>/.
        match = re.match(r"admin/(\w+)/(\w+)/", route.route)
        assert match, f"cannot tell the model of {route}"
        model = apps.get_model(match.group(1), match.group(2))
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        return str(first if first is not None else 0)


@pytest.fixture
def world(db) -> World:
    staff = User.objects.create_superuser("security@cosign.test", "a-long-password")
    petition = PetitionFactory()
    signature = SignatureFactory(petition=petition)
    membership = MembershipFactory(user=staff)
    organization = membership.organization
    petition.sponsors.add(organization)
    letter = OpenLetterFactory(leads=[organization], individuals_may_sign=True)
    cosigned = OrganizationSignatureFactory(letter=letter, organization=organization)
    statement = StatementFactory(signature=cosigned)
    individual = IndividualSignatureFactory(letter=letter)
    pending = PendingOrganizationFactory()
    # A draft of the member's organization, with a version, and an invitation to it.
    draft = PetitionFactory(organization=organization, review="editing", status="draft")
    PetitionVersion.objects.create(campaign=draft, number=1, event="created", content={})
    # A question on the draft's sign form (its workspace page).
    question = Question.objects.create(petition=draft, key="qsample", kind="text", label="Street")
    invitation = PetitionInvitation.objects.create(
        campaign=PetitionFactory(organization=pending, review="editing", status="draft"),
        organization=organization,
        role="co_sponsor",
    )
    # An email in the outbox, so its admin page shows one rather than "not found".
    email_enqueue(
        kind=CONFIRMATIONS.signer,
        to=signature.email,
        language="en",
        about=signature.pk,
        ref={"signature": signature.pk},
        queue=False,
    )
    TOTPDevice.objects.create(user=staff, name="Authenticator app")
    password_token = default_token_generator.make_token(staff)
    confirm = token_make(purpose=CONFIRM_TOKEN_PURPOSE, value=signature.pk)
    return World(
        staff=staff,
        values={
            "slug:petitions": petition.slug,
            "slug:letters": letter.slug,
            "slug:accounts": organization.slug,
            "slug:petition_dashboards": petition.slug,
            "slug:api": petition.slug,
            "slug:letter_dashboards": letter.slug,
            "slug:paper": petition.slug,
            # A sponsor's share link, its workspace and a member's role.
            "source": organization.slug,
            "organization": organization.slug,
            "membership_id": str(membership.pk),
            "petition_id": str(petition.pk),
            "letter_id": str(letter.pk),
            "organization_id": str(organization.pk),
            "signature_id": str(cosigned.pk),
            "statement_id": str(statement.pk),
            "app_label": "petitions",
            "content_type_id": str(ContentType.objects.get_for_model(petition).pk),
            "uidb64": urlsafe_base64_encode(force_bytes(staff.pk)),
            # Links whose tokens come from a service this test does not know: the page that
            # says the link is broken must carry the header just the same.
            "token": "not-a-token",
            "url": "no-such-admin-page/",
            "kind": "petition",
            "token_id": "1",
            "endpoint_id": "1",
            "action": "rotate",
            "delivery_id": "1",
            "number": "1",
            "question_pk": str(question.pk),
            # A share card's count and a stored image's name (mechanisms.share_cards, .media).
            "count": "0",
            "name": "0123456789abcdef0123456789abcdef-480.jpg",
        },
        by_route={
            "petitions:confirm": {"token": confirm},
            "petitions:renew": {"token": confirm},
            "petitions:unsubscribe": {
                "token": token_make(purpose=UNSUBSCRIBE_TOKEN_PURPOSE, value=signature.pk)
            },
            "letters:confirm": {"token": token_make(purpose=LETTER_CONFIRM, value=individual.pk)},
            "letters:withdraw": {"signature_id": str(cosigned.pk)},
            "accounts:organization_confirm": {
                "token": contact_confirmation_token(organization=pending)
            },
            "accounts:password_set": {"token": password_token},
            "admin:view_on_site": {"object_id": str(petition.pk)},
            **{
                f"drafting:{name}": {"pk": str(draft.pk)}
                for name in (
                    "campaign",
                    "submit",
                    "targets",
                    "propose_target",
                    "invite",
                    "history",
                    "version",
                    "update_new",
                    "image",
                )
            },
            "drafting:invitation_answer": {"pk": str(invitation.pk)},
            "drafting:thresholds": {"pk": str(draft.pk)},
            **{
                f"drafting:{name}": {"pk": str(draft.pk)}
                for name in ("questions", "question_change", "question_remove")
            },
            **{f"api:osdi_{name}": {"pk": str(petition.pk)} for name in ("petition", "signatures")},
            "api:osdi_person": {"pk": "1"},
            "api:webhook": {"pk": "1"},
            "api:webhook_again": {"pk": "1"},
            **{
                f"paper:{name}": {"pk": "1", "row": "1"}
                for name in ("batch", "batch_finish", "row_delete")
            },
        },
    )


def _clients(world: World) -> dict[str, Client]:
    staff = Client()
    staff.force_login(world.staff)
    return {"anonymous": Client(), "staff": staff}


def test_every_url_pattern_answers_with_the_strict_csp(world) -> None:
    clients = _clients(world)
    seen = set()
    for route in routes():
        path = path_for(route, world)
        # The sample path must reach the pattern it stands for, not a neighbour.
        assert resolve(path).route == route.route, f"{path} does not resolve to {route}"
        for who, client in clients.items():
            response = client.get(path)
            assert response.status_code < 500, f"{path} as {who}: {response.status_code}"
            where = f"{path} ({route.name or 'unnamed'}) as {who}"
            if route.name == EMBED:
                assert_strict_csp(response, where, framed_by="*")
                assert "X-Frame-Options" not in response, where
            else:
                assert_strict_csp(response, where)
                assert response.get("X-Frame-Options") == "DENY", where
        seen.add(route.name)
    # The walk really covered the site (an empty walk would pass everything above).
    assert {"home", "admin:index", "petitions:detail", EMBED, "letters:detail"} <= seen
    assert len(seen) > 50


def test_the_walk_fills_every_kind_of_pattern() -> None:
    """The path builder itself: route converters, admin regexes and the admin's catch-all."""
    value = lambda route, name: {"slug": "s", "app_label": "petitions", "url": "x/"}[name]  # noqa: E731
    assert path_for(Route("en/p/<slug:slug>/embed/", "x"), value) == "/en/p/s/embed/"
    assert (
        path_for(Route("admin/^(?P<app_label>auth|petitions)/$", "x"), value) == "/admin/petitions/"
    )
    assert path_for(Route("admin/(?P<url>.*)$", ""), value) == "/admin/x/"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/en/no-such-page/", 404),
        ("/en/p/no-such-campaign/", 404),
        ("/en/?topic=astrology", 400),
    ],
)
def test_error_pages_carry_the_csp(client, db, path, status) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert_strict_csp(response, path)
    assert response["X-Frame-Options"] == "DENY"


def test_a_form_only_address_opened_in_a_browser_answers_405_with_the_csp(client, petition):
    response = client.get(f"/en/p/{petition.slug}/sign/")
    assert response.status_code == 405
    assert_strict_csp(response, "405")


def test_a_request_for_another_host_answers_400_with_the_csp(client, db) -> None:
    # Refused before any view runs (ALLOWED_HOSTS), by middleware outside most others.
    response = client.get("/en/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert_strict_csp(response, "bad host")
    assert response["X-Frame-Options"] == "DENY"


def test_the_server_error_page_carries_the_csp(db) -> None:
    client = Client(raise_request_exception=False)
    with mock.patch("config.views.petition_catalog", side_effect=RuntimeError("boom")):
        response = client.get("/en/")
    assert response.status_code == 500
    assert_strict_csp(response, "500")


def test_the_embed_widget_may_be_framed_by_any_site(client, petition, settings) -> None:
    settings.SITE_URL = "https://cosign.example.org"
    response = client.get(f"/en/p/{petition.slug}/embed/")
    assert response.status_code == 200
    assert_strict_csp(response, "embed", framed_by="*")
    assert "X-Frame-Options" not in response
    page = response.content.decode()
    assert petition.title in page
    # The Sign link opens the full page, with its form, on our site in a new tab.
    assert (
        f'href="https://cosign.example.org/en/p/{petition.slug}/" target="_blank" rel="noopener"'
    ) in page
    # The full page itself is never framed.
    detail = client.get(petition.get_absolute_url())
    assert detail["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in detail["Content-Security-Policy"]


def test_the_embed_widget_shows_no_draft(client, db) -> None:
    draft = PetitionFactory(status="draft")
    assert client.get(f"/en/p/{draft.slug}/embed/").status_code == 404


def test_the_petition_page_offers_the_embed_code(client, petition, settings) -> None:
    settings.SITE_URL = "https://cosign.example.org"
    page = client.get(petition.get_absolute_url()).content.decode()
    # The code to copy is the textarea's text: the page escapes it once (tests/test_escaping.py).
    (code,) = re.findall(r'<textarea id="embed-code"[^>]*>([^<]*)</textarea>', page)
    assert html.unescape(code).startswith(
        f'<iframe src="https://cosign.example.org/en/p/{petition.slug}/embed/" '
        f'title="{petition.title}"'
    )


# --- Production settings ----------------------------------------------------------------------
SHOW = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k) for k in ("
    "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
    "'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
    "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SESSION_COOKIE_HTTPONLY', "
    "'X_FRAME_OPTIONS', 'STAFF_REQUIRE_2FA', 'SILENCED_SYSTEM_CHECKS')}))"
)
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 30 + "q" * 30,
    "ALLOWED_HOSTS": "cosign.example.org",
    "SITE_URL": "https://cosign.example.org",
    "EMAIL_URL": "smtp://127.0.0.1:2525",
}


def _settings(**env: str) -> dict:
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_turns_on_hsts_redirects_and_secure_cookies() -> None:
    values = _settings(**PRODUCTION)
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["STAFF_REQUIRE_2FA"] is True


def test_the_environment_overrides_the_production_defaults() -> None:
    values = _settings(
        **PRODUCTION,
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="no",
        SECURE_HSTS_PRELOAD="yes",
        STAFF_REQUIRE_2FA="off",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["STAFF_REQUIRE_2FA"] is False
    # With preload chosen, Django's reminder about it is no longer silenced.
    assert values["SILENCED_SYSTEM_CHECKS"] == []


def test_development_needs_no_https() -> None:
    values = _settings()
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["STAFF_REQUIRE_2FA"] is False
    # Lax in development too: what a developer sees is what production does.
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_an_http_site_address_in_production_gets_no_https_redirect() -> None:
    """DEBUG off on a plain-http trial install: redirecting to https would lock it out."""
    values = _settings(**{**PRODUCTION, "SITE_URL": "http://cosign.internal"})
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
