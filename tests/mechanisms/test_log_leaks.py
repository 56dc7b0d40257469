"""No IP address, email address or token reaches a log line, whatever the level.

Every logger at DEBUG (root, django.request, django.db.backends with SQL logging forced on,
celery, the project's own), lines captured through the handlers and formatters that
settings.LOGGING really configures (text and JSON), while real flows run: signing with an email
from a distinctive address behind a trusted proxy, confirming through the emailed link, a bad
token, a rate-limited post, the "your signatures" link and a withdrawal, a 500, an admin login,
API calls with a right and a wrong key, and /metrics with right and wrong tokens. Then none of
the emails, addresses, tokens, keys, session ids or passwords used may be in what was written.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import re
from collections.abc import Iterator
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken
from mechanisms.log_redaction import SECRET_ARGUMENTS, logging_configure
from petitions.models import Signature
from tests.factories import MembershipFactory, OrganizationFactory, PetitionFactory, UserFactory

# Committed for real: emails go out after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

SIGNER_EMAIL = "leaky.signer.4471@example.org"
STAFF_EMAIL = "leaky.staff.8813@example.org"
STAFF_PASSWORD = "Leaky-Pass-5531-horse"
PROXY_IP = "198.51.100.23"
CLIENT_IP = "203.0.113.45"
CLIENT_IPV6 = "2001:db8:5:7::4471"
METRICS_TOKEN = "metrics-0ddb4ll-token-4471-abcdefgh"
WRONG_KEY = "cosign_abcdef123456_WrongKeyWrongKeyWrongKey4471"
PROJECT_LOGGERS = ("config", "mechanisms", "accounts", "petitions", "letters")
DEBUG_LOGGERS = (
    "",
    "django",
    "django.request",
    "django.server",
    "django.security",
    "django.security.csrf",
    "django.db.backends",
    "django.db.backends.schema",
    "django.template",
    "celery",
    "celery.app.trace",
    "celery.worker",
    "kombu",
    "gunicorn.error",
    *PROJECT_LOGGERS,
)


@pytest.fixture(params=["text", "json"])
def log_output(request, settings) -> Iterator[tuple[str, io.StringIO]]:
    """settings.LOGGING as configured for LOG_FORMAT=<param>, its console writing to a buffer,
    every logger at DEBUG; SQL logged as with DEBUG=True."""
    stream = io.StringIO()
    config = copy.deepcopy(django_settings.LOGGING)
    config["handlers"]["console"]["formatter"] = "json" if request.param == "json" else "plain"
    config["handlers"]["console"]["stream"] = stream
    config["root"]["level"] = "DEBUG"
    config["loggers"] = {name: {"level": "DEBUG"} for name in DEBUG_LOGGERS if name}
    logging_configure(config)
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.setLevel(logging.DEBUG)
            logger.disabled = False
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.TRUSTED_PROXIES = [PROXY_IP]
    try:
        yield request.param, stream
    finally:
        connection.force_debug_cursor = forced
        logging_configure(copy.deepcopy(django_settings.LOGGING))
        for logger in logging.Logger.manager.loggerDict.values():
            if isinstance(logger, logging.Logger):
                logger.setLevel(logging.NOTSET)
        logging.getLogger("django.db.backends").setLevel(logging.WARNING)


def _secrets_in_links(messages: list[mail.EmailMessage]) -> set[str]:
    """Every secret URL argument (token, key...) of every link in the emails sent."""
    found: set[str] = set()
    for message in messages:
        bodies = [str(message.body)] + [
            str(content) for content, _type in getattr(message, "alternatives", [])
        ]
        for body in bodies:
            for url in re.findall(r"https?://[^\s\"'<>]+", body):
                try:
                    match = resolve(urlsplit(url).path)
                except Resolver404:
                    continue
                found |= {
                    str(value)
                    for name, value in match.kwargs.items()
                    if name in SECRET_ARGUMENTS and len(str(value)) >= 8
                }
    return found


def _link_path(messages: list[mail.EmailMessage], url_name: str) -> str:
    for message in messages:
        for url in re.findall(r"https?://[^\s\"'<>]+", str(message.body)):
            path = urlsplit(url).path
            try:
                if resolve(path).url_name == url_name:
                    return path
            except Resolver404:
                continue
    raise AssertionError(f"no {url_name} link in {len(messages)} emails")


def test_no_ip_email_or_token_reaches_any_log_line(log_output, settings) -> None:
    log_format, stream = log_output
    petition = PetitionFactory()
    behind_proxy = {"REMOTE_ADDR": PROXY_IP, "HTTP_X_FORWARDED_FOR": f"{CLIENT_IP}, {PROXY_IP}"}
    browser = Client(**behind_proxy)
    sign_url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    signer = {
        "name": "Maria Rossi",
        "email": SIGNER_EMAIL,
        "postal_code": "94612",
        "country": "US",
        "display": "short",
    }

    # Signing, and the confirmation link.
    assert browser.post(sign_url, signer).status_code == 302
    confirm = _link_path(mail.outbox, "confirm")
    assert browser.get(confirm).status_code == 200
    assert browser.post(confirm, {"name": "Maria Rossi", "display": "short"}).status_code == 200
    assert Signature.objects.get().status == Signature.Status.CONFIRMED

    # A bad token (one character changed): refused, its path logged by django.request.
    token = resolve(confirm).kwargs["token"]
    bad_token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    bad = browser.get(confirm.replace(token, bad_token))
    assert bad.status_code in (400, 404, 410)

    # The "your signatures" link, and a withdrawal through it.
    my_signatures = reverse("accounts:my_signatures")
    assert browser.post(my_signatures, {"email": SIGNER_EMAIL}).status_code in (200, 302)
    listing = _link_path(mail.outbox, "my_signatures_list")
    assert browser.get(listing).status_code == 200

    # Rate limited: the next sign POST from the same address gets a 429.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign": {"ip": ["1/m"], "campaign": [], "global": []},
    }
    from_v6 = Client(REMOTE_ADDR=CLIENT_IPV6)
    assert from_v6.post(sign_url, signer).status_code == 302
    assert from_v6.post(sign_url, signer).status_code == 429

    # A 500 whose exception's message quotes the address.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign": {"ip": [], "campaign": [], "global": []},
    }
    crashing = Client(raise_request_exception=False, **behind_proxy)
    with mock.patch(
        "petitions.services.signature_create",
        side_effect=RuntimeError(f"cannot sign {SIGNER_EMAIL} from {CLIENT_IP}"),
    ):
        assert crashing.post(sign_url, signer).status_code == 500

    # An admin login (a wrong password first), which starts a session.
    staff = UserFactory(email=STAFF_EMAIL, is_staff=True, is_superuser=True)
    staff.set_password(STAFF_PASSWORD)
    staff.save()
    settings.STAFF_REQUIRE_2FA = False
    admin = Client(**behind_proxy)
    login = {"username": STAFF_EMAIL, "password": STAFF_PASSWORD + "x"}
    assert admin.post("/admin/login/", login).status_code == 200
    logged_in = admin.post("/admin/login/", login | {"password": STAFF_PASSWORD})
    assert logged_in.status_code == 302
    assert admin.get("/admin/").status_code == 200
    session_id = admin.cookies[settings.SESSION_COOKIE_NAME].value

    # The API with an organization's key, and with a wrong one.
    organization = OrganizationFactory()
    MembershipFactory(organization=organization, user=staff)
    key = api_token_create(
        organization=organization, user=staff, name="CRM", scope=ApiToken.Scope.READ_SUPPORTERS
    )[1]
    api = Client(**behind_proxy)
    assert api.get("/api/v1/osdi/people/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert api.get("/api/v1/osdi/people/", HTTP_OSDI_API_TOKEN=key).status_code == 200
    refused = api.get("/api/v1/osdi/people/", HTTP_AUTHORIZATION=f"Bearer {WRONG_KEY}")
    assert refused.status_code == 401

    # /metrics with the right token and a wrong one.
    assert api.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 200
    wrong = api.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN[:-1]}Z")
    assert wrong.status_code == 401

    for handler in logging.getLogger().handlers:
        handler.flush()
    output = stream.getvalue()

    # The flows were logged, at length: SQL with its values, 4xx and 5xx lines, tracebacks.
    assert "django.db.backends" in output
    assert re.search(r"INSERT INTO \W{0,2}petitions_signature", output)
    assert "Internal Server Error" in output
    assert "Traceback" in output
    assert "RuntimeError: cannot sign [email] from [ip]" in output
    assert "Unauthorized" in output
    if log_format == "json":
        lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert lines
        assert len(lines) == len(output.splitlines()) - output.count("\n  ")  # one object a line
        assert any(len(line["request_id"]) == 32 for line in lines)

    secrets = {
        SIGNER_EMAIL,
        SIGNER_EMAIL.split("@")[0],
        STAFF_EMAIL,
        STAFF_EMAIL.split("@")[0],
        STAFF_PASSWORD,
        PROXY_IP,
        CLIENT_IP,
        CLIENT_IPV6,
        token,
        bad_token,
        key,
        key.rsplit("_", 1)[1],
        WRONG_KEY,
        session_id,
        METRICS_TOKEN,
        *_secrets_in_links(mail.outbox),
    }
    assert len(secrets) >= 14
    leaked = sorted(secret for secret in secrets if secret.lower() in output.lower())
    assert leaked == [], "\n".join(
        line for line in output.splitlines() if any(s.lower() in line.lower() for s in leaked)
    )[:4000]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail Maria.Rossi+x@Example.ORG now", "mail [email] now"),
        # Internationalized domains, as the sign form accepts them, and an @ from a URL.
        ("to zqx.idn@пример.рф.", "to [email]."),
        ("to zqx@例子.中国 and maria@xn--e1afmkfd.xn--p1ai", "to [email] and [email]"),
        ("GET /?email=zqx%40example.org&x=1", "GET /?email=[email]&x=1"),
        # PostgreSQL quoting a violated row's values.
        (
            "DETAIL:  Failing row contains (7, Maria, Rossi, 20121).",
            "DETAIL:  Failing row contains ([redacted]).",
        ),
        ("from 203.0.113.45, 10.0.0.1:6379.", "from [ip], [ip]:6379."),
        ("v6 2001:db8::7 and [fe80::1%eth0]:80", "v6 [ip] and [[ip]]:80"),
        # Not addresses: a time, a version, a dotted number.
        ("at 12:34:56 gunicorn 23.0.0 1.2.3.4.5", "at 12:34:56 gunicorn 23.0.0 1.2.3.4.5"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer [redacted]"),
        ("key cosign_ab12cd_" + "x" * 40, "key [redacted]"),
    ],
)
def test_personal_data_is_redacted_and_the_rest_kept(text: str, expected: str) -> None:
    from mechanisms.log_redaction import personal_data_redact

    assert personal_data_redact(text) == expected


def test_logged_sql_keeps_its_shape_without_its_values() -> None:
    from mechanisms.log_redaction import sql_redact

    sql = "SELECT 1 FROM s WHERE k = 'abc' AND n = 'O''Brien' AND b = E'\\x00' AND id = 7"
    assert sql_redact(sql) == "SELECT 1 FROM s WHERE k = '…' AND n = '…' AND b = '…' AND id = 7"
