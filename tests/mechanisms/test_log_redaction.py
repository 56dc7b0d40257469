"""Secrets in our URLs never reach the logs (mechanisms.log_redaction), checked as an attacker
reading the log would: 4xx answers on every secret-bearing URL, through the test client and the
logging configuration the settings give, with what the configured handlers print captured."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.test import Client
from django.urls.resolvers import LocalePrefixPattern, RoutePattern

from mechanisms.log_redaction import (
    PUBLIC_ARGUMENTS,
    REDACTED,
    SECRET_ARGUMENTS,
    SecretRedactionFilter,
    route_arguments,
    secrets_redact,
    url_routes,
)
from petitions.models import Threshold, ThresholdRequest
from petitions.services import counting
from petitions.thresholds import emails as threshold_emails
from tests.factories import PetitionFactory, SignatureFactory, TargetFactory

SECRET = "Sec7et-Tok3n_value:1wXyZ"
_ARGUMENT = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")


def _sample_path(chain: list[object], *, language: str = "en") -> str:
    """A path for a pattern chain: SECRET for each secret argument, a plain value otherwise."""
    parts = []
    for pattern in chain:
        if isinstance(pattern, LocalePrefixPattern):
            parts.append(f"{language}/")
            continue
        assert isinstance(pattern, RoutePattern)
        parts.append(
            _ARGUMENT.sub(
                lambda m: SECRET if m.group("name") in SECRET_ARGUMENTS else "7",
                str(pattern),
            )
        )
    return "/" + "".join(parts)


def _secret_routes() -> list[tuple[str, list[object]]]:
    return [
        (name, chain)
        for chain, name in url_routes()
        if SECRET_ARGUMENTS & set(route_arguments(chain))
    ]


# --- Coverage: the URL patterns decide ---------------------------------------------------------


def test_every_url_argument_is_classed_as_secret_or_not() -> None:
    """A new URL argument must be named here before it ships: a secret one is then redacted."""
    unknown = {
        (name, argument)
        for chain, name in url_routes()
        for argument in route_arguments(chain)
        if argument not in SECRET_ARGUMENTS | PUBLIC_ARGUMENTS
    }
    assert not unknown, f"class these URL arguments in mechanisms.log_redaction: {unknown}"


def test_the_secret_bearing_urls_are_the_ones_the_review_named() -> None:
    names = {name for name, _chain in _secret_routes()}
    assert {
        "confirm",  # petitions' and letters' confirmation links
        "renew",
        "unsubscribe",
        "threshold_answer",
        "organization_confirm",
        "password_set",
        "my_signatures_list",
        "my_signatures_download",
        "my_signatures_withdraw",
        "my_signatures_renew",
    } <= names


def test_every_secret_bearing_pattern_is_a_route_the_filter_can_read() -> None:
    for name, chain in _secret_routes():
        assert all(isinstance(p, LocalePrefixPattern | RoutePattern) for p in chain), name


@pytest.mark.parametrize("language", ["en", "it", "pt-br"])
def test_each_secret_bearing_path_is_redacted_in_any_language_and_however_it_ends(
    language: str,
) -> None:
    for name, chain in _secret_routes():
        path = _sample_path(chain, language=language)
        for text in (
            f"Not Found: {path}",
            f"Bad Request: https://cosign.example.org{path}?utm_source=mail",
            f'"GET {path.rstrip("/")}. HTTP/1.1" 404',
        ):
            redacted = secrets_redact(text)
            assert SECRET not in redacted, (name, redacted)
            assert REDACTED in redacted


def test_paths_without_secrets_are_left_alone() -> None:
    for text in (
        "Not Found: /en/p/stop-the-scanners/",
        "Not Found: /en/organizations/acme/api-tokens/3/revoke/",
        "Not Found: /en/letters/open-letter/withdraw/12/",
        "Bad Request: /email/bounces/mailgun/",
    ):
        assert secrets_redact(text) == text


def test_every_configured_handler_carries_the_filter() -> None:
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and logger.name.startswith("django")
    ]
    handlers = [handler for logger in loggers for handler in logger.handlers]
    assert handlers
    for handler in handlers:
        if type(handler).__module__.startswith("_pytest"):
            continue  # pytest's own capture, added after the settings' configuration
        assert any(isinstance(f, SecretRedactionFilter) for f in handler.filters), handler


# --- Through the client, as logged -------------------------------------------------------------


@pytest.mark.django_db
def test_a_4xx_on_every_secret_bearing_url_logs_its_path_without_the_secret(
    client: Client, printed: io.StringIO
) -> None:
    for name, chain in _secret_routes():
        path = _sample_path(chain)
        client.get(path)
        client.post(path, {"answer": ""})
        # A link with something stuck to it: always a 404, always logged.
        response = client.get(path + "x/")
        assert response.status_code == 404, name
    output = printed.getvalue()
    assert output.count("Not Found:") >= len(_secret_routes())
    assert REDACTED in output
    assert SECRET not in output


@pytest.mark.django_db
def test_a_targets_answer_that_fails_validation_leaves_no_answer_link_in_the_log(
    client: Client, printed: io.StringIO
) -> None:
    petition = PetitionFactory(targets=[TargetFactory()])
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    SignatureFactory(petition=petition, confirmed=True)
    counting.petition_counts_update()
    request = ThresholdRequest.objects.get(petition=petition)
    token = threshold_emails.answer_token(request=request)
    path = f"/en/p/{petition.slug}/respond/{token}/"

    response = client.post(path, {"answer": ""})

    assert response.status_code == 400
    output = printed.getvalue()
    assert f"Bad Request: /en/p/{petition.slug}/respond/{REDACTED}/" in output
    assert token not in output


def test_a_secret_split_across_a_records_arguments_or_in_its_traceback_is_redacted(
    printed: io.StringIO,
) -> None:
    logger = logging.getLogger("tests.log_redaction")
    logger.warning("Sent %s%s/", "https://cosign.example.org/en/my-signatures/", SECRET)
    try:
        raise ValueError(f"bad link /en/organizations/confirm/{SECRET}/")
    except ValueError:
        logger.exception("Failed")
    output = printed.getvalue()
    assert f"Sent https://cosign.example.org/en/my-signatures/{REDACTED}/" in output
    assert f"ValueError: bad link /en/organizations/confirm/{REDACTED}/" in output
    assert SECRET not in output


def test_gunicorns_access_log_would_print_the_path_without_its_secret() -> None:
    """Cosign keeps gunicorn's access log off (config/gunicorn.conf.py); an operator who turns it
    on gets the same redaction, as gunicorn's handlers exist before Django configures logging."""
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from mechanisms.log_redaction import filter_install

    config = Config()
    config.set("accesslog", "-")
    gunicorn_log = Logger(config)
    buffer = io.StringIO()
    for handler in gunicorn_log.access_log.handlers:
        handler.setStream(buffer)
    filter_install()
    path = f"/en/p/stop-the-scanners/confirm/{SECRET}/"
    request = SimpleNamespace(
        method="GET", path=path, query="", uri=path, version=(1, 1), headers=[]
    )
    response = SimpleNamespace(status="404 Not Found", sent=0, headers=[], response_length=0)
    gunicorn_log.access(
        response,
        request,
        {
            "RAW_URI": path,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "REQUEST_METHOD": "GET",
            "SERVER_PROTOCOL": "HTTP/1.1",
        },
        _elapsed(),
    )
    assert f"/confirm/{REDACTED}/" in buffer.getvalue()
    assert SECRET not in buffer.getvalue()


def _elapsed() -> object:
    from datetime import timedelta

    return timedelta(milliseconds=3)
