"""The outbox every email goes through: owed in the writer's transaction, claimed under a lease,
sent once, retried with backoff on transient errors only, failed for staff after its attempts,
swept when its task is lost."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from mechanisms import outbox, outbox_sender
from mechanisms.mail import EmailKind
from mechanisms.models import OutboundEmail
from mechanisms.outbox import Recipient

State = OutboundEmail.State
BUILT: list[int] = []
AFTER: list[tuple[str, int, bool]] = []


def _build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    if email.ref.get("gone"):
        return None
    BUILT.append(email.pk)
    return EmailMultiAlternatives(
        subject=f"About {email.about}", body=str(email.ref), to=[email.recipient]
    )


def _sent(email: OutboundEmail) -> None:
    AFTER.append(("sent", email.pk, True))


def _failed(email: OutboundEmail, error: str, final: bool) -> None:
    AFTER.append(("failed", email.pk, final))


ONCE = EmailKind("test_outbox_once", build=_build, after_send=_sent, after_failure=_failed)
PERIODIC = EmailKind("test_outbox_periodic", build=_build, cooldown=timedelta(minutes=15))
UNSOLICITED = EmailKind("test_outbox_unsolicited", build=_build, unsolicited=True)


def _broken(email: OutboundEmail) -> EmailMultiAlternatives:
    raise RuntimeError("template missing")


BROKEN = EmailKind("test_outbox_broken", build=_broken)


class FlakyBackend(LocmemBackend):
    """Django's test backend, made to fail the way a mail server does."""

    error: Exception | None = None
    attempted: list[str] = []

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        FlakyBackend.attempted += [m.extra_headers.get("Message-ID", "") for m in messages]
        if FlakyBackend.error is not None:
            raise FlakyBackend.error
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def _flaky_mail(settings):
    settings.EMAIL_BACKEND = "tests.mechanisms.test_outbox.FlakyBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_SWEEP_AGE_SECONDS = 120
    settings.OUTBOX_LEASE_SECONDS = 300
    FlakyBackend.error = None
    FlakyBackend.attempted = []
    BUILT.clear()
    AFTER.clear()
    mail.outbox = []


def _owe(kind: EmailKind = ONCE, *, to: str = "jane@example.org", about: object = 1, **kw) -> int:
    return outbox.email_enqueue(kind=kind, to=to, language="en", about=about, **kw)


def _row(email_id: int) -> OutboundEmail:
    return OutboundEmail.objects.get(pk=email_id)


@pytest.mark.django_db
def test_an_owed_email_is_sent_after_the_commit_and_forgets_its_address(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        email_id = _owe(ref={"thing": 7})
        assert mail.outbox == []  # not before the commit
    assert [m.to for m in mail.outbox] == [["jane@example.org"]]
    row = _row(email_id)
    assert row.state == State.SENT
    assert row.sent_at is not None
    assert row.recipient == ""
    assert [("sent", email_id, True)] == AFTER


@pytest.mark.django_db
def test_the_same_email_owed_twice_is_one_row_and_sent_once() -> None:
    first = _owe(to="Jane+news@Example.org")
    second = _owe(to="jane@example.org")
    assert first == second
    assert OutboundEmail.objects.count() == 1
    outbox.emails_send(email_ids=[first])
    outbox.emails_send(email_ids=[first])
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_kind_with_a_cooldown_owes_one_email_per_period() -> None:
    now = timezone.now()
    one = _owe(PERIODIC, now=now)
    assert _owe(PERIODIC, now=now + timedelta(seconds=5)) == one
    later = _owe(PERIODIC, now=now + timedelta(minutes=16))
    assert later != one
    assert OutboundEmail.objects.filter(kind=PERIODIC.name).count() == 2


@pytest.mark.django_db
def test_many_recipients_are_owed_at_once_and_sent_over_one_connection(monkeypatch) -> None:
    connections = []
    real = outbox_sender.get_connection
    monkeypatch.setattr(
        outbox_sender,
        "get_connection",
        lambda: connections.append(1) or real(),  # type: ignore[func-returns-value]
    )
    recipients = [Recipient(to=f"member{n}@example.org", language="en") for n in range(5)]
    created = outbox.emails_enqueue(kind=ONCE, about="update-1", recipients=recipients)
    assert created == 5
    # Again: all owed already, nothing new.
    assert outbox.emails_enqueue(kind=ONCE, about="update-1", recipients=recipients) == 0
    ids = list(OutboundEmail.objects.values_list("pk", flat=True))
    sent = outbox.emails_send(email_ids=ids)
    assert sent.sent == 5
    assert len(connections) == 1
    assert sorted(m.to[0] for m in mail.outbox) == [f"member{n}@example.org" for n in range(5)]


@pytest.mark.django_db
def test_a_row_another_worker_holds_is_left_to_it_until_its_lease_runs_out() -> None:
    email_id = _owe()
    now = timezone.now()
    OutboundEmail.objects.filter(pk=email_id).update(
        state=State.SENDING, attempts=1, claimed_until=now + timedelta(minutes=1)
    )
    assert outbox.emails_send(email_ids=[email_id]).skipped == 1
    assert mail.outbox == []
    # The worker died: once its lease is over the sweep hands the row on, and it goes.
    OutboundEmail.objects.filter(pk=email_id).update(claimed_until=now - timedelta(seconds=1))
    assert outbox.emails_sweep() == 1  # queued (and, in-process, sent)
    assert _row(email_id).state == State.SENT
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("gone"),
        TimeoutError("slow"),
        smtplib.SMTPRecipientsRefused({"jane@example.org": (450, b"greylisted")}),
        smtplib.SMTPDataError(451, b"try later"),
    ],
    ids=["disconnected", "timeout", "greylisted", "4xx"],
)
@pytest.mark.django_db
def test_a_transient_error_puts_the_email_back_with_a_backoff(error: Exception) -> None:
    email_id = _owe()
    FlakyBackend.error = error
    before = timezone.now()
    assert outbox.emails_send(email_ids=[email_id]).retrying == 1
    row = _row(email_id)
    assert row.state == State.PENDING
    assert row.attempts == 1
    assert row.not_before > before  # backed off
    assert type(error).__name__ in row.last_error
    assert [("failed", email_id, False)] == AFTER
    # Not due yet: the sweep leaves it; once due, it goes.
    assert outbox.emails_sweep(now=before) == 0
    FlakyBackend.error = None
    OutboundEmail.objects.filter(pk=email_id).update(not_before=timezone.now())
    assert outbox.emails_sweep() == 1
    assert _row(email_id).state == State.SENT
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"jane@example.org": (550, b"no such user")}),
        smtplib.SMTPDataError(554, b"rejected"),
    ],
    ids=["refused", "5xx"],
)
@pytest.mark.django_db
def test_a_permanent_error_fails_the_email_for_staff_to_retry(error: Exception) -> None:
    email_id = _owe()
    FlakyBackend.error = error
    assert outbox.emails_send(email_ids=[email_id]).failed == 1
    row = _row(email_id)
    assert row.state == State.FAILED
    assert row.recipient == "jane@example.org"  # kept, for the retry
    assert [("failed", email_id, True)] == AFTER
    assert outbox.emails_sweep(now=timezone.now() + timedelta(hours=1)) == 0
    FlakyBackend.error = None
    assert outbox.emails_retry(email_ids=[email_id]) == 1
    outbox.emails_send(email_ids=[email_id])
    assert _row(email_id).state == State.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_attempts_are_capped() -> None:
    email_id = _owe()
    FlakyBackend.error = smtplib.SMTPServerDisconnected("gone")
    for _ in range(3):
        OutboundEmail.objects.filter(pk=email_id).update(not_before=timezone.now())
        outbox.emails_send(email_ids=[email_id])
    row = _row(email_id)
    assert (row.state, row.attempts) == (State.FAILED, 3)
    assert AFTER[-1] == ("failed", email_id, True)
    OutboundEmail.objects.filter(pk=email_id).update(not_before=timezone.now())
    assert outbox.emails_send(email_ids=[email_id]).skipped == 1


@pytest.mark.django_db
def test_a_worker_dying_on_the_last_attempt_fails_the_email_visibly() -> None:
    email_id = _owe()
    OutboundEmail.objects.filter(pk=email_id).update(
        state=State.SENDING, attempts=3, claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert outbox.emails_sweep() == 0
    row = _row(email_id)
    assert row.state == State.FAILED
    assert "stopped" in row.last_error
    assert [("failed", email_id, True)] == AFTER


@pytest.mark.django_db
def test_nothing_left_to_say_drops_the_email() -> None:
    email_id = _owe(ref={"gone": True})
    assert outbox.emails_send(email_ids=[email_id]).dropped == 1
    row = _row(email_id)
    # Kept, its address would list who has no account or signature.
    assert (row.state, row.recipient) == (State.DROPPED, "")
    assert mail.outbox == []


@pytest.mark.django_db
def test_unsolicited_email_beyond_the_daily_budget_is_dropped(settings) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 2
    ids = [_owe(UNSOLICITED, to="stranger@example.org", about=n) for n in range(3)]
    outcome = outbox.emails_send(email_ids=ids)
    assert (outcome.sent, outcome.dropped) == (2, 1)
    assert (_row(ids[2]).last_error, _row(ids[2]).recipient) == ("Daily budget spent", "")
    # Another address has its own budget.
    other = _owe(UNSOLICITED, to="someone@example.org", about=0)
    assert outbox.emails_send(email_ids=[other]).sent == 1


@pytest.mark.django_db
def test_the_sweep_leaves_a_new_email_to_its_own_task_for_a_while() -> None:
    now = timezone.now()
    fresh = _owe(about="fresh", now=now)
    lost = _owe(about="lost", now=now - timedelta(minutes=5))
    assert outbox.emails_sweep(now=now) == 1
    assert _row(lost).state == State.SENT
    assert _row(fresh).state == State.PENDING


@pytest.mark.django_db
def test_an_unknown_kind_fails_rather_than_loops() -> None:
    email_id = _owe()
    OutboundEmail.objects.filter(pk=email_id).update(kind="no_such_kind")
    assert outbox.emails_send(email_ids=[email_id]).failed == 1
    assert "Unknown kind" in _row(email_id).last_error


@pytest.mark.django_db
def test_a_builder_that_breaks_is_retried_like_a_transient_error() -> None:
    email_id = _owe(BROKEN)
    assert outbox.emails_send(email_ids=[email_id]).retrying == 1
    row = _row(email_id)
    assert (row.state, row.attempts) == (State.PENDING, 1)
    assert "template missing" in row.last_error


@pytest.mark.django_db
def test_forgetting_a_person_drops_what_is_owed_to_them_and_their_address() -> None:
    owed = _owe(to="Jane@example.org")
    other = _owe(to="bob@example.org")
    assert outbox.emails_forget(canonical_email="jane@example.org") == 1
    row = _row(owed)
    assert (row.state, row.recipient) == (State.DROPPED, "")
    assert _row(other).state == State.PENDING


@pytest.mark.django_db
def test_old_sent_emails_are_pruned_and_unsent_ones_kept(settings) -> None:
    settings.OUTBOX_KEEP_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    sent = _owe(about="sent", now=old)
    outbox.emails_send(email_ids=[sent])
    failed = _owe(about="failed", now=old)
    OutboundEmail.objects.filter(pk=failed).update(state=State.FAILED)
    recent = _owe(about="recent")
    outbox.emails_send(email_ids=[recent])
    assert outbox.emails_prune() == 1
    assert set(OutboundEmail.objects.values_list("pk", flat=True)) == {failed, recent}


@pytest.mark.django_db
def test_staff_send_failed_emails_again_from_the_admin(admin_client) -> None:
    email_id = _owe()
    sent = _owe(about="other")
    outbox.emails_send(email_ids=[sent])
    OutboundEmail.objects.filter(pk=email_id).update(state=State.FAILED, last_error="550 no")
    response = admin_client.post(
        "/admin/mechanisms/outboundemail/",
        {"action": "retry", "_selected_action": [email_id, sent]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 email will be sent again." in page
    assert "1 email had not failed and was left alone." in page
    assert _row(email_id).state in (State.PENDING, State.SENT)
    listing = admin_client.get("/admin/mechanisms/outboundemail/?state=failed")
    assert listing.status_code == 200


@pytest.mark.django_db
def test_retries_do_not_spend_the_daily_budget_again(settings) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 1
    email_id = _owe(UNSOLICITED, to="stranger@example.org")
    FlakyBackend.error = smtplib.SMTPServerDisconnected("gone")
    outbox.emails_send(email_ids=[email_id])
    FlakyBackend.error = None
    OutboundEmail.objects.filter(pk=email_id).update(not_before=timezone.now())
    assert outbox.emails_send(email_ids=[email_id]).sent == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_each_email_keeps_one_message_id_across_attempts() -> None:
    """A copy sent again after a worker died past the server's "250" is the same message to a
    mail program that deduplicates."""
    first, second = _owe(about="a"), _owe(about="b")
    FlakyBackend.error = smtplib.SMTPServerDisconnected("gone")
    outbox.emails_send(email_ids=[first])
    FlakyBackend.error = None
    OutboundEmail.objects.filter(pk=first).update(not_before=timezone.now())
    outbox.emails_send(email_ids=[first, second])
    # (A batch sends the longest due first: `second`, then the retried `first`.)
    failed, *sent = FlakyBackend.attempted
    assert failed.startswith(f"<outbox-{first}.")
    assert sent.count(failed) == 1  # the same message, tried again
    (other,) = [message_id for message_id in sent if message_id != failed]
    assert other.startswith(f"<outbox-{second}.")
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == sorted(sent)


# --- The dispatcher: batches ------------------------------------------------------------------


class RefusingBackend(LocmemBackend):
    """A mail server that refuses one recipient and takes everyone else's mail, counting the
    connections it is opened for."""

    refused = "nobody@example.org"
    opened = 0

    def open(self):  # type: ignore[no-untyped-def]
        RefusingBackend.opened += 1
        return super().open()

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        if any(self.refused in m.to for m in messages):
            raise smtplib.SMTPRecipientsRefused({self.refused: (550, b"No such user")})
        return super().send_messages(messages)


@pytest.mark.django_db
def test_the_dispatcher_sends_everything_due_in_batches_over_one_connection(
    settings, monkeypatch
) -> None:
    settings.EMAIL_BACKEND = "tests.mechanisms.test_outbox.RefusingBackend"
    RefusingBackend.opened = 0
    ids = [_owe(to=f"member{n}@example.org", about=n) for n in range(5)]
    later = _owe(to="later@example.org", about="later")
    OutboundEmail.objects.filter(pk=later).update(not_before=timezone.now() + timedelta(hours=1))
    # Nothing was queued for them: in-process, the on-commit sends never ran in this test.
    assert mail.outbox == []

    outcome = outbox.emails_dispatch(seconds=60, batch_size=2)

    assert (outcome.sent, outcome.batches, outcome.skipped) == (5, 3, 0)
    assert RefusingBackend.opened == 1
    assert sorted(m.to[0] for m in mail.outbox) == [f"member{n}@example.org" for n in range(5)]
    assert {_row(i).state for i in ids} == {State.SENT}
    assert _row(later).state == State.PENDING  # not due yet: left for a later tick
    assert outbox.emails_dispatch(seconds=60).sent == 0


@pytest.mark.django_db
def test_a_refused_recipient_fails_alone_and_the_batch_goes_on_over_the_same_connection(
    settings,
) -> None:
    settings.EMAIL_BACKEND = "tests.mechanisms.test_outbox.RefusingBackend"
    RefusingBackend.opened = 0
    first = _owe(to="first@example.org", about="first")
    refused = _owe(to="nobody@example.org", about="refused")
    last = _owe(to="last@example.org", about="last")

    outcome = outbox.emails_dispatch(seconds=60)

    assert (outcome.sent, outcome.failed, outcome.batches) == (2, 1, 1)
    assert [m.to[0] for m in mail.outbox] == ["first@example.org", "last@example.org"]
    assert RefusingBackend.opened == 1  # the refusal left the session standing
    assert (_row(first).state, _row(last).state) == (State.SENT, State.SENT)
    failed = _row(refused)
    assert failed.state == State.FAILED
    assert "No such user" in failed.last_error
    assert ("failed", refused, True) in AFTER


@pytest.mark.django_db
def test_a_broken_connection_mid_batch_retries_that_email_and_reconnects_for_the_rest(
    settings,
) -> None:
    first, second = _owe(about="a"), _owe(to="john@example.org", about="b")
    calls = []

    class DropsOnce(LocmemBackend):
        def send_messages(self, messages):  # type: ignore[no-untyped-def]
            calls.append(self)
            if len(calls) == 1:
                raise smtplib.SMTPServerDisconnected("gone")
            return super().send_messages(messages)

    settings.EMAIL_BACKEND = f"{__name__}.DropsOnceBackend"
    globals()["DropsOnceBackend"] = DropsOnce
    outcome = outbox.emails_dispatch(seconds=60)
    assert (outcome.retrying, outcome.sent) == (1, 1)
    assert calls[0] is not calls[1], "a fresh connection after the dropped one"
    assert _row(first).state == State.PENDING and _row(first).not_before > timezone.now()
    assert _row(second).state == State.SENT


@pytest.mark.django_db
def test_a_batch_running_past_half_its_lease_puts_the_rest_back_untried(
    settings, monkeypatch
) -> None:
    ids = [_owe(to=f"member{n}@example.org", about=n) for n in range(4)]
    settings.OUTBOX_LEASE_SECONDS = 60
    # Each email takes 12 s of the monotonic clock: the third starts at 36 s, past half the lease.
    ticks = iter(range(0, 10_000, 12))
    monkeypatch.setattr(outbox_sender.time, "monotonic", lambda: float(next(ticks)))

    outcome = outbox.emails_send(email_ids=ids)

    assert (outcome.sent, outcome.released) == (2, 2)
    rows = [_row(i) for i in ids]
    assert [r.state for r in rows] == [State.SENT, State.SENT, State.PENDING, State.PENDING]
    # Put back as never tried: no attempt spent, no lease left behind.
    assert [(r.attempts, r.claimed_until) for r in rows[2:]] == [(0, None), (0, None)]


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_claim_disjoint_batches_without_waiting_for_each_other() -> None:
    """One claim holds its rows' locks (still in its transaction); the other skips them."""
    import threading

    from django.db import connection, transaction

    ids = [_owe(to=f"member{n}@example.org", about=n, queue=False) for n in range(4)]
    holding, release = threading.Event(), threading.Event()
    first: list[int] = []

    def slow_claimer() -> None:
        with transaction.atomic():
            first.extend(
                OutboundEmail.objects.select_for_update()
                .filter(pk__in=ids[:2])
                .values_list("pk", flat=True)
            )
            holding.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=slow_claimer)
    thread.start()
    try:
        assert holding.wait(30)
        outcome = outbox.emails_dispatch(seconds=60)
    finally:
        release.set()
        thread.join()
    assert sorted(first) == ids[:2]
    assert outcome.sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["member2@example.org", "member3@example.org"]
    assert [_row(i).state for i in ids[:2]] == [State.PENDING, State.PENDING]
