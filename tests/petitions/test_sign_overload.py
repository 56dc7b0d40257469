"""A petition signer who arrives while the site is overloaded, through the real view: a process
with every sign slot taken, a database that will not take the write in time, a database that
refuses connections. Each answers a deliberate 503 with `Retry-After` and keeps what the signer
typed; nothing is written and (for a signer refused admission) no budget is spent, so pressing
Sign again works (mechanisms.admission)."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
from collections.abc import Iterator
from unittest import mock

import altcha
import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from mechanisms.abuse.forms import HONEYPOT_FIELD, PROOF_FIELD, STARTED_FIELD
from mechanisms.abuse.proof_of_work import form_started_token
from mechanisms.models import OutboundEmail
from petitions.models import Petition, Signature
from tests.admission import field_value, signing_saturated

pytestmark = pytest.mark.django_db

BUSY = "So many people are signing right now that we could not record your signature yet."
TYPED = {
    "name": "Giulia Bianchi",
    "email": "giulia@example.org",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
}
ONE_A_MINUTE = {"ip": ["1/m"], "campaign": ["1/m"], "global": ["1/m"]}


def _sign_url(petition: Petition) -> str:
    return reverse("petitions:sign", kwargs={"slug": petition.slug})


def _assert_nothing_written() -> None:
    assert not Signature.objects.exists()
    assert not OutboundEmail.objects.exists()


def _solved_proof(client: Client) -> str:
    challenge = client.get("/abuse/challenge").json()
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], "SHA-256", challenge["maxNumber"]
    )
    payload = {key: challenge[key] for key in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps(payload | {"number": solution.number}).encode()).decode()


def test_a_signer_the_busy_process_cannot_take_gets_a_503_with_the_form_as_typed(
    client, petition, settings
) -> None:
    # One signature a minute from this address, on this petition and on the whole site: a
    # refused attempt that spent any of it would leave nothing for the second one.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign": ONE_A_MINUTE}
    started = form_started_token()
    typed = TYPED | {STARTED_FIELD: started, PROOF_FIELD: "a-proof-the-browser-solved"}

    with signing_saturated() as busy:
        response = client.post(_sign_url(petition), typed)
        assert response.status_code == 503
        assert response["Retry-After"] == str(settings.SIGN_RETRY_AFTER_SECONDS)
        html = response.content.decode()
        assert BUSY in html
        assert petition.title in html
        # A page of its own, not the campaign's (too dear to render for every signer turned
        # away): what was typed stays editable, what was chosen is shown and carried along.
        assert "Sign the petition" not in html
        for field in ("name", "email", "postal_code"):
            assert field_value(html, field) == TYPED[field]
        assert re.search(r'<input[^>]*type="email"[^>]*name="email"', html)
        assert re.search(r'<input[^>]*type="text"[^>]*name="name"', html)
        assert field_value(html, "country") == "US"
        assert "<dd>United States of America</dd>" in html
        assert field_value(html, "display") == "short"
        assert "<dd>My first name and last initial</dd>" in html
        # The hidden fields the abuse checks read: the form's start time stays the first one.
        assert field_value(html, STARTED_FIELD) == started
        assert field_value(html, PROOF_FIELD) == "a-proof-the-browser-solved"
        _assert_nothing_written()

        # Readers never queue for a signer's slot.
        assert client.get(petition.get_absolute_url()).status_code == 200

        busy.free_one()
        again = client.post(_sign_url(petition), typed)

    assert again.status_code == 302
    assert again["Location"] == reverse("petitions:check_inbox", kwargs={"slug": petition.slug})
    signature = Signature.objects.get()
    assert (signature.name, signature.email) == ("Giulia Bianchi", "giulia@example.org")
    # The budgets were there: the one the refused attempt did not spend went to this one.
    third = client.post(_sign_url(petition), typed | {"email": "other@example.org"})
    assert third.status_code == 429


def test_a_proof_of_work_sent_with_a_refused_signature_is_not_spent(
    client, petition, settings
) -> None:
    settings.ALTCHA_MAX_NUMBER = 2000
    # A throwaway address flags on its own; a proof already spent would add no_pow beside it.
    typed = TYPED | {"email": "giulia@mailinator.com", PROOF_FIELD: _solved_proof(client)}
    with signing_saturated() as busy:
        assert client.post(_sign_url(petition), typed).status_code == 503
        busy.free_one()
        assert client.post(_sign_url(petition), typed).status_code == 302
    assert Signature.objects.get().flags == "disposable"


def test_a_turned_away_signer_is_no_server_error_in_the_log_and_the_trap_is_empty_again(
    client, petition, caplog
) -> None:
    with signing_saturated(), caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(_sign_url(petition), TYPED | {HONEYPOT_FIELD: "bot-was-here"})
    assert response.status_code == 503
    # Deliberate, and thousands of them in a surge: not an error line each.
    assert not [record for record in caplog.records if record.name == "django.request"]
    # A page must never hand the trap back sprung, to a person or a bot; it is there again,
    # empty, so a bot that fills everything is caught on its second try too.
    html = response.content.decode()
    assert re.search(rf'<div class="form-trap" aria-hidden="true">.*name="{HONEYPOT_FIELD}"', html)
    assert field_value(html, HONEYPOT_FIELD) is None
    assert "bot-was-here" not in html
    _assert_nothing_written()


def test_what_a_turned_away_signer_typed_comes_back_as_text_never_as_markup(
    client, petition, settings
) -> None:
    petition.ask_comment = True
    petition.save(update_fields=["ask_comment"])
    markup = '"><script>alert(1)</script><textarea>'
    typed = TYPED | {
        "name": f"Maria {markup}",
        "comment": f"</textarea><img src=x onerror=alert(2)>{markup}",
        "display": f"short{markup}",
        "unexpected": f"{markup}",
    }
    with signing_saturated():
        response = client.post(_sign_url(petition), typed)
    assert response.status_code == 503
    html = response.content.decode()
    for raw in ("<script>", "<img", "</textarea><img", '"><script', "<textarea>"):
        assert raw not in html
    escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;textarea&gt;"
    assert field_value(html, "name") == f"Maria {escaped}"
    assert "&lt;/textarea&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    # An answer the form does not offer is shown as typed (escaped) and sent back for the form
    # to refuse, as it would have.
    assert field_value(html, "display") == f"short{escaped}"


@pytest.mark.parametrize(("sent", "shown"), [("on", True), ("false", False), ("0", False)])
def test_a_turned_away_signers_choice_of_updates_is_shown_as_the_form_will_read_it(
    client, petition, sent, shown
) -> None:
    with signing_saturated():
        response = client.post(_sign_url(petition), TYPED | {"consent_updates": sent})
    assert response.status_code == 503
    assert ("<dd>Yes</dd>" in response.content.decode()) is shown


def test_in_a_quiet_process_nothing_changes(client, petition) -> None:
    response = client.post(_sign_url(petition), TYPED)
    assert response.status_code == 302
    assert "Retry-After" not in response
    assert Signature.objects.count() == 1


@pytest.fixture
def signatures_locked(petition) -> Iterator[None]:
    """Another session holds a lock that lets the petition page be read but no signature be
    written, and this one waits at most a tenth of a second for a lock: a database too busy to
    take the write, as PostgreSQL itself reports it (lock_not_available, an OperationalError).
    The test runs outside a transaction of its own, as a request does (autocommit)."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"LOCK TABLE {Signature._meta.db_table} IN SHARE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        with other.cursor() as cursor:
            cursor.execute("ROLLBACK")
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_write_the_database_cannot_take_in_time_answers_503_with_the_form(
    client, petition, signatures_locked, settings
) -> None:
    response = client.post(_sign_url(petition), TYPED)
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.SIGN_RETRY_AFTER_SECONDS)
    html = response.content.decode()
    assert BUSY in html
    assert field_value(html, "name") == "Giulia Bianchi"
    assert field_value(html, "email") == "giulia@example.org"
    _assert_nothing_written()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_a_database_refusing_connections_answers_503_with_a_page_that_signs_on_resubmit(
    settings,
) -> None:
    from tests.factories import PetitionFactory

    petition = PetitionFactory()
    client = Client(enforce_csrf_checks=True)
    page = client.get(petition.get_absolute_url()).content.decode()
    typed = TYPED | {
        "csrfmiddlewaretoken": field_value(page, "csrfmiddlewaretoken"),
        STARTED_FIELD: field_value(page, STARTED_FIELD),
    }

    # As when every connection PostgreSQL allows is taken: it answers no new one.
    connection.close()
    dead = {"HOST": "127.0.0.1", "PORT": str(_closed_port())}
    with mock.patch.dict(connection.settings_dict, dead):
        response = client.post(_sign_url(petition), typed)
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.SIGN_RETRY_AFTER_SECONDS)
    html = response.content.decode()
    assert BUSY in html
    assert f'<form action="{_sign_url(petition)}" method="post"' in html
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert kept == typed
    _assert_nothing_written()

    # The database is back; the signer presses the page's one button.
    again = client.post(_sign_url(petition), kept)
    assert again.status_code == 302
    assert Signature.objects.get().email == "giulia@example.org"
