"""Bounces and complaints: reading recorded DSNs and ARF reports, and what each report does to the
email it names (mechanisms.bounces and each kind's rule)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from letters import services as letter_services
from letters.models import IndividualSignature
from mechanisms import outbox as outbox_service
from mechanisms.bounce_reports import report_parse
from mechanisms.bounces import BounceReport, bounce_record, bounces_prune, email_suppressed
from mechanisms.deliveries import BOUNCED_PREFIX, delivery_email_id, delivery_email_owe
from mechanisms.models import BounceEvent, EmailSuppression, OutboundEmail
from mechanisms.outbox import recipient_key
from mechanisms.personal_data import personal_records_withdraw
from petitions import services
from petitions.emails import CONFIRMATIONS, NEW_LINK, UPDATE
from petitions.models import Delivery, Petition, PetitionUpdate, Signature
from petitions.services import campaigns, deliveries
from tests.bounces import dsn, our_message_id
from tests.factories import OpenLetterFactory, PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.django_db

Type = BounceEvent.Type
State = OutboundEmail.State
ADDRESS = "maria.rossi@example.net"


# --- Reading DSNs and complaint reports ---------------------------------------------------------

ID = "<outbox-41.petition_signer.0123456789abcdef0123@cosign.example.org>"


@pytest.mark.parametrize(
    ("sample", "kind", "status", "diagnostic"),
    [
        ("postfix_hard", Type.HARD, "5.1.1", "User unknown in virtual mailbox table"),
        ("gmail_hard", Type.HARD, "5.1.1", "does not exist"),
        ("outlook_hard", Type.HARD, "5.5.0", "mailbox unavailable"),
        ("exim_soft", Type.SOFT, "4.2.2", "over quota"),
    ],
)
def test_each_mail_servers_dsn_reads_as_one_report_for_its_recipient(
    sample: str, kind: str, status: str, diagnostic: str
) -> None:
    parsed = report_parse(dsn(sample, message_id=ID, recipient=ADDRESS))
    assert parsed.reports is not None, parsed.why
    (report,) = parsed.reports
    assert report.type == kind
    assert report.status == status
    assert report.recipient == ADDRESS
    assert report.message_id == ID
    assert diagnostic in report.description
    assert report.source == "mailbox"


def test_a_delay_warning_is_a_report_with_nothing_to_act_on() -> None:
    parsed = report_parse(dsn("postfix_delayed", message_id=ID, recipient=ADDRESS))
    assert parsed.reports == []


def test_an_arf_abuse_report_is_a_complaint() -> None:
    parsed = report_parse(dsn("arf_complaint", message_id=ID, recipient=ADDRESS))
    assert parsed.reports is not None
    (report,) = parsed.reports
    assert (report.type, report.recipient, report.message_id) == (Type.COMPLAINT, ADDRESS, ID)


def test_a_redacted_complaint_names_no_recipient() -> None:
    parsed = report_parse(dsn("arf_complaint", message_id=ID, recipient="redacted@example.net"))
    assert parsed.reports is not None
    assert parsed.reports[0].recipient == ""


def test_an_autoreply_is_no_report() -> None:
    parsed = report_parse(dsn("autoreply", message_id=ID, recipient=ADDRESS))
    assert parsed.reports is None
    assert "not a report" in parsed.why


def test_the_same_dsn_read_twice_has_the_same_event_id() -> None:
    raw = dsn("postfix_hard", message_id=ID, recipient=ADDRESS)
    first, second = report_parse(raw).reports, report_parse(raw).reports
    assert first and second and first[0].event_id == second[0].event_id


# --- Helpers ----------------------------------------------------------------------------------


def _sign(petition: Petition, email: str = ADDRESS, **extra) -> Signature:
    fields = {"name": "Maria Rossi", "email": email, "postal_code": "94612", "country": "US"}
    return Signature.objects.get(pk=services.signature_create(petition=petition, **fields | extra))


def _row(kind, **filters) -> OutboundEmail:
    return OutboundEmail.objects.filter(kind=kind.name, **filters).latest("pk")


def _report(email: OutboundEmail, kind: str = Type.HARD, **extra) -> BounceReport:
    fields = {
        "source": "mailbox",
        "event_id": f"test-{email.pk}-{kind}",
        "type": kind,
        "message_id": our_message_id(email),
        "recipient": ADDRESS,
        "status": "5.1.1" if kind == Type.HARD else "4.2.2",
        "description": f"550 5.1.1 <{ADDRESS}>: User unknown",
    }
    return BounceReport(**fields | extra)


# --- Hard bounces -----------------------------------------------------------------------------


def test_a_hard_bounced_confirmation_makes_the_signature_undeliverable_and_never_resent(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    long_ago = timezone.now() - settings.SIGNATURE_NOTICE_INTERVAL - timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(petition, now=long_ago)
    assert len(outbox) == 1
    email = _row(CONFIRMATIONS.signer)

    event = bounce_record(report=_report(email))

    assert event is not None and event.type == Type.HARD
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None
    assert signature.status == Signature.Status.PENDING
    email.refresh_from_db()
    assert email.state == State.FAILED and email.last_error.startswith("Bounced")
    # The diagnostic is kept without the address in it.
    assert ADDRESS not in event.description and "User unknown" in event.description
    assert "undeliverable" in event.effect

    # Signing again in a new notice period, asking for a new link, a moderator's resend: the
    # rows are written as for anyone, and nothing is sent.
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
        services.signature_new_link_request(petition=petition, email=ADDRESS)
    assert len(outbox) == 1
    assert _row(CONFIRMATIONS.signer, state=State.DROPPED)
    assert _row(NEW_LINK).state == State.DROPPED


def test_the_new_link_page_answers_alike_for_an_undeliverable_signer(
    client, petition, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
    bounce_record(report=_report(_row(CONFIRMATIONS.signer)))
    url = reverse("petitions:new_link", kwargs={"slug": petition.slug})
    answers = []
    for address in (ADDRESS, "nobody@example.net"):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(client.post(url, {"email": address}, follow=True))
    check_inbox = reverse("petitions:check_inbox", kwargs={"slug": petition.slug})
    # (The pages differ only by their per-request CSRF token.)
    assert [a.redirect_chain for a in answers] == [[(check_inbox, 302)]] * 2
    assert [a.templates[0].name for a in answers] == ["petitions/check_inbox.html"] * 2
    assert len(outbox) == 1


def test_a_hard_bounced_new_link_marks_the_signature_it_was_for(
    petition, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(petition)
    outbox_service.email_enqueue(
        kind=NEW_LINK,
        to=ADDRESS,
        language="en",
        about=petition.pk,
        ref={"petition": petition.pk},
        queue=False,
    )
    email = _row(NEW_LINK)
    outbox_service.emails_send(email_ids=[email.pk])
    bounce_record(report=_report(email))
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None


def test_a_hard_bounced_letter_signature_is_undeliverable_too(
    django_capture_on_commit_callbacks, outbox
) -> None:
    letter = OpenLetterFactory(individuals_may_sign=True)
    with django_capture_on_commit_callbacks(execute=True):
        signature_id = letter_services.individual_signature_create(
            letter=letter, name="Maria Rossi", email=ADDRESS
        )
    email = OutboundEmail.objects.get(kind="letter_signer")
    bounce_record(report=_report(email))
    assert IndividualSignature.objects.get(pk=signature_id).undeliverable_at is not None


def test_a_hard_bounced_update_suppresses_the_address_for_every_later_update(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    bounced = SignatureFactory(
        petition=petition, confirmed=True, consent_updates=True, email=ADDRESS
    )
    other = SignatureFactory(petition=petition, confirmed=True, consent_updates=True)
    elsewhere = SignatureFactory(
        petition=PetitionFactory(), confirmed=True, consent_updates=True, email=ADDRESS
    )
    first = PetitionUpdate.objects.create(petition=petition, title="Vote on Monday", body="x")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=first.pk)
    assert len(outbox) == 2
    bounce_record(report=_report(_row(UPDATE, ref__signature=bounced.pk)))
    assert email_suppressed(recipient_key=recipient_key(ADDRESS))

    mail.outbox.clear()
    second = PetitionUpdate.objects.create(petition=petition, title="We won", body="y")
    third = PetitionUpdate.objects.create(petition=elsewhere.petition, title="News", body="z")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=second.pk)
        campaigns.petition_update_publish(update_id=third.pk)
    assert [m.to[0] for m in outbox] == [other.email]
    # Suppressed, not unsubscribed: the signer's own choice stays as they made it.
    bounced.refresh_from_db()
    assert bounced.consent_updates is True


def test_a_hard_bounced_delivery_fails_for_staff_to_see(admin_client) -> None:
    target = TargetFactory(email="mayor@oakland.example.gov")
    petition = PetitionFactory(targets=[target])
    SignatureFactory(
        petition=petition, confirmed=True, country="US", region="CA", locality="Oakland"
    )
    delivery = Delivery.objects.create(petition=petition, target=target, period="manual")
    delivery_email_owe(
        kind=deliveries.DELIVERY,
        delivery_id=delivery.pk,
        to=target.email,
        language="en",
        queue=False,
    )
    deliveries.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    email = OutboundEmail.objects.get(
        pk=delivery_email_id(kind=deliveries.DELIVERY, delivery_id=delivery.pk)
    )
    bounce_record(
        report=_report(
            email,
            recipient=target.email,
            description="550 5.1.1 <mayor@oakland.example.gov>: no such user",
        )
    )
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith(BOUNCED_PREFIX)
    assert target.email not in delivery.last_error

    page = admin_client.get(reverse("admin:petitions_delivery_changelist"))
    assert "1 delivery bounced" in page.content.decode()
    events = admin_client.get(reverse("admin:mechanisms_bounceevent_changelist"))
    assert "The delivery failed" in events.content.decode()


# --- Soft bounces -----------------------------------------------------------------------------


def test_a_soft_bounce_sends_the_email_again_after_its_backoff(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(petition)
    email = _row(CONFIRMATIONS.signer)
    assert email.recipient == ""  # cleared once sent

    event = bounce_record(report=_report(email, Type.SOFT))

    assert event is not None and "sent again" in event.effect
    email.refresh_from_db()
    assert email.state == State.PENDING and email.recipient == ADDRESS
    assert email.not_before > timezone.now()
    signature.refresh_from_db()
    assert signature.undeliverable_at is None
    # Past its backoff, the outbox sends it again, to the same person.
    OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
    outbox_service.emails_send(email_ids=[email.pk])
    assert [m.to[0] for m in outbox] == [ADDRESS, ADDRESS]
    email.refresh_from_db()
    assert (email.state, email.attempts) == (State.SENT, 2)


def test_a_soft_bounce_past_the_outboxs_attempts_counts_as_hard(
    petition, django_capture_on_commit_callbacks, settings
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(petition)
    email = _row(CONFIRMATIONS.signer)
    OutboundEmail.objects.filter(pk=email.pk).update(attempts=settings.OUTBOX_MAX_ATTEMPTS)
    email.refresh_from_db()
    bounce_record(report=_report(email, Type.SOFT))
    email.refresh_from_db()
    assert email.state == State.FAILED
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None


def test_a_soft_bounced_delivery_waits_and_goes_again() -> None:
    target = TargetFactory(email="mayor@oakland.example.gov")
    petition = PetitionFactory(targets=[target])
    delivery = Delivery.objects.create(petition=petition, target=target, period="manual")
    delivery_email_owe(
        kind=deliveries.DELIVERY,
        delivery_id=delivery.pk,
        to=target.email,
        language="en",
        queue=False,
    )
    deliveries.delivery_send(delivery_id=delivery.pk)
    email = OutboundEmail.objects.get(
        pk=delivery_email_id(kind=deliveries.DELIVERY, delivery_id=delivery.pk)
    )
    bounce_record(report=_report(email, Type.SOFT, recipient=target.email))
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
    outbox_service.emails_send(email_ids=[email.pk])
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert [m.to[0] for m in mail.outbox] == [target.email, target.email]


# --- Complaints -------------------------------------------------------------------------------


def test_a_complaint_about_an_update_unsubscribes_its_signer(
    petition, django_capture_on_commit_callbacks
) -> None:
    signer = SignatureFactory(
        petition=petition, confirmed=True, consent_updates=True, email=ADDRESS
    )
    update = PetitionUpdate.objects.create(petition=petition, title="Vote", body="x")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=update.pk)
    event = bounce_record(report=_report(_row(UPDATE), Type.COMPLAINT, status=""))
    assert event is not None and "unsubscribed" in event.effect
    signer.refresh_from_db()
    assert signer.consent_updates is False
    assert EmailSuppression.objects.get().reason == Type.COMPLAINT


# --- What is ignored, and what happens once -----------------------------------------------------


def test_a_report_heard_twice_acts_once(petition, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
    email = _row(CONFIRMATIONS.signer)
    report = _report(email, Type.SOFT)
    first = bounce_record(report=report)
    OutboundEmail.objects.filter(pk=email.pk).update(state=State.SENT, attempts=1)
    second = bounce_record(report=report)
    assert first is not None and second is not None and first.pk == second.pk
    assert BounceEvent.objects.count() == 1
    # The replay did not put the email back in line a second time.
    assert OutboundEmail.objects.get(pk=email.pk).state == State.SENT


def test_a_forged_message_id_or_another_recipient_changes_nothing(
    petition, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(petition)
    email = _row(CONFIRMATIONS.signer)
    guessed = f"<outbox-{email.pk}.{email.kind}.{'0' * 20}@cosign.example.org>"
    assert bounce_record(report=_report(email, message_id=guessed)) is None
    assert bounce_record(report=_report(email, recipient="someone.else@example.net")) is None
    assert bounce_record(report=_report(email, message_id="<unknown@example.net>")) is None
    signature.refresh_from_db()
    assert signature.undeliverable_at is None
    assert not BounceEvent.objects.exists() and not EmailSuppression.objects.exists()
    assert OutboundEmail.objects.get(pk=email.pk).state == State.SENT


def test_the_providers_id_kept_on_the_row_names_the_email(
    petition, django_capture_on_commit_callbacks, settings
) -> None:
    # anymail's test backend answers as a provider does, with a message id of its own.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(petition)
    email = _row(CONFIRMATIONS.signer)
    assert email.provider_message_id
    # The provider is handed our Message-ID as metadata, which its webhooks echo back.
    (sent,) = mail.outbox
    assert sent.anymail_test_params["metadata"] == {"cosign_message_id": our_message_id(email)}
    bounce_record(report=_report(email, message_id=email.provider_message_id))
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None


def test_retention_deletes_old_bounces_and_suppressions(
    petition, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
    bounce_record(report=_report(_row(CONFIRMATIONS.signer)))
    assert bounces_prune() == {"bounces_deleted": 0, "suppressions_deleted": 0}
    far = timezone.now() + timedelta(
        days=max(settings.BOUNCE_KEEP_DAYS, settings.BOUNCE_SUPPRESSION_DAYS) + 1
    )
    assert bounces_prune(now=far) == {"bounces_deleted": 1, "suppressions_deleted": 1}


def test_bounce_records_are_read_only_for_staff(admin_client) -> None:
    assert not User.objects.filter(is_superuser=False).exists()
    response = admin_client.get(reverse("admin:mechanisms_bounceevent_add"))
    assert response.status_code == 403


def test_the_privacy_page_says_what_bounces_keep_and_for_how_long(client, settings) -> None:
    settings.BOUNCE_KEEP_DAYS = 45
    settings.BOUNCE_SUPPRESSION_DAYS = 400
    text = " ".join(client.get(reverse("privacy")).content.decode().split())
    assert "a link that bounced is never sent again, and updates stop" in text
    assert "is deleted after 45 days" in text
    assert "a keyed hash of the address, which does not reveal it, for 400 days" in text


def test_withdrawing_everything_forgets_that_the_address_bounced(
    petition, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
    other = SignatureFactory(confirmed=True, email="someone.else@example.net")
    bounce_record(report=_report(_row(CONFIRMATIONS.signer)))
    EmailSuppression.objects.create(recipient_key=recipient_key(other.email), reason=Type.HARD)
    personal_records_withdraw(canonical_email=ADDRESS, refs=None)
    assert not email_suppressed(recipient_key=recipient_key(ADDRESS))
    assert email_suppressed(recipient_key=recipient_key(other.email))
