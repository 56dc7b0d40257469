"""Every kind of email survives losing its task, on real Celery, Redis, PostgreSQL and SMTP.

One email of each kind Cosign sends is made owed through the services people use, which publish
no task for it (the outbox's dispatcher finds it). Then:
- the worker is dead (`kill -9`) and the broker is emptied before any email was sent, and a new
  worker starts: each arrives exactly once;
- the worker is killed mid-batch, the mail server holding the batch's third email: each arrives
  exactly once, the held one and the rest of the batch after the dead worker's lease ran out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts import services as account_services
from accounts import webhooks
from accounts.models import WebhookEndpoint
from config.celery import app as celery_app
from letters import services as letter_services
from letters.moderation import individual_signatures_resend_confirmation
from mechanisms.mail import EMAIL_KINDS
from mechanisms.models import OutboundEmail
from mechanisms.tasks import outbox_dispatch
from petitions.drafting import services as drafting
from petitions.drafting.petition_kind import PETITION
from petitions.models import Petition, PetitionInvitation, PetitionUpdate, Signature, Target
from petitions.models.thresholds import Threshold, ThresholdRequest
from petitions.services import campaigns, deliveries, moderation, signing
from petitions.services.threshold_answers import threshold_answer_save
from petitions.thresholds import emails as threshold_emails
from tests.factories import (
    IndividualSignatureFactory,
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    PetitionFactory,
    SignatureFactory,
    TargetFactory,
    UnconfirmedOrganizationFactory,
    UserFactory,
)
from tests.services import (
    MailSink,
    broker_purge,
    broker_queued,
    celery_worker,
    smtp_serving,
    wait_until,
)

# On Redis and on RabbitMQ (tests/integration/conftest.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]

# The kinds the tests of other modules declare for themselves are not Cosign's.
COSIGN_KINDS = {name for name in EMAIL_KINDS if not name.startswith("test_")}
FAST_SWEEP = {
    "OUTBOX_SWEEP_SECONDS": "1",
    "OUTBOX_SWEEP_AGE_SECONDS": "1",
    "OUTBOX_LEASE_SECONDS": "3",
}


def _owe_one_of_each_kind() -> None:
    """Through the services, as people cause them; returns when every kind is owed."""
    staff = UserFactory(email="moderator@cosign.example", is_staff=True, is_superuser=True)
    sponsor = OrganizationFactory(name="Surveillance Technology Oversight Project")
    MembershipFactory(organization=sponsor, user=UserFactory(email="staff@stop.example.org"))
    mayor = TargetFactory(email="mayor@oakland.example.gov")
    petition = PetitionFactory(targets=[mayor], goal=1)
    petition.sponsors.add(sponsor)
    # The goal is also a response threshold: the mayor is asked (petition_threshold_request).
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)

    # A new signer (petition_signer), and one who confirmed long ago and asks for a new link.
    signing.signature_create(petition=petition, name="Maria Rossi", email="maria@example.net")
    confirmed = SignatureFactory(
        petition=petition, email="john@example.net", confirmed=True, consent_updates=True,
        region="CA", locality="Oakland",
    )  # fmt: skip
    signing.signature_new_link_request(petition=petition, email="john@example.net")
    pending = SignatureFactory(petition=petition, email="ada@example.net")
    moderation.signatures_resend_confirmation(signature_ids=[pending.pk], moderator=staff)
    # The count reaches the goal: sponsors hear of it; an update goes to consenting signers.
    Signature.objects.filter(pk=confirmed.pk).update(counted=False)
    campaigns.petition_counts_and_milestones_update()
    # The mayor answers through the link: staff hear of it (petition_threshold_answered).
    threshold_request = ThresholdRequest.objects.get(petition=petition)
    threshold_answer_save(
        slug=petition.slug,
        token=threshold_emails.answer_token(request=threshold_request),
        text="We will vote on it.",
    )
    update = PetitionUpdate.objects.create(
        petition=petition, title="The council votes Tuesday", body="Come.", email_signers=True
    )
    campaigns.petition_update_publish(update_id=update.pk)
    deliveries.deliveries_create(petition=petition, period="2026-12-05")

    # A letter: an individual signer, a resent link, co-signers told and turned down, published.
    lead = OrganizationFactory(name="Fight for the Future")
    lead_admin = MembershipFactory(organization=lead, user=UserFactory(email="lead@fftf.example"))
    letter = OpenLetterFactory(leads=[lead], individuals_may_sign=True)
    letter.targets.set([mayor])
    letter_services.individual_signature_create(
        letter=letter, name="Grace Hopper", email="grace@example.net"
    )
    waiting = IndividualSignatureFactory(letter=letter, email="alan@example.net")
    individual_signatures_resend_confirmation(signature_ids=[waiting.pk], moderator=staff)
    cosigner = OrganizationFactory(name="Media Alliance")
    member = MembershipFactory(organization=cosigner, user=UserFactory(email="ed@media.example"))
    signature = letter_services.letter_cosign(
        letter=letter, organization=cosigner, user=member.user
    )
    letter_services.cosignature_decide(
        signature_id=signature.pk, user=lead_admin.user, approve=False, reason="Off topic."
    )
    OrganizationSignatureFactory(letter=letter, organization=lead, approved=True)
    letter_services.letter_publish(letter_id=letter.pk)

    # Drafting, with the lead's one member (before a newcomer joins below): a proposed official
    # confirmed, one organization invited (it waits), another declining, the draft submitted to
    # staff; and an update to the lead's published petition waiting for review.
    draft = drafting.draft_create(
        kind=PETITION,
        campaign=Petition(title_en="Require a council vote", summary_en="Before any deal."),
        organization=lead,
        user=lead_admin.user,
    )
    proposed = drafting.target_propose(
        kind=PETITION,
        campaign_id=draft.pk,
        organization=lead,
        user=lead_admin.user,
        target=Target(name="Jane Roe", title="Mayor of Alameda", level="company"),
    )
    drafting.targets_confirm(target_ids=[proposed.pk], user=staff)
    drafting.invitation_create(
        kind=PETITION,
        campaign_id=draft.pk,
        organization=lead,
        invited=cosigner,
        role=PetitionInvitation.Role.CO_SPONSOR,
        user=lead_admin.user,
    )
    # Invited without its email (one email per kind here), then declining: the lead is told.
    declined = PetitionInvitation.objects.create(
        campaign=draft, organization=sponsor, role=PetitionInvitation.Role.CO_SPONSOR
    )
    drafting.invitation_decide(
        kind=PETITION,
        invitation_id=declined.pk,
        organization=sponsor,
        user=sponsor.memberships.get().user,
        accept=False,
    )
    drafting.draft_submit(
        kind=PETITION, campaign_id=draft.pk, organization=lead, user=lead_admin.user
    )
    approved = PetitionFactory(organization=lead, review="approved")
    drafting.update_submit(
        petition_id=approved.pk,
        organization=lead,
        user=lead_admin.user,
        update=PetitionUpdate(title_en="Hearing on Tuesday", body_en="Come."),
    )

    # An endpoint of the lead's failing (it leads to a private address, refused at every send):
    # turned off at its first failure, and its administrator told.
    hook = WebhookEndpoint.objects.create(
        organization=lead,
        url="https://127.0.0.1:9/hook",
        events=[WebhookEndpoint.Event.MILESTONE_REACHED],
        secret="whsec_dGVzdA==",
    )
    webhooks.webhook_events_emit(
        organization_ids=[lead.pk], event=WebhookEndpoint.Event.MILESTONE_REACHED, data={}
    )
    with override_settings(WEBHOOK_DISABLE_AFTER_FAILURES=1):
        webhooks.webhooks_dispatch()
    assert not WebhookEndpoint.objects.get(pk=hook.pk).active

    # Organizations: one registers; another confirmed its contact and is verified; an invitation.
    account_services.organization_register(
        name="Oakland Privacy",
        website="https://oaklandprivacy.example.org",
        contact_name="Tracy Rosenberg",
        contact_email="tracy@oaklandprivacy.example.org",
    )
    joining = UnconfirmedOrganizationFactory()
    account_services.organization_contact_confirm(organization_id=joining.pk)
    account_services.organization_verify(organization_id=joining.pk)
    account_services.membership_invite(
        organization=lead, email="newcomer@fftf.example", invited_by=lead_admin.user
    )
    UserFactory(email="holder@example.net")
    account_services.password_link_request(email="holder@example.net")
    account_services.my_signatures_link_request(email="maria@example.net", language="en")

    owed = set(OutboundEmail.objects.values_list("kind", flat=True))
    assert owed == COSIGN_KINDS, f"kinds not owed: {sorted(COSIGN_KINDS - owed)}"
    # The petition above, and the lead organization's draft and published one.
    assert Petition.objects.filter(organization__isnull=True).count() == 1


class PeerSink(MailSink):
    """Notes the client connection each message came over."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[object] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def test_owing_publishes_nothing_and_the_dispatcher_sends_each_email_once(
    tmp_path: Path,
) -> None:
    sink = PeerSink()
    with smtp_serving(sink) as smtp_port:
        with _no_worker_consuming():
            _broker_empty()
            _owe_one_of_each_kind()
            # Not one task for eighteen emails: a signer's request never talks to the broker.
            assert broker_queued(os.environ["CELERY_QUEUE"]) == 0
        with celery_worker(tmp_path, smtp_port=smtp_port, site_url="http://testserver"):
            wait_until(_all_settled, timeout=60, what="the dispatcher to send every owed email")
    _arrived_exactly_once(sink)
    # Over one connection: the dispatcher's batch, not a send per email.
    assert len(sink.peers) == len(COSIGN_KINDS)
    assert len(set(sink.peers)) == 1


def _broker_empty() -> None:
    """Drop every task waiting in this test's queue: the broker lost them."""
    broker_purge(os.environ["CELERY_QUEUE"])


def _arrived_exactly_once(sink: MailSink) -> None:
    """Every row the outbox sent reached the server once, and nothing else did."""
    deliveries_seen = Counter((m["To"], m["Subject"]) for m in sink.messages)
    twice = [key for key, count in deliveries_seen.items() if count > 1]
    assert twice == [], f"sent twice: {twice}"
    sent = OutboundEmail.objects.filter(state=OutboundEmail.State.SENT)
    assert sent.count() == len(sink.messages)
    assert set(sent.values_list("kind", flat=True)) == COSIGN_KINDS
    assert not OutboundEmail.objects.filter(
        state__in=(OutboundEmail.State.PENDING, OutboundEmail.State.SENDING)
    ).exists()


def _all_settled() -> bool:
    return not OutboundEmail.objects.filter(
        state__in=(OutboundEmail.State.PENDING, OutboundEmail.State.SENDING)
    ).exists()


@contextmanager
def _no_worker_consuming() -> Iterator[None]:
    """Tasks the services queue go to the broker, where no worker takes them."""
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = True


def _kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)


def test_every_kind_arrives_once_after_its_worker_died_and_the_broker_lost_everything(
    tmp_path: Path,
) -> None:
    sink = MailSink()
    with smtp_serving(sink) as smtp_port:
        # A worker that dies (kill -9) before it sends anything.
        with celery_worker(
            tmp_path / "first", smtp_port=smtp_port, site_url="http://testserver", beat=False
        ) as doomed:
            _kill(doomed)
        with _no_worker_consuming():
            _owe_one_of_each_kind()
            _broker_empty()
        assert sink.messages == []

        with celery_worker(
            tmp_path / "second", smtp_port=smtp_port, site_url="http://testserver", env=FAST_SWEEP
        ):
            wait_until(_all_settled, timeout=90, what="the dispatcher to send every owed email")
            settled = len(sink.messages)
            # More dispatcher ticks and sweeps find nothing more to send.
            sweeps_later = timezone.now()
            wait_until(
                lambda: (timezone.now() - sweeps_later).total_seconds() > 3,
                timeout=10,
                what="three more sweeps",
            )
            assert len(sink.messages) == settled
    _arrived_exactly_once(sink)


class HoldThirdMessageSink(MailSink):
    """A mail server slow to answer the third message: it holds its reply, and drops the message
    if the client goes away first, as a server that never said "250" has not accepted it. The
    first two it takes: the worker is killed mid-batch, not before it."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.seen = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.seen += 1
        if self.seen == 3:
            self.holding.set()
            # aiosmtpd cancels this when the client's connection drops.
            await asyncio.sleep(120)
        return await super().handle_DATA(server, session, envelope)


def test_every_kind_arrives_once_when_the_worker_is_killed_mid_batch(tmp_path: Path) -> None:
    sink = HoldThirdMessageSink()
    with smtp_serving(sink) as smtp_port:
        with _no_worker_consuming():
            _owe_one_of_each_kind()
        with celery_worker(
            tmp_path / "first",
            smtp_port=smtp_port,
            site_url="http://testserver",
            env=FAST_SWEEP,
            beat=False,
        ) as doomed:
            # One dispatcher run claims every owed email in one batch (without beat: its child
            # process would outlive the kill).
            outbox_dispatch.delay()
            wait_until(sink.holding.is_set, timeout=60, what="the third email to reach the server")
            _kill(doomed)
        # The two the server took are recorded; the one in flight and the rest of the batch are
        # still the dead worker's, until its lease runs out.
        assert OutboundEmail.objects.filter(state=OutboundEmail.State.SENT).count() == 2
        held = OutboundEmail.objects.filter(state=OutboundEmail.State.SENDING)
        assert held.count() == len(COSIGN_KINDS) - 2
        assert len(set(held.values_list("claimed_until", flat=True))) == 1, "one batch"

        with celery_worker(
            tmp_path / "second", smtp_port=smtp_port, site_url="http://testserver", env=FAST_SWEEP
        ):
            wait_until(_all_settled, timeout=90, what="the sweep to send every owed email")
            settled = len(sink.messages)
            later = timezone.now()
            wait_until(
                lambda: (timezone.now() - later).total_seconds() > 3,
                timeout=10,
                what="three more sweeps",
            )
            assert len(sink.messages) == settled
    _arrived_exactly_once(sink)
