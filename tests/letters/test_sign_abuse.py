"""Abuse resistance on a letter's individual sign form, through the real view (as on a petition:
tests/petitions/test_sign_abuse.py)."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse

from letters.emails import confirmation_url
from letters.models import IndividualSignature, OpenLetter
from mechanisms.abuse.forms import HONEYPOT_FIELD, PROOF_FIELD
from tests.factories import OpenLetterFactory

pytestmark = pytest.mark.django_db

SIGNER = {"name": "Dana Whitfield", "email": "dana@example.org", "title": "Professor of Law"}
NO_LIMIT: dict[str, list[str]] = {"ip": [], "campaign": [], "global": []}


@pytest.fixture
def letter() -> OpenLetter:
    return OpenLetterFactory(individuals_may_sign=True)


def _sign_url(letter: OpenLetter) -> str:
    return reverse("letters:sign", kwargs={"slug": letter.slug})


def _individuals(client, letter: OpenLetter) -> str:
    page = client.get(letter.get_absolute_url()).content.decode()
    return "".join(re.findall(r'aria-labelledby="individuals-heading".*?</ul>', page, re.S))


def test_past_the_rate_limit_the_form_says_so_with_a_429_keeps_the_values_and_writes_nothing(
    client, letter, settings, outbox
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "letter_sign": NO_LIMIT | {"ip": ["1/m"]}}
    assert client.post(_sign_url(letter), SIGNER | {"name": ""}).status_code == 400

    response = client.post(_sign_url(letter), SIGNER)
    assert response.status_code == 429
    html = response.content.decode()
    assert (
        "Too many signatures from your network right now. Please try again in a few minutes."
        in html
    )
    assert 'value="Dana Whitfield"' in html
    assert 'value="dana@example.org"' in html
    assert 'value="Professor of Law"' in html
    assert not IndividualSignature.objects.exists()
    assert outbox == []


def test_a_filled_honeypot_gets_the_same_redirect_and_writes_nothing(
    client, letter, outbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        trapped = client.post(_sign_url(letter), SIGNER | {HONEYPOT_FIELD: "x"})
        real = client.post(_sign_url(letter), SIGNER | {"email": "real@example.org"})
    assert trapped.status_code == real.status_code == 302
    assert trapped["Location"] == real["Location"]
    assert list(IndividualSignature.objects.values_list("email", flat=True)) == ["real@example.org"]
    assert [message.to for message in outbox] == [["real@example.org"]]


def test_a_signature_without_javascript_and_no_other_signal_is_not_flagged(client, letter) -> None:
    assert client.post(_sign_url(letter), SIGNER).status_code == 302
    signature = IndividualSignature.objects.get()
    assert (signature.flags, signature.held) == ("", False)
    assert signature.ip_hash


def test_a_flagged_signature_is_held_confirmed_and_not_listed(
    client, letter, outbox, settings, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        flagged = client.post(_sign_url(letter), SIGNER | {"email": "dana@mailinator.com"})
        clean = client.post(
            _sign_url(letter), SIGNER | {"email": "ada@example.org", "name": "Ada Lovelace"}
        )
    assert flagged["Location"] == clean["Location"]
    held = IndividualSignature.objects.get(email="dana@mailinator.com")
    assert (held.flags, held.held) == ("disposable no_pow", True)
    assert sorted(message.to[0] for message in outbox) == [
        "ada@example.org",
        "dana@mailinator.com",
    ]
    for signature in IndividualSignature.objects.all():
        path = confirmation_url(signature=signature).removeprefix(settings.SITE_URL)
        assert client.post(path, {"name": signature.name}).status_code == 200
    held.refresh_from_db()
    assert held.status == IndividualSignature.Status.CONFIRMED
    listed = _individuals(client, letter)
    assert "Ada Lovelace" in listed
    assert "Dana Whitfield" not in listed


def test_a_deeply_nested_proof_of_work_payload_is_held_not_a_500(letter) -> None:
    # Valid base64, under the length cap, and JSON nested deeper than the recursion limit.
    deep = base64.b64encode(b"[" * 1490).decode()
    server = Client(raise_request_exception=False)  # the 500 page a browser would see

    response = server.post(_sign_url(letter), SIGNER | {PROOF_FIELD: deep})

    assert response.status_code == 302
    signature = IndividualSignature.objects.get()
    assert (signature.flags, signature.held) == ("bad_pow", True)


def test_a_letter_signed_from_one_employers_domain_is_no_domain_burst(client, settings) -> None:
    settings.ABUSE_DOMAIN_BURST = ["1/m"]
    employer = OpenLetterFactory(individuals_may_sign=True, individual_email_domains="amazon.com")
    anyone = OpenLetterFactory(individuals_may_sign=True)
    for n in range(3):
        person = {"name": f"Person {'ABC'[n]}", "email": f"p{n}@amazon.com"}
        address = {"REMOTE_ADDR": f"192.0.2.{n}"}
        client.post(_sign_url(employer), SIGNER | person, **address)
        client.post(_sign_url(anyone), SIGNER | person, **address)
    assert list(employer.individual_signatures.values_list("flags", flat=True)) == [""] * 3
    assert sorted(anyone.individual_signatures.values_list("flags", flat=True)) == [
        "",
        "domain_burst no_pow",
        "domain_burst no_pow",
    ]
