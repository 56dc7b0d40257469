"""Updates to signers: publishing, mailing each consenting signer once through the outbox, and
unsubscribing."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from mechanisms import outbox as outbox_service
from mechanisms.models import OutboundEmail
from petitions import emails
from petitions.models import (
    Petition,
    PetitionUpdate,
    Signature,
)
from petitions.services import campaigns
from tests.factories import (
    PetitionFactory,
    SignatureFactory,
)

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # between an update's title and its petition's in the subject


def _subscriber(petition: Petition, **extra) -> Signature:
    return SignatureFactory(petition=petition, confirmed=True, consent_updates=True, **extra)


def _update(petition: Petition, **extra) -> PetitionUpdate:
    fields = {"title": "The council will vote", "body": "On **Monday**."} | extra
    return PetitionUpdate.objects.create(petition=petition, **fields)


def _path(url: str) -> str:
    return url.removeprefix(settings.SITE_URL)


# --- Updates ----------------------------------------------------------------------------------


def test_publishing_an_update_emails_consenting_confirmed_signers_of_its_petition_once(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    wanted = [_subscriber(petition), _subscriber(petition)]
    SignatureFactory(petition=petition, consent_updates=True)  # pending
    SignatureFactory(petition=petition, status=Signature.Status.REJECTED, consent_updates=True)
    SignatureFactory(petition=petition, confirmed=True, consent_updates=False)
    _subscriber(PetitionFactory())
    update = _update(petition)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.petition_update_publish(update_id=update.pk) is True
    update.refresh_from_db()
    published_at = update.published_at
    assert published_at is not None
    assert sorted(m.to[0] for m in outbox) == sorted(s.email for s in wanted)
    assert outbox[0].subject == f"The council will vote {DASH} {petition.title}"

    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.petition_update_publish(update_id=update.pk) is False
    update.refresh_from_db()
    assert update.published_at == published_at
    assert len(outbox) == 2


def test_update_email_carries_one_click_unsubscribe_headers_and_link(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    signature = _subscriber(petition)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=_update(petition).pk)
    (message,) = outbox
    link = emails.unsubscribe_url(signature=signature)
    assert link.startswith(f"{settings.SITE_URL}/en/p/{petition.slug}/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
    assert "<strong>Monday</strong>" in message.alternatives[0][0]


def test_an_update_not_meant_for_email_is_published_but_not_mailed(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    _subscriber(petition)
    update = _update(petition, email_signers=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.petition_update_publish(update_id=update.pk) is True
    update.refresh_from_db()
    assert update.published_at is not None
    assert update.mailing_started_at is None
    assert outbox == []


def test_each_signer_reads_the_update_in_their_own_language(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    italian = _subscriber(petition, language="it")
    english = _subscriber(petition, language="en")
    update = _update(petition, title_it="Il consiglio voterà", body_it="Lunedì.")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=update.pk)
    by_address = {m.to[0]: m for m in outbox}
    to_italian, to_english = by_address[italian.email], by_address[english.email]
    assert to_italian.subject.startswith(f"Il consiglio voterà {DASH} ")
    assert "Ciao" in to_italian.body
    assert "Lunedì." in to_italian.body
    assert "The council will vote" not in to_italian.body
    assert to_english.subject.startswith(f"The council will vote {DASH} ")
    assert "Hello" in to_english.body
    assert "Il consiglio" not in to_english.body


def test_an_italian_signers_unsubscribe_link_leads_to_the_italian_page(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    _subscriber(petition, language="it")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=_update(petition).pk)
    (message,) = outbox
    assert f"{settings.SITE_URL}/it/p/{petition.slug}/\n" in message.body
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{settings.SITE_URL}/it/p/{petition.slug}/unsubscribe/")


State = OutboundEmail.State
SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


def _publish_unsent(update: PetitionUpdate, capture_callbacks) -> list[OutboundEmail]:
    """Publish `update` and keep its send tasks from running (for the test to run, or lose)."""
    with capture_callbacks(execute=False):
        assert campaigns.petition_update_publish(update_id=update.pk) is True
    return list(OutboundEmail.objects.filter(kind="petition_update").order_by("pk"))


def _failing_for(address: str, error: Exception, real=LocmemBackend.send_messages):
    """The test mail backend, except that sending to `address` raises `error`."""

    def send(backend, messages):
        if any(address in message.to for message in messages):
            raise error
        return real(backend, messages)

    return send


def _update_state(signature: Signature) -> str:
    return OutboundEmail.objects.get(kind="petition_update", ref__signature=signature.pk).state


def test_mailing_goes_out_in_batches_each_email_once(
    petition, outbox, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    monkeypatch.setattr(outbox_service, "SEND_CHUNK", 2)
    signers = [_subscriber(petition) for _ in range(5)]
    update = _update(petition)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        campaigns.petition_update_publish(update_id=update.pk)
    assert len(callbacks) == 3  # 2 + 2 + 1 emails, each batch one task
    assert sorted(m.to[0] for m in outbox) == sorted(s.email for s in signers)
    rows = OutboundEmail.objects.filter(kind="petition_update")
    assert sorted(rows.values_list("state", flat=True)) == [State.SENT] * 5
    # A batch run again finds nothing to claim; the mailing owed again, nothing new.
    assert outbox_service.emails_send(email_ids=list(rows.values_list("pk", flat=True))).sent == 0
    assert (
        outbox_service.emails_enqueue(
            kind=emails.UPDATE,
            about=update.pk,
            recipients=[outbox_service.Recipient(to=s.email, language=s.language) for s in signers],
        )
        == 0
    )
    assert len(outbox) == 5


def test_a_signer_who_unsubscribes_after_the_mailing_started_is_skipped(
    petition, outbox, django_capture_on_commit_callbacks
) -> None:
    stays, leaves = _subscriber(petition), _subscriber(petition)
    owed = _publish_unsent(_update(petition), django_capture_on_commit_callbacks)
    campaigns.signature_unsubscribe(signature_id=leaves.pk)
    sent = outbox_service.emails_send(email_ids=[e.pk for e in owed])
    assert (sent.sent, sent.dropped) == (1, 1)
    assert [m.to for m in outbox] == [[stays.email]]
    assert _update_state(leaves) == State.DROPPED


def test_a_failed_send_is_retried_so_a_rerun_sends_it(
    petition, outbox, django_capture_on_commit_callbacks
) -> None:
    signers = sorted((_subscriber(petition) for _ in range(3)), key=lambda s: s.pk)
    owed = _publish_unsent(_update(petition), django_capture_on_commit_callbacks)
    flaky = _failing_for(signers[1].email, smtplib.SMTPServerDisconnected("gone"))
    with mock.patch(SEND, flaky):
        sent = outbox_service.emails_send(email_ids=[e.pk for e in owed])
    assert (sent.sent, sent.retrying) == (2, 1)
    assert _update_state(signers[1]) == State.PENDING
    assert sorted(m.to[0] for m in outbox) == sorted([signers[0].email, signers[2].email])

    # Its backoff over, the sweep sends it, and only it.
    OutboundEmail.objects.filter(state=State.PENDING).update(not_before=timezone.now())
    assert outbox_service.emails_sweep() == 1
    assert sorted(m.to[0] for m in outbox) == sorted(s.email for s in signers)
    assert not OutboundEmail.objects.exclude(state=State.SENT).exists()


def test_a_refused_address_does_not_stop_the_rest_of_its_batch(
    petition, outbox, django_capture_on_commit_callbacks
) -> None:
    signers = sorted((_subscriber(petition) for _ in range(3)), key=lambda s: s.pk)
    owed = _publish_unsent(_update(petition), django_capture_on_commit_callbacks)
    refused = smtplib.SMTPRecipientsRefused({signers[1].email: (550, b"No such user")})
    with mock.patch(SEND, _failing_for(signers[1].email, refused)):
        sent = outbox_service.emails_send(email_ids=[e.pk for e in owed])
    assert (sent.sent, sent.failed) == (2, 1)
    assert sorted(m.to[0] for m in outbox) == [signers[0].email, signers[2].email]
    assert _update_state(signers[1]) == State.FAILED
    # A refused address is not tried again when the batch runs again, nor by the sweep.
    assert outbox_service.emails_send(email_ids=[e.pk for e in owed]).sent == 0
    assert outbox_service.emails_sweep(now=timezone.now() + timedelta(days=1)) == 0
    assert len(outbox) == 2


def test_links_for_an_italian_signer_are_italian_whatever_language_the_worker_speaks(
    petition,
) -> None:
    signature = _subscriber(petition, language="it")
    with translation.override("en"):
        confirm = emails.confirmation_url(signature=signature)
        unsubscribe = emails.unsubscribe_url(signature=signature)
    assert confirm.startswith(f"{settings.SITE_URL}/it/p/{petition.slug}/confirm/")
    assert unsubscribe.startswith(f"{settings.SITE_URL}/it/p/{petition.slug}/unsubscribe/")


# --- Unsubscribing ----------------------------------------------------------------------------


def _consents(signature: Signature) -> bool:
    signature.refresh_from_db()
    return signature.consent_updates


def test_unsubscribe_link_asks_on_get_and_stops_updates_on_post(client, petition) -> None:
    signature, other = _subscriber(petition), _subscriber(petition)
    path = _path(emails.unsubscribe_url(signature=signature))
    html = client.get(path).content.decode()
    # A mail scanner following the link changes nothing.
    assert '<form method="post">' in html
    assert "Stop emailing me updates</button>" in html
    assert _consents(signature) is True
    response = client.post(path)
    assert response.status_code == 200
    assert "You will get no more updates" in response.content.decode()
    assert _consents(signature) is False
    assert _consents(other) is True
    assert signature.status == Signature.Status.CONFIRMED


def test_one_click_unsubscribe_needs_no_csrf_token(petition) -> None:
    signature = _subscriber(petition)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        _path(emails.unsubscribe_url(signature=signature)),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert _consents(signature) is False


def test_a_tampered_unsubscribe_link_is_refused_clearly(client, petition) -> None:
    signature = _subscriber(petition)
    path = _path(emails.unsubscribe_url(signature=signature))
    last = path[-2]  # the path ends with a slash
    path = path[:-2] + ("A" if last != "A" else "B") + "/"
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    assert _consents(signature) is True


def test_an_unsubscribe_link_for_another_petition_is_refused(client, petition) -> None:
    elsewhere = _subscriber(PetitionFactory())
    signature = _subscriber(petition)
    token = _path(emails.unsubscribe_url(signature=elsewhere)).rstrip("/").rsplit("/", 1)[1]
    path = reverse("petitions:unsubscribe", kwargs={"slug": petition.slug, "token": token})
    assert client.post(path).status_code == 400
    assert _consents(elsewhere) is True
    assert _consents(signature) is True


def test_a_later_update_skips_whoever_unsubscribed(
    client, petition, django_capture_on_commit_callbacks, outbox
) -> None:
    leaves, stays = _subscriber(petition), _subscriber(petition)
    client.post(_path(emails.unsubscribe_url(signature=leaves)))
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=_update(petition).pk)
    assert [m.to for m in outbox] == [[stays.email]]


def test_a_lost_mailing_is_sent_by_the_sweep_once_and_only_what_was_not_sent(
    petition, outbox, django_capture_on_commit_callbacks
) -> None:
    """The send tasks were lost (the broker went away after the commit): the outbox rows
    exist, nothing was sent. The sweep sends them, once, and leaves what was sent or refused."""
    signers = [_subscriber(petition) for _ in range(4)]
    owed = _publish_unsent(_update(petition), django_capture_on_commit_callbacks)
    outbox_service.emails_send(email_ids=[owed[0].pk])  # this one's task did run
    refused = OutboundEmail.objects.filter(pk=owed[3].pk)
    refused.update(state=State.FAILED, last_error="SMTPRecipientsRefused: 550")
    outbox.clear()
    later = timezone.now() + timedelta(minutes=20)
    assert outbox_service.emails_sweep(now=later) == 2
    assert sorted(m.to[0] for m in outbox) == sorted(s.email for s in signers[1:3])
    assert outbox_service.emails_sweep(now=later) == 0
    assert len(outbox) == 2
    assert refused.get().state == State.FAILED


def test_the_sweep_leaves_a_mailing_that_is_still_recent(
    petition, outbox, django_capture_on_commit_callbacks
) -> None:
    _subscriber(petition)
    _publish_unsent(_update(petition), django_capture_on_commit_callbacks)
    # Its task may still be on its way.
    assert outbox_service.emails_sweep() == 0
    assert outbox == []
