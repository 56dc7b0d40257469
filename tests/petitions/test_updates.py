"""Updates to signers: publishing, batched mailing each email once, and unsubscribing."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from petitions import emails, tasks
from petitions.models import (
    Petition,
    PetitionUpdate,
    Signature,
    UpdateEmail,
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


def _start_mailing(petition: Petition, batch_size: int) -> tuple[PetitionUpdate, list[tuple]]:
    """Split a published update's mailing, keeping the batches for the test to run."""
    update = _update(petition, published_at=timezone.now())
    with mock.patch.object(tasks, "petition_update_send_batch") as send_batch:
        campaigns.petition_update_mail(update_id=update.pk, batch_size=batch_size)
    return update, [c.args for c in send_batch.delay.call_args_list]


def test_mailing_goes_out_in_batches_each_email_once(petition, outbox) -> None:
    signers = [_subscriber(petition) for _ in range(5)]
    update = _update(petition, published_at=timezone.now())
    assert campaigns.petition_update_mail(update_id=update.pk, batch_size=2) == 3
    assert sorted(m.to[0] for m in outbox) == sorted(s.email for s in signers)
    assert not UpdateEmail.objects.filter(sent_at__isnull=True).exists()
    first, last = min(s.pk for s in signers), max(s.pk for s in signers)
    again = campaigns.petition_update_send_batch(update_id=update.pk, first_id=first, last_id=last)
    assert again == 0
    assert campaigns.petition_update_mail(update_id=update.pk, batch_size=2) == 0
    assert len(outbox) == 5


def test_a_signer_who_unsubscribes_after_the_mailing_started_is_skipped(petition, outbox) -> None:
    stays, leaves = _subscriber(petition), _subscriber(petition)
    _, batches = _start_mailing(petition, batch_size=500)
    campaigns.signature_unsubscribe(signature_id=leaves.pk)
    sent = sum(
        campaigns.petition_update_send_batch(update_id=u, first_id=a, last_id=b)
        for u, a, b in batches
    )
    assert sent == 1
    assert [m.to for m in outbox] == [[stays.email]]
    assert UpdateEmail.objects.get(signature=leaves).sent_at is None


def test_a_failed_send_is_released_so_a_rerun_sends_it(petition, outbox, monkeypatch) -> None:
    signers = sorted((_subscriber(petition) for _ in range(3)), key=lambda s: s.pk)
    update, [(_, first, last)] = _start_mailing(petition, batch_size=500)
    real_send = emails.update_email_send
    failures = [signers[1].pk]

    def flaky_send(*, update: PetitionUpdate, signature: Signature) -> None:
        if signature.pk in failures:
            failures.remove(signature.pk)
            raise smtplib.SMTPServerDisconnected("gone")
        real_send(update=update, signature=signature)

    monkeypatch.setattr(emails, "update_email_send", flaky_send)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        campaigns.petition_update_send_batch(update_id=update.pk, first_id=first, last_id=last)
    sent_at = dict(UpdateEmail.objects.values_list("signature_id", "sent_at"))
    assert sent_at[signers[0].pk] is not None
    assert sent_at[signers[1].pk] is None
    assert [m.to for m in outbox] == [[signers[0].email]]

    rerun = campaigns.petition_update_send_batch(update_id=update.pk, first_id=first, last_id=last)
    assert rerun == 2
    assert sorted(m.to[0] for m in outbox) == sorted(s.email for s in signers)
    assert not UpdateEmail.objects.filter(sent_at__isnull=True).exists()


def test_a_refused_address_does_not_stop_the_rest_of_its_batch(
    petition, outbox, monkeypatch
) -> None:
    signers = sorted((_subscriber(petition) for _ in range(3)), key=lambda s: s.pk)
    update, [(_, first, last)] = _start_mailing(petition, batch_size=500)
    real_send = emails.update_email_send

    def refuse_one(*, update: PetitionUpdate, signature: Signature) -> None:
        if signature == signers[1]:
            raise smtplib.SMTPRecipientsRefused({signature.email: (550, b"No such user")})
        real_send(update=update, signature=signature)

    monkeypatch.setattr(emails, "update_email_send", refuse_one)
    assert tasks.petition_update_send_batch.apply(args=(update.pk, first, last)).get() == 2
    assert sorted(m.to[0] for m in outbox) == [signers[0].email, signers[2].email]
    refused = UpdateEmail.objects.get(signature=signers[1])
    assert (refused.sent_at, refused.failed_at is not None) == (None, True)
    # A refused address is not tried again when the batch runs again.
    monkeypatch.setattr(emails, "update_email_send", real_send)
    assert tasks.petition_update_send_batch.apply(args=(update.pk, first, last)).get() == 0


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
    petition, outbox
) -> None:
    """The worker that claimed the mailing died before queueing its batches: the rows exist,
    nothing was sent. The sweep sends them, once, and leaves what was sent or refused."""
    signers = [_subscriber(petition) for _ in range(3)]
    update = _update(petition, published_at=timezone.now())
    started = timezone.now() - timedelta(minutes=20)
    PetitionUpdate.objects.filter(pk=update.pk).update(mailing_started_at=started)
    UpdateEmail.objects.bulk_create(
        [UpdateEmail(update=update, signature=s) for s in signers[:2]]
        + [UpdateEmail(update=update, signature=signers[2], failed_at=started)]
    )
    assert campaigns.petition_update_emails_resend_lost() == 1
    assert sorted(m.to[0] for m in outbox) == sorted(s.email for s in signers[:2])
    assert campaigns.petition_update_emails_resend_lost() == 0
    assert len(outbox) == 2


def test_the_sweep_leaves_a_mailing_that_is_still_recent(petition, outbox) -> None:
    signer = _subscriber(petition)
    update = _update(petition, published_at=timezone.now())
    PetitionUpdate.objects.filter(pk=update.pk).update(mailing_started_at=timezone.now())
    UpdateEmail.objects.create(update=update, signature=signer)
    assert campaigns.petition_update_emails_resend_lost() == 0
    assert outbox == []
