from __future__ import annotations

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions import services
from petitions.emails import confirmation_url
from petitions.models import Petition, Signature
from petitions.services import signing
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db

CONFIRM = {"name": "Maria Rossi", "display": "short"}
VALID = {
    "name": "Maria Rossi",
    "email": "maria@example.org",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
    "consent_updates": "on",
}


def _sign_url(petition: Petition) -> str:
    return reverse("petitions:sign", kwargs={"slug": petition.slug})


def _confirm_path(signature: Signature) -> str:
    return confirmation_url(signature=signature).removeprefix("http://127.0.0.1:8000")


def test_petition_page_shows_the_form_count_and_progress(client, petition) -> None:
    Petition.objects.filter(pk=petition.pk).update(signature_count=120)
    response = client.get(petition.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert petition.title in html
    assert 'id="signature-count">120<' in html
    # 120 of the automatic goal 250, without an inline style (the CSP forbids them).
    assert (
        '<progress class="petition-progress mb-1" id="goal-progress" value="120" max="250"' in html
    )
    assert 'style="' not in html
    assert 'name="email"' in html
    assert "csrfmiddlewaretoken" in html


def test_home_lists_public_petitions_only(client, petition) -> None:
    draft = PetitionFactory(status=Petition.Status.DRAFT)
    response = client.get("/", follow=True)
    html = response.content.decode()
    assert petition.title in html
    assert draft.title not in html


def test_signing_redirects_to_check_your_inbox_and_stores_a_pending_signature(
    client, petition, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_sign_url(petition), VALID, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    assert response["Location"].endswith("/check-your-inbox/")
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.consent_updates is True
    assert signature.language == "en"
    assert signature.ip_hash and "203.0.113.9" not in signature.ip_hash
    assert len(outbox) == 1


def test_signature_records_the_language_it_was_made_in(
    client, petition, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/it/p/{petition.slug}/sign/", VALID)
    assert response["Location"] == f"/it/p/{petition.slug}/check-your-inbox/"
    assert Signature.objects.get().language == "it"
    # The emailed link leads back to the Italian pages.
    assert f"/it/p/{petition.slug}/confirm/" in outbox[0].body


def _sign_and_read(client: Client, petition: Petition, email: str) -> tuple[int, str, str]:
    response = client.post(_sign_url(petition), VALID | {"email": email})
    page = client.get(response["Location"])
    return response.status_code, response["Location"], page.content.decode()


def test_response_is_identical_for_new_pending_and_confirmed_emails(client, petition) -> None:
    SignatureFactory(petition=petition, email="pending@example.org")
    SignatureFactory(petition=petition, email="confirmed@example.org", confirmed=True)
    new = _sign_and_read(client, petition, "new@example.org")
    pending = _sign_and_read(client, petition, "pending@example.org")
    confirmed = _sign_and_read(client, petition, "Confirmed+x@example.org")

    def strip_csrf(html: str) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert strip_csrf(new[2]) == strip_csrf(pending[2]) == strip_csrf(confirmed[2])
    assert new[:2] == pending[:2] == confirmed[:2]
    assert Signature.objects.filter(petition=petition).count() == 3


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": ""}, "email", "This field is required"),
        ({"email": "maria@"}, "email", "Enter a valid email address"),
        ({"email": "maria example.org"}, "email", "Enter a valid email address"),
        ({"name": ""}, "name", "This field is required"),
        ({"name": "M" * 201}, "name", "at most 200 characters"),
        ({"name": "Maria\x07 Rossi"}, "name", "invisible or control characters"),
        ({"name": "Maria\u202eissoR"}, "name", "invisible or control characters"),
        ({"name": "Maria\x00"}, "name", "Null characters are not allowed"),
        ({"name": "maria@example.org"}, "name", "not your email address"),
        ({"email": "x@" + "ü" * 60 + ".com"}, "email", "We cannot send email to this address"),
        ({"postal_code": "<script>"}, "postal_code", "Enter a postal code"),
        ({"country": "XX"}, "country", "Select a valid choice"),
        ({"display": "everyone"}, "display", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_next_to_its_field_and_writes_nothing(
    client, petition, outbox, changes, field, message
) -> None:
    response = client.post(_sign_url(petition), VALID | changes)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'id="error_1_id_{field}"' in html  # crispy renders the error beside the field
    assert "nothing was saved" in html
    assert not Signature.objects.exists()
    assert outbox == []


def test_a_malformed_email_gets_one_message_not_two(client, petition) -> None:
    html = client.post(_sign_url(petition), VALID | {"email": "maria@@example"}).content.decode()
    assert 'id="error_1_id_email"' in html
    assert 'id="error_2_id_email"' not in html
    assert "We cannot send email" not in html


def test_typed_values_survive_a_form_error(client, petition) -> None:
    response = client.post(_sign_url(petition), VALID | {"email": "broken@"})
    html = response.content.decode()
    assert 'value="Maria Rossi"' in html
    assert 'value="94612"' in html


@pytest.mark.parametrize("status", [Petition.Status.CLOSED])
def test_signing_a_closed_petition_is_refused_clearly(client, status) -> None:
    petition = PetitionFactory(status=status)
    response = client.post(_sign_url(petition), VALID)
    assert response.status_code == 409
    assert "This petition is closed" in response.content.decode()
    assert not Signature.objects.exists()


def test_petition_past_its_closing_date_says_it_is_closed(client) -> None:
    petition = PetitionFactory(closes_at=timezone.now() - timedelta(hours=1))
    response = client.get(petition.get_absolute_url())
    html = response.content.decode()
    assert "This petition is closed" in html
    assert "Final count" in html
    assert "<progress" not in html
    assert 'name="email"' not in html


def test_draft_petition_is_not_found(client) -> None:
    petition = PetitionFactory(status=Petition.Status.DRAFT)
    assert client.get(petition.get_absolute_url()).status_code == 404
    assert client.post(_sign_url(petition), VALID).status_code == 404
    assert not Signature.objects.exists()


def test_unknown_slug_is_a_readable_404(client) -> None:
    response = client.get("/en/p/no-such-petition/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_get_to_the_sign_endpoint_is_a_readable_405(client, petition) -> None:
    response = client.get(_sign_url(petition))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "only accepts a submitted form" in response.content.decode()


def test_forged_csrf_token_is_refused_with_a_clear_page(petition) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(petition.get_absolute_url())  # sets the CSRF cookie
    response = client.post(_sign_url(petition), VALID | {"csrfmiddlewaretoken": "forged" * 8})
    assert response.status_code == 403
    assert "Please send the form again" in response.content.decode()
    assert not Signature.objects.exists()


def test_real_csrf_token_is_accepted(petition) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(petition.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(_sign_url(petition), VALID | {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Signature.objects.count() == 1


def test_confirm_link_get_shows_one_button_and_changes_nothing(client, petition) -> None:
    signature = SignatureFactory(petition=petition)
    response = client.get(_confirm_path(signature))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('type="submit"') == 2  # the confirm button and the language switcher
    assert "Confirm my signature" in html
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_confirm_page_shows_the_name_as_it_will_appear(client, petition) -> None:
    signature = SignatureFactory(petition=petition, display="full", name="Maria Rossi")
    html = client.get(_confirm_path(signature)).content.decode()
    assert 'name="name" value="Maria Rossi"' in html
    assert re.search(r'value="full"[^>]*checked', html)


def test_confirm_link_post_confirms_and_twice_is_harmless(client, petition) -> None:
    signature = SignatureFactory(petition=petition, display="short", name="Maria Rossi")
    path = _confirm_path(signature)
    first = client.post(path, CONFIRM)
    assert first.status_code == 200
    assert "your signature is confirmed" in first.content.decode()
    assert "Maria R." in first.content.decode()
    second = client.post(path, CONFIRM | {"name": "Changed Later"})
    assert second.status_code == 200
    assert "already confirmed" in second.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.name == "Maria Rossi"


def test_mailbox_owner_corrects_the_name_someone_else_typed(client, petition) -> None:
    signature = SignatureFactory(petition=petition, display="full", name="Impostor Text")
    response = client.post(_confirm_path(signature), {"name": "Maria Rossi", "display": "withheld"})
    assert response.status_code == 200
    signature.refresh_from_db()
    assert (signature.status, signature.name, signature.display) == (
        Signature.Status.CONFIRMED,
        "Maria Rossi",
        "withheld",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "display": "short"}, "This field is required"),
        ({"name": "maria@example.org", "display": "short"}, "not your email address"),
        ({"name": "Maria", "display": "nobody"}, "Select a valid choice"),
    ],
)
def test_confirm_with_bad_input_says_why_and_confirms_nothing(
    client, petition, data, message
) -> None:
    signature = SignatureFactory(petition=petition)
    response = client.post(_confirm_path(signature), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_expired_link_offers_a_new_email_in_one_click(
    client, petition, django_capture_on_commit_callbacks, outbox, settings
) -> None:
    signature = SignatureFactory(petition=petition)
    long_ago = time.time() - settings.SIGNATURE_CONFIRM_MAX_AGE.total_seconds() - 60
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        path = _confirm_path(signature)
    response = client.post(path)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link has expired" in html
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        renewed = client.post(path + "renew/")
    assert renewed.status_code == 302
    assert len(outbox) == 1
    fresh = next(word for word in outbox[0].body.split() if "/confirm/" in word)
    assert client.post(fresh.removeprefix("http://127.0.0.1:8000"), CONFIRM).status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


@pytest.mark.parametrize(
    "damage", [lambda p: p[:-6] + "/", lambda p: p.replace("/confirm/", "/confirm/x")]
)
def test_tampered_link_gets_a_clear_page_that_offers_a_new_email(
    client, petition, damage, django_capture_on_commit_callbacks, outbox
) -> None:
    signature = SignatureFactory(petition=petition, email="maria@example.org")
    response = client.post(damage(_confirm_path(signature)))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link does not work" in html
    assert 'name="email"' in html
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING

    new_link = reverse("petitions:new_link", kwargs={"slug": petition.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_link, {"email": "maria@example.org"})
    assert response.status_code == 302
    assert len(outbox) == 1


@pytest.mark.parametrize("when", ["before", "half-way"])
def test_a_signature_withdrawn_while_its_confirmation_is_posted_gets_the_broken_link_page(
    petition, when
) -> None:
    # The signer withdraws it from "your signatures" (or retention deletes it) between the
    # view's lookup and the service's reads.
    signature = SignatureFactory(petition=petition)
    path = _confirm_path(signature)
    server = Client(raise_request_exception=False)  # the 500 page a browser would see
    # Patched where the view and the service look them up: the row goes just before the
    # service runs, or after its first read and before its last.
    module, target = (
        (services, "signature_confirm")
        if when == "before"
        else (signing, "signature_place_resolve")
    )
    real = getattr(module, target)

    def withdraw_then_go_on(**kwargs):
        Signature.objects.filter(pk=signature.pk).delete()
        return real(**kwargs)

    with mock.patch.object(module, target, side_effect=withdraw_then_go_on):
        response = server.post(path, CONFIRM)

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert not Signature.objects.filter(status=Signature.Status.CONFIRMED).exists()


def test_link_of_a_rejected_signature_confirms_nothing(client, petition) -> None:
    signature = SignatureFactory(petition=petition, status=Signature.Status.REJECTED)
    response = client.post(_confirm_path(signature), CONFIRM)
    assert response.status_code == 400
    assert "your signature is confirmed" not in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.REJECTED


def test_link_for_another_petition_does_not_confirm(client, petition) -> None:
    other = PetitionFactory()
    signature = SignatureFactory(petition=other)
    path = _confirm_path(signature).replace(other.slug, petition.slug)
    assert client.post(path).status_code == 400
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_new_link_form_answers_the_same_for_unknown_addresses(client, petition, outbox) -> None:
    new_link = reverse("petitions:new_link", kwargs={"slug": petition.slug})
    response = client.post(new_link, {"email": "stranger@example.org"})
    assert response.status_code == 302
    assert response["Location"].endswith("/check-your-inbox/")
    assert outbox == []
    bad = client.post(new_link, {"email": "stranger@"})
    assert bad.status_code == 400
    assert "Enter a valid email address" in bad.content.decode()


def test_the_new_link_form_does_the_same_work_for_known_and_unknown_addresses(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    # Reading, updating and queueing in the request for a signer only would let the response
    # time tell whether an address signed: the request queues one task for any address.
    SignatureFactory(petition=petition, email="maria@example.org")
    url = reverse("petitions:new_link", kwargs={"slug": petition.slug})
    with django_capture_on_commit_callbacks() as known:
        assert Client().post(url, {"email": "maria@example.org"}).status_code == 302
    with django_capture_on_commit_callbacks() as unknown:
        assert Client().post(url, {"email": "nobody@example.org"}).status_code == 302

    assert len(known) == len(unknown) == 1
    with django_capture_on_commit_callbacks(execute=True):
        for callback in known + unknown:
            callback()
    assert [message.to for message in outbox] == [["maria@example.org"]]


def test_pages_send_a_strict_content_security_policy(client, petition) -> None:
    response = client.get(petition.get_absolute_url())
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_healthz(client) -> None:
    assert client.get("/healthz").content == b"ok"


def test_pages_answer_head_requests_for_health_checks(client, petition) -> None:
    assert client.head(petition.get_absolute_url()).status_code == 200
    assert client.head("/healthz").status_code == 200


def test_sign_post_reads_only_the_petition_and_inserts(
    client, petition, django_assert_max_num_queries
) -> None:
    # First requests pay for what later ones find ready: the month's IP hash key, made by one
    # and read into the process's cache by the next (mechanisms.network), whichever test runs
    # first.
    for _ in range(2):
        client.post(_sign_url(petition), VALID | {"email": "warm-up@example.org"})
    # Session-free POST: petition by slug, then one statement that INSERTs the signature (or
    # finds the one it repeats) and the signer's email owed in the outbox (together, so a lost
    # task loses no email), with no savepoint around it. No sponsor prefetch, no read of
    # existing signatures.
    with django_assert_max_num_queries(2) as queries:
        response = client.post(_sign_url(petition), VALID)
    assert response.status_code == 302
    (write,) = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert re.findall(r'INSERT INTO "(\w+)"', write) == [
        "petitions_signature",
        "mechanisms_outboundemail",
    ]
