"""A letter's individual signer who arrives while the site is overloaded, through the real view
(as on a petition: tests/petitions/test_sign_overload.py): a deliberate 503 with `Retry-After`,
the form as they typed it, nothing written and no budget spent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.urls import reverse

from letters.models import IndividualSignature, OpenLetter
from mechanisms.abuse.forms import PROOF_FIELD, STARTED_FIELD
from mechanisms.abuse.proof_of_work import form_started_token
from mechanisms.models import OutboundEmail
from tests.admission import field_value, signing_saturated
from tests.factories import OpenLetterFactory

pytestmark = pytest.mark.django_db

BUSY = "So many people are signing right now that we could not record your signature yet."
SIGNER = {
    "name": "Dana Whitfield",
    "email": "dana@example.org",
    "title": "Professor of Law",
    "affiliation": "Eastbay University",
}


@pytest.fixture
def letter() -> OpenLetter:
    return OpenLetterFactory(individuals_may_sign=True)


def _sign_url(letter: OpenLetter) -> str:
    return reverse("letters:sign", kwargs={"slug": letter.slug})


def _assert_nothing_written() -> None:
    assert not IndividualSignature.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_a_signer_the_busy_process_cannot_take_gets_a_503_with_the_form_as_typed(
    client, letter, settings
) -> None:
    # A refused attempt that spent any of these would leave nothing for the second one.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "letter_sign": {"ip": ["1/m"], "campaign": ["1/m"], "global": ["1/m"]},
    }
    started = form_started_token()
    typed = SIGNER | {STARTED_FIELD: started, PROOF_FIELD: "a-proof-the-browser-solved"}

    with signing_saturated() as busy:
        response = client.post(_sign_url(letter), typed)
        assert response.status_code == 503
        assert response["Retry-After"] == str(settings.SIGN_RETRY_AFTER_SECONDS)
        html = response.content.decode()
        assert BUSY in html
        assert letter.title in html
        for field, value in SIGNER.items():
            assert field_value(html, field) == value
        assert field_value(html, STARTED_FIELD) == started
        assert field_value(html, PROOF_FIELD) == "a-proof-the-browser-solved"
        _assert_nothing_written()

        # Readers never queue for a signer's slot.
        assert client.get(letter.get_absolute_url()).status_code == 200

        busy.free_one()
        again = client.post(_sign_url(letter), typed)

    assert again.status_code == 302
    assert again["Location"] == reverse("letters:check_inbox", kwargs={"slug": letter.slug})
    signature = IndividualSignature.objects.get()
    assert (signature.name, signature.title) == ("Dana Whitfield", "Professor of Law")
    third = client.post(_sign_url(letter), typed | {"email": "other@example.org"})
    assert third.status_code == 429


@pytest.fixture
def signatures_locked(letter) -> Iterator[None]:
    """Another session holds a lock that lets the letter's page be read but no signature be
    written; this one waits at most a tenth of a second for a lock (PostgreSQL then reports
    lock_not_available, an OperationalError), in autocommit as a request runs."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"LOCK TABLE {IndividualSignature._meta.db_table} IN SHARE MODE")
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
    client, letter, signatures_locked
) -> None:
    response = client.post(_sign_url(letter), SIGNER)
    assert response.status_code == 503
    assert "Retry-After" in response
    html = response.content.decode()
    assert BUSY in html
    assert field_value(html, "name") == "Dana Whitfield"
    _assert_nothing_written()
