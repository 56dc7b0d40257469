"""Self-service for signers: ask for a link by email, see, download and withdraw signatures."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as h_settings
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts import services
from accounts.my_signatures import my_signatures_refs
from accounts.privacy_emails import MY_SIGNATURES_TOKEN_PURPOSE
from mechanisms import mail
from mechanisms.models import OutboundEmail
from mechanisms.tokens import token_make
from petitions.models import Petition, Signature
from tests.accounts.conftest import link_in
from tests.factories import IndividualSignatureFactory, PetitionFactory, SignatureFactory
from tests.outbox import outbox_clock, outbox_drain, owed

pytestmark = pytest.mark.django_db

REQUEST_URL = "/en/my-signatures/"
SAME_ANSWER = "If that address has signed anything here, we have emailed it a link"
MARIA = "maria.rossi@example.org"


@pytest.fixture
def maria_signed() -> Signature:
    petition = PetitionFactory(title="Cancel the doorbell camera partnership", signature_count=2)
    SignatureFactory(petition=petition, confirmed=True, counted=True, email="bob@example.org")
    return SignatureFactory(
        petition=petition,
        name="Maria Rossi",
        email="Maria.Rossi@example.org",
        postal_code="94612",
        confirmed=True,
        counted=True,
    )


def _token(canonical_email: str = MARIA) -> str:
    refs = my_signatures_refs(canonical_email=canonical_email)
    return token_make(purpose=MY_SIGNATURES_TOKEN_PURPOSE, value=refs)


def _list_url(token: str) -> str:
    return reverse("accounts:my_signatures_list", kwargs={"token": token})


def _without_csrf(response) -> str:
    # Every page carries a fresh CSRF token (the language switcher); nothing else may differ.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def _ask(client, django_capture_on_commit_callbacks, email: str):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(REQUEST_URL, {"email": email}, follow=True)
    return response, callbacks


# --- Asking for a link ------------------------------------------------------------------------


def test_the_request_page_asks_for_an_email(client) -> None:
    response = client.get(REQUEST_URL)
    assert response.status_code == 200
    assert "The email you signed with" in response.content.decode()


def test_known_and_unknown_addresses_get_the_same_answer(
    client, maria_signed, outbox, django_capture_on_commit_callbacks
) -> None:
    known, known_callbacks = _ask(
        client, django_capture_on_commit_callbacks, "maria.rossi@example.org"
    )
    unknown, unknown_callbacks = _ask(
        client, django_capture_on_commit_callbacks, "nobody@example.org"
    )

    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain == [("/en/my-signatures/sent/", 302)]
    assert SAME_ANSWER in known.content.decode()
    assert _without_csrf(known) == _without_csrf(unknown)
    # The view only owes the email: the lookup happens when the outbox sends it, alike for both.
    assert len(known_callbacks) == len(unknown_callbacks) == 1
    # To the address she signed with, not the one typed.
    assert [message.to for message in outbox] == [["Maria.Rossi@example.org"]]


def test_the_email_links_to_every_signature(
    client, maria_signed, outbox, django_capture_on_commit_callbacks
) -> None:
    letter = IndividualSignatureFactory(email="maria.rossi@example.org")
    _ask(client, django_capture_on_commit_callbacks, "MARIA.ROSSI@example.org")

    (message,) = outbox
    assert message.subject == "Your signatures on Cosign"
    assert "24 hours" in message.body
    page = client.get(link_in(message, "/my-signatures/"))
    text = page.content.decode()
    assert page.status_code == 200
    assert maria_signed.petition.title in text
    assert letter.letter.title in text
    assert "Maria R." in text
    assert "Confirmed" in text
    assert page["Cache-Control"].startswith("max-age=0")


def test_the_link_goes_to_the_stored_address_not_the_typed_one(
    client, outbox, django_capture_on_commit_callbacks
) -> None:
    # Gmail ignores dots and "+tags": "mariarossi+x@gmail.com" canonicalizes like the address
    # Maria signed with, yet only her own address may receive her link.
    SignatureFactory(email="Maria.Rossi@gmail.com", confirmed=True)
    _ask(client, django_capture_on_commit_callbacks, "mariarossi+anything@gmail.com")

    assert [message.to for message in outbox] == [["Maria.Rossi@gmail.com"]]


def test_asking_again_and_again_does_not_flood_a_signers_inbox(
    outbox, django_capture_on_commit_callbacks
) -> None:
    # The request is limited per network; a per-address cooldown stops anyone who asks from
    # many networks.
    SignatureFactory(email="maria@example.org", confirmed=True)
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(
                REQUEST_URL, {"email": "maria@example.org"}, REMOTE_ADDR=f"192.0.2.{n}"
            )
        assert response.status_code == 302

    assert len(outbox) == 1


def _request(email: str, callbacks) -> None:
    """Ask for a link as the view does, and run the send it queues."""
    with callbacks(execute=True):
        services.my_signatures_link_request(email=email, language="en")


def test_the_cooldown_is_per_address_and_ends_with_the_notice_interval(
    settings, outbox, django_capture_on_commit_callbacks
) -> None:
    SignatureFactory(email="maria@example.org", confirmed=True)
    SignatureFactory(email="bruno@example.org", confirmed=True)
    _request("maria@example.org", django_capture_on_commit_callbacks)
    _request("Maria@Example.org", django_capture_on_commit_callbacks)
    _request("bruno@example.org", django_capture_on_commit_callbacks)

    with outbox_clock(timezone.now() + settings.SIGNATURE_NOTICE_INTERVAL):
        _request("maria@example.org", django_capture_on_commit_callbacks)
    assert [message.to for message in outbox] == [
        ["maria@example.org"],
        ["bruno@example.org"],
        ["maria@example.org"],
    ]


def _cache_keys() -> list[str]:
    return [key.decode() for key in cache._cache.get_client().keys("*")]


def test_the_cooldown_keeps_no_address(settings, django_capture_on_commit_callbacks) -> None:
    SignatureFactory(email="maria@example.org", confirmed=True)
    before = set(_cache_keys())
    _request("maria@example.org", django_capture_on_commit_callbacks)
    # The daily budget's key, in the cache.
    (key,) = set(_cache_keys()) - before
    assert settings.ABUSE_CACHE_PREFIX in key
    assert "maria" not in key
    assert "example" not in key
    # The cooldown's row, in the outbox: its address is cleared once sent.
    (row,) = OutboundEmail.objects.all()
    assert row.state == OutboundEmail.State.SENT
    assert row.recipient == ""
    assert "maria" not in row.recipient_key + row.about
    assert "example" not in row.recipient_key + row.about


def test_with_the_cache_down_the_link_is_sent_anyway_and_the_cooldown_holds(
    outbox, django_capture_on_commit_callbacks
) -> None:
    SignatureFactory(email="maria@example.org", confirmed=True)
    with (
        mock.patch.object(mail, "_budget_counts", side_effect=RedisConnectionError("down")),
        mock.patch.object(mail.logger, "warning") as warning,
    ):
        _request("maria@example.org", django_capture_on_commit_callbacks)
        _request("maria@example.org", django_capture_on_commit_callbacks)
    # The budget fails open; the cooldown is the database's, which the cache does not hold.
    assert len(outbox) == 1
    assert warning.called


def test_a_failed_send_is_retried_and_asking_again_meanwhile_adds_nothing(
    outbox, django_capture_on_commit_callbacks
) -> None:
    SignatureFactory(email="maria@example.org", confirmed=True)
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=ConnectionError("mail server down"),
    ):
        _request("maria@example.org", django_capture_on_commit_callbacks)
    (row,) = owed("my_signatures_link")
    assert (row.attempts, outbox) == (1, [])
    assert "mail server down" in row.last_error

    _request("maria@example.org", django_capture_on_commit_callbacks)
    assert OutboundEmail.objects.count() == 1
    assert outbox == []  # its backoff has not ended

    with outbox_clock(row.not_before + timedelta(seconds=1)):
        assert outbox_drain().sent == 1
    assert [message.to for message in outbox] == [["maria@example.org"]]


def test_unknown_addresses_are_mailed_nothing(outbox, django_capture_on_commit_callbacks) -> None:
    _request("nobody@example.org", django_capture_on_commit_callbacks)
    assert outbox == []
    (row,) = OutboundEmail.objects.all()
    assert (row.state, row.recipient) == (OutboundEmail.State.DROPPED, "")


def test_a_mistyped_address_is_shown_again_with_a_message(client, outbox) -> None:
    response = client.post(REQUEST_URL, {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert outbox == []


def test_too_many_requests_are_refused(client, settings, outbox) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "my_data": {"ip": ["2/m"], "campaign": [], "global": ["100/s"]},
    }
    for _ in range(2):
        assert client.post(REQUEST_URL, {"email": "a@example.org"}).status_code == 302

    response = client.post(REQUEST_URL, {"email": "a@example.org"})

    assert response.status_code == 429
    assert "Please try again in a few minutes." in response.content.decode()
    assert outbox == []


# --- The page behind the link -----------------------------------------------------------------


def test_a_tampered_link_says_so(client, maria_signed) -> None:
    token = _token()
    response = client.get(_list_url(token[:-2] + "xx"))
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert maria_signed.name not in response.content.decode()


def test_a_link_for_another_purpose_does_not_open_the_page(client, maria_signed) -> None:
    token = token_make(purpose="petitions.confirm", value=[f"petition:{maria_signed.pk}"])
    assert client.get(_list_url(token)).status_code == 400


def test_an_expired_link_offers_a_new_one(
    client, maria_signed, outbox, django_capture_on_commit_callbacks
) -> None:
    two_days_ago = time.time() - 48 * 3600
    with mock.patch.object(signing.time, "time", return_value=two_days_ago):
        token = _token()

    response = client.get(_list_url(token))
    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        renewed = client.post(reverse("accounts:my_signatures_renew", kwargs={"token": token}))
    assert renewed.status_code == 302
    assert renewed["Location"] == "/en/my-signatures/sent/"
    (message,) = outbox
    assert message.to == ["Maria.Rossi@example.org"]
    assert client.get(link_in(message, "/my-signatures/")).status_code == 200


def test_the_download_holds_their_data_and_no_one_elses(client, maria_signed) -> None:
    response = client.get(reverse("accounts:my_signatures_download", kwargs={"token": _token()}))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="cosign-my-signatures.json"'
    data = json.loads(response.content)
    (record,) = data["records"]
    assert record["email"] == "Maria.Rossi@example.org"
    assert record["name"] == "Maria Rossi"
    assert record["postal_code"] == "94612"
    assert "bob@example.org" not in response.content.decode()


# --- Withdrawing ------------------------------------------------------------------------------


def _withdraw_url(token: str) -> str:
    return reverse("accounts:my_signatures_withdraw", kwargs={"token": token})


def test_withdrawing_asks_first_and_changes_nothing_until_confirmed(client, maria_signed) -> None:
    token = _token()
    response = client.get(_withdraw_url(token), {"record": f"petition:{maria_signed.pk}"})
    assert response.status_code == 200
    assert "Withdraw your signature?" in response.content.decode()
    assert Signature.objects.filter(pk=maria_signed.pk).exists()


def test_withdrawing_one_signature_drops_the_count(client, maria_signed) -> None:
    other = SignatureFactory(email="maria.rossi@example.org", confirmed=True, counted=True)
    token = _token()

    response = client.post(
        _withdraw_url(token), {"record": f"petition:{maria_signed.pk}"}, follow=True
    )

    assert response.redirect_chain == [(_list_url(token), 302)]
    text = response.content.decode()
    assert "Your signature was withdrawn" in text
    assert not Signature.objects.filter(pk=maria_signed.pk).exists()
    assert Signature.objects.filter(pk=other.pk).exists()
    assert Petition.objects.get(pk=maria_signed.petition_id).signature_count == 1
    # The link keeps working for what is left.
    assert other.petition.title in text


def test_withdrawing_all(client, maria_signed) -> None:
    IndividualSignatureFactory(email="maria.rossi@example.org")
    token = _token()
    assert (
        "Withdraw all your signatures?"
        in client.get(_withdraw_url(token), {"all": "1"}).content.decode()
    )

    response = client.post(_withdraw_url(token), {"all": "1"}, follow=True)

    assert "2 signatures were withdrawn" in response.content.decode()
    assert "We hold no signatures from you" in response.content.decode()
    assert my_signatures_refs(canonical_email=MARIA) == []
    assert Signature.objects.filter(email="bob@example.org").exists()
    assert Petition.objects.get(pk=maria_signed.petition_id).signature_count == 1


def test_another_persons_signature_cannot_be_withdrawn_with_my_link(client, maria_signed) -> None:
    bob = Signature.objects.get(email="bob@example.org")
    token = _token()

    assert client.get(_withdraw_url(token), {"record": f"petition:{bob.pk}"}).status_code == 404
    response = client.post(_withdraw_url(token), {"record": f"petition:{bob.pk}"}, follow=True)

    assert "There was nothing to withdraw" in response.content.decode()
    assert Signature.objects.filter(pk=bob.pk).exists()
    assert Petition.objects.get(pk=bob.petition_id).signature_count == 2


@pytest.mark.parametrize(
    "record",
    [
        "",
        "petition:abc",
        "nonsense",
        "petition:99999999999999999999",
        # Digits to str.isdigit, not to int(): once a 500.
        "petition:\u00b2",
        "petition:\u0661\u0662",
    ],
)
def test_a_nonsense_record_withdraws_nothing(client, maria_signed, record: str) -> None:
    response = client.post(_withdraw_url(_token()), {"record": record})
    assert response.status_code == 302
    assert Signature.objects.count() == 2


def test_withdrawing_needs_a_valid_link(client, maria_signed) -> None:
    response = client.post(_withdraw_url("not-a-token"), {"record": f"petition:{maria_signed.pk}"})
    assert response.status_code == 400
    assert Signature.objects.filter(pk=maria_signed.pk).exists()


def test_withdrawing_needs_the_csrf_token(maria_signed) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(_withdraw_url(_token()), {"record": f"petition:{maria_signed.pk}"})
    assert response.status_code == 403
    assert Signature.objects.filter(pk=maria_signed.pk).exists()


_odd_text = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60),
    st.sampled_from(["petition:", "letter:0", "petition:-1", "petition:1:2", "all", "\x00"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(lambda n: f"petition:{n}"),
)


@h_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(email=_odd_text, record=_odd_text, everything=_odd_text)
def test_arbitrary_input_never_errors_and_withdraws_only_what_it_names(
    client, maria_signed, email: str, record: str, everything: str
) -> None:
    # The database is shared by every example: Maria signs again when an example withdrew her.
    maria = Signature.objects.filter(canonical_email=MARIA).first() or SignatureFactory(
        petition=maria_signed.petition, email=MARIA
    )
    asked = client.post(REQUEST_URL, {"email": email})
    assert asked.status_code in (302, 400, 429)

    answer = client.post(_withdraw_url(_token()), {"record": record, "all": everything})

    assert answer.status_code == 302
    names_maria = record == f"petition:{maria.pk}" or everything == "1"
    assert Signature.objects.filter(pk=maria.pk).exists() is not names_maria
    # Bob's signature is never Maria's to withdraw, whatever she sends.
    assert Signature.objects.filter(email="bob@example.org").exists()
