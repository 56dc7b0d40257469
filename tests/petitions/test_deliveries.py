"""Deliveries to the officials a petition targets: scheduling each period once, routing each
target its own constituents, the email and its CSV, failures and retries, the deliver command,
and publishing an official's response."""

from __future__ import annotations

import csv
import io
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.models import User
from mechanisms import outbox as outbox_service
from mechanisms.deliveries import delivery_email_id, delivery_email_owe
from mechanisms.message_ids import outbox_message_id
from mechanisms.models import OutboundEmail
from petitions import selectors
from petitions.models import (
    Delivery,
    DeliverySchedule,
    Petition,
    PetitionMilestone,
    Response,
    Target,
)
from petitions.services import deliveries
from tests.factories import PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # a Wednesday
DEMAND = "End the police partnership with the doorbell camera company."


def _petition(*targets: Target, **extra) -> Petition:
    return PetitionFactory(targets=targets, **{"demand": DEMAND} | extra)


def _signer(petition: Petition, *, locality: str = "Oakland", region: str = "CA", **extra):
    fields = {"country": "US", "locality": locality, "region": region} | extra
    return SignatureFactory(petition=petition, confirmed=True, **fields)


def _delivery(petition: Petition, target: Target, period: str = "manual", **extra) -> Delivery:
    """A delivery and the email it owes its target, as deliveries_create makes them (the send
    left to the test)."""
    delivery = Delivery.objects.create(petition=petition, target=target, period=period, **extra)
    delivery_email_owe(
        kind=deliveries.DELIVERY,
        delivery_id=delivery.pk,
        to=target.email,
        language=petition.language,
        queue=False,
    )
    return delivery


def _email(delivery: Delivery) -> QuerySet[OutboundEmail]:
    """The delivery's row in the outbox."""
    return OutboundEmail.objects.filter(
        pk=delivery_email_id(kind=deliveries.DELIVERY, delivery_id=delivery.pk)
    )


def _send(delivery: Delivery) -> Delivery:
    deliveries.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _csv_rows(message: mail.EmailMessage) -> list[list[str]]:
    (attachment,) = message.attachments
    return list(csv.reader(io.StringIO(attachment.content)))


SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


def _failing(error: Exception, *, to: str | None = None, real=LocmemBackend.send_messages):
    """The test mail backend, except that it raises `error` (for mail to `to`, if given)."""

    def send(backend, messages):
        if to is None or any(to in message.to for message in messages):
            raise error
        return real(backend, messages)

    return mock.patch(SEND, send)


def _refusing(address: str):
    """The mail server refuses `address` for good."""
    return _failing(
        smtplib.SMTPRecipientsRefused({address: (550, b"5.1.1 No such mailbox")}), to=address
    )


# --- Scheduling -------------------------------------------------------------------------------


def test_schedule_creates_one_delivery_per_target_for_the_day_that_ended_and_no_more_when_rerun(
    django_capture_on_commit_callbacks,
) -> None:
    mayor, council = (
        TargetFactory(),
        TargetFactory(title="City Council of Oakland", email="council@ex.gov"),
    )
    no_email = TargetFactory(title="Mayor of Berkeley", locality="Berkeley", email="")
    retired = TargetFactory(title="Former mayor", active=False)
    petition = _petition(mayor, council, no_email, retired, delivery_schedule="daily")
    _signer(petition, confirmed_at=NOW - timedelta(hours=20))  # yesterday, 13:30

    with django_capture_on_commit_callbacks() as callbacks:
        assert deliveries.deliveries_schedule(now=NOW) == 2
    assert len(callbacks) == 2  # one send task each, after commit
    rows = Delivery.objects.filter(petition=petition)
    assert sorted(rows.values_list("target__title", "period", "status")) == [
        ("City Council of Oakland", "2026-11-24", "pending"),
        ("Mayor of Oakland", "2026-11-24", "pending"),
    ]

    with django_capture_on_commit_callbacks() as callbacks:
        assert deliveries.deliveries_schedule(now=NOW + timedelta(minutes=5)) == 0
    assert callbacks == []
    assert rows.count() == 2


def test_a_day_or_week_nobody_signed_in_delivers_nothing() -> None:
    daily = _petition(TargetFactory(), delivery_schedule="daily")
    _signer(daily, confirmed_at=NOW - timedelta(days=3))
    weekly = _petition(TargetFactory(), delivery_schedule="weekly")
    _signer(weekly, confirmed_at=NOW - timedelta(hours=1))  # this week, not the one that ended
    assert deliveries.deliveries_schedule(now=NOW) == 0
    assert not Delivery.objects.exists()


def test_weekly_deliveries_are_named_for_the_iso_week_that_ended() -> None:
    petition = _petition(TargetFactory(), delivery_schedule="weekly")
    _signer(petition, confirmed_at=datetime(2026, 11, 16, 0, 5, tzinfo=UTC))  # Monday, W47
    assert deliveries.deliveries_schedule(now=NOW) == 1
    assert Delivery.objects.get().period == "2026-W47"


def test_milestone_schedule_delivers_at_the_highest_goal_reached() -> None:
    petition = _petition(TargetFactory(), delivery_schedule=DeliverySchedule.MILESTONE)
    _signer(petition)
    assert deliveries.deliveries_schedule(now=NOW) == 0
    PetitionMilestone.objects.create(petition=petition, goal=100)
    PetitionMilestone.objects.create(petition=petition, goal=250)
    assert deliveries.deliveries_schedule(now=NOW) == 1
    assert Delivery.objects.get().period == "goal-250"
    PetitionMilestone.objects.create(petition=petition, goal=500)
    assert deliveries.deliveries_schedule(now=NOW) == 1
    assert sorted(Delivery.objects.values_list("period", flat=True)) == ["goal-250", "goal-500"]


def test_close_schedule_delivers_once_the_petition_has_ended() -> None:
    still_open = _petition(TargetFactory(), delivery_schedule="close")
    ended = _petition(TargetFactory(), delivery_schedule="close", status=Petition.Status.CLOSED)
    past_its_date = _petition(
        TargetFactory(), delivery_schedule="close", closes_at=NOW - timedelta(minutes=1)
    )
    _petition(TargetFactory(), delivery_schedule="none", status=Petition.Status.CLOSED)
    for petition in (still_open, ended, past_its_date):
        _signer(petition)
    assert deliveries.deliveries_schedule(now=NOW) == 2
    assert sorted(Delivery.objects.values_list("petition", "period")) == [
        (ended.pk, "close"),
        (past_its_date.pk, "close"),
    ]
    assert not still_open.deliveries.exists()


# --- Sending: routing and the email -----------------------------------------------------------


def test_each_target_is_sent_the_count_of_its_own_constituents(
    django_capture_on_commit_callbacks, outbox
) -> None:
    mayor = TargetFactory()
    governor = TargetFactory(
        title="Governor of California", level=Target.Level.STATE, locality="", email="gov@ca.gov"
    )
    congress = TargetFactory(
        title="US Congress", level=Target.Level.NATIONAL, region="", locality="", email="c@us.gov"
    )
    ceo = TargetFactory(
        title="CEO of Doorbell Co.", level=Target.Level.COMPANY, country="", region="",
        locality="", email="ceo@doorbell.example.com",
    )  # fmt: skip
    petition = _petition(mayor, governor, congress, ceo)
    _signer(petition)
    _signer(petition, locality="oakland", region="ca")  # places compare ignoring case
    _signer(petition, locality="Berkeley")
    _signer(petition, locality="Portland", region="OR")
    _signer(petition, locality="", region="")  # postal code not found
    _signer(petition, country="IT", region="RM", locality="Roma")
    SignatureFactory(petition=petition, locality="Oakland", region="CA")  # not confirmed

    with django_capture_on_commit_callbacks(execute=True):
        deliveries.deliveries_create(petition=petition, period="manual")
    counts = dict(Delivery.objects.values_list("target__title", "total_count"))
    assert counts == {
        "Mayor of Oakland": 2,
        "Governor of California": 3,
        "US Congress": 5,
        "CEO of Doorbell Co.": 6,
    }
    by_address = {message.to[0]: message for message in outbox}
    to_mayor = by_address["mayor@oakland.example.gov"]
    assert to_mayor.subject == f"2 constituents ask: {DEMAND}"
    assert to_mayor.body.startswith("Dear Mayor of Oakland,")
    assert "2 of your constituents have signed the petition" in to_mayor.body
    assert f"“{DEMAND}”" in to_mayor.body
    assert "<blockquote" in to_mayor.alternatives[0][0]
    to_ceo = by_address["ceo@doorbell.example.com"]
    assert to_ceo.subject == f"6 people ask: {DEMAND}"
    assert "6 people have signed the petition" in to_ceo.body


def test_without_a_demand_the_email_quotes_the_summary_and_the_subject_names_the_title(
    outbox,
) -> None:
    mayor = TargetFactory()
    petition = _petition(mayor, demand="")
    _signer(petition)
    _send(_delivery(petition, mayor))
    (message,) = outbox
    assert message.subject == f"1 constituent asks: {petition.title}"
    assert f"“{petition.summary}”" in message.body


def test_new_count_is_what_was_confirmed_since_the_last_sent_delivery(outbox) -> None:
    mayor = TargetFactory()
    petition = _petition(mayor)
    earlier = timezone.now() - timedelta(hours=2)
    _signer(petition, confirmed_at=earlier)
    _signer(petition, confirmed_at=earlier)
    first = _send(_delivery(petition, mayor, "2026-11-23"))
    assert (first.status, first.total_count, first.new_count) == ("sent", 2, 2)
    assert "since our last delivery" not in outbox[0].body  # the first one is all new
    # As if it had been sent an hour ago; a failed delivery since then does not count.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.filter(pk=first.pk).update(claimed_at=an_hour_ago, sent_at=an_hour_ago)
    _delivery(petition, mayor, "2026-11-24", status="failed", claimed_at=timezone.now())
    _signer(petition)

    second = _send(_delivery(petition, mayor, "2026-11-25"))
    assert (second.status, second.total_count, second.new_count) == ("sent", 3, 1)
    assert "3 of your constituents have signed" in outbox[1].body
    assert "1 of them signed since our last delivery." in outbox[1].body


def test_the_csv_lists_names_as_chosen_and_places_never_addresses_and_no_formulas(
    outbox,
) -> None:
    mayor = TargetFactory()
    petition = _petition(mayor, slug="end-ring-oakland")
    _signer(petition, name="Maria Rossi", display="full", postal_code="94612", comment="Not here.")
    _signer(petition, name="John Smith", display="short", postal_code="94607", comment="-1+1")
    _signer(petition, name="Jane Roe", display="withheld", postal_code="94610")
    _signer(petition, name="=HYPERLINK(1)", display="full")
    _signer(petition, name="Elsewhere Person", locality="Berkeley")
    _send(_delivery(petition, mayor, "2026-11-24"))

    (message,) = outbox
    (attachment,) = message.attachments
    assert attachment.filename == "end-ring-oakland-2026-11-24.csv"
    assert attachment.mimetype == "text/csv"
    header, *rows = _csv_rows(message)
    assert header == ["name", "locality", "region", "date confirmed", "comment"]
    today = timezone.localdate().isoformat()
    assert sorted(rows) == sorted(
        [
            ["Maria Rossi", "Oakland", "CA", today, "Not here."],
            ["John S.", "Oakland", "CA", today, "'-1+1"],
            ["Name withheld", "Oakland", "CA", today, ""],
            ["'=HYPERLINK(1)", "Oakland", "CA", today, ""],
        ]
    )
    content = attachment.content
    assert "@" not in content
    for code in ("94612", "94607", "94610"):
        assert code not in content
    assert "Smith" not in content
    assert "Jane" not in content


def test_the_csv_quotes_every_cell_so_a_semicolon_never_starts_a_formula() -> None:
    """A spreadsheet whose list separator is ";" (Italian Excel) splits "Rossi;=HYPERLINK(1)"
    into two cells, the second a formula: every cell is quoted, and what follows a ";" gets
    an apostrophe too, since a later cell's quotes may not keep it whole."""
    petition = _petition()
    _signer(petition, name="Maria Rossi;=HYPERLINK(1)", display="full", comment="a;@SUM(A1)")
    text = deliveries.delivery_csv(signatures=petition.signatures.all())
    for line in text.splitlines():
        cells = next(csv.reader(io.StringIO(line), delimiter=";"))
        assert not [cell for cell in cells if cell.lstrip().startswith(("=", "+", "-", "@"))]
    data_line = text.splitlines()[1]
    assert data_line.startswith('"Maria Rossi;\'=HYPERLINK(1)","Oakland"')
    assert data_line.endswith('"a;\'@SUM(A1)"')


def test_each_delivery_email_has_its_own_stable_message_id(outbox) -> None:
    mayor = TargetFactory()
    petition = _petition(mayor)
    delivery = _send(_delivery(petition, mayor))
    # The outbox row's keyed Message-ID, which a bounce of it names (mechanisms.bounces).
    (email,) = _email(delivery)
    assert outbox[0].extra_headers["Message-ID"] == outbox_message_id(pk=email.pk, kind=email.kind)


# --- Failures, retries, and running twice -----------------------------------------------------


def test_a_second_send_of_the_same_delivery_finds_nothing_to_claim(outbox) -> None:
    mayor = TargetFactory()
    delivery = _delivery(_petition(mayor), mayor)
    assert deliveries.delivery_send(delivery_id=delivery.pk) is True
    assert deliveries.delivery_send(delivery_id=delivery.pk) is False
    assert len(outbox) == 1


def test_a_transient_smtp_error_gives_the_delivery_back_for_a_retry(outbox) -> None:
    mayor = TargetFactory()
    delivery = _delivery(_petition(mayor), mayor)

    with _failing(smtplib.SMTPServerDisconnected("Connection unexpectedly closed")):
        assert deliveries.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "Connection unexpectedly closed" in delivery.last_error
    email = _email(delivery).get()
    assert (email.state, email.attempts) == (OutboundEmail.State.PENDING, 1)
    assert email.not_before > timezone.now()  # backed off

    # Not sent again before the backoff ends; then it is.
    assert deliveries.delivery_send(delivery_id=delivery.pk) is False
    _email(delivery).update(not_before=timezone.now())
    delivery = _send(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(outbox) == 1


def test_the_last_allowed_attempt_failing_marks_the_delivery_failed(settings) -> None:
    mayor = TargetFactory()
    attempts = settings.OUTBOX_MAX_ATTEMPTS - 1
    delivery = _delivery(_petition(mayor), mayor, attempts=attempts)
    _email(delivery).update(attempts=attempts)

    with _failing(TimeoutError("timed out")):
        assert deliveries.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.attempts == settings.OUTBOX_MAX_ATTEMPTS
    assert "timed out" in delivery.last_error
    assert _email(delivery).get().state == OutboundEmail.State.FAILED


def test_a_refused_address_marks_the_delivery_failed(outbox) -> None:
    mayor = TargetFactory()
    delivery = _delivery(_petition(mayor), mayor)
    failed = {"outcome": "failed"}
    failed_before = REGISTRY.get_sample_value("cosign_delivery_failures_total", failed) or 0
    with _refusing(mayor.email):
        assert deliveries.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("failed", 1, None)
    # Counted for the metrics (README "Operating").
    assert REGISTRY.get_sample_value("cosign_delivery_failures_total", failed) == failed_before + 1
    assert "No such mailbox" in delivery.last_error
    assert outbox == []
    # Failed for good: no sweep sends it again; staff may (below).
    assert outbox_service.emails_sweep(now=timezone.now() + timedelta(days=1)) == 0


def test_the_admin_retry_action_puts_a_failed_delivery_back_and_it_is_sent(
    client, django_capture_on_commit_callbacks, outbox
) -> None:
    mayor = TargetFactory()
    petition = _petition(mayor)
    _signer(petition)
    failed = _delivery(petition, mayor, status="failed", attempts=8, last_error="SMTP: 550")
    _email(failed).update(state=OutboundEmail.State.FAILED, attempts=8, last_error="SMTP: 550")
    sent = _delivery(
        petition, mayor, "earlier", status="sent", sent_at=timezone.now(), total_count=1
    )
    client.force_login(User.objects.create_superuser("moderator@cosign.test", "a-long-password"))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:petitions_delivery_changelist"),
            {"action": "retry_failed", ACTION_CHECKBOX_NAME: [failed.pk, sent.pk]},
            follow=True,
        )
    assert "1 delivery will be sent again." in response.content.decode()
    assert "1 delivery had not failed" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.total_count) == ("sent", 1, 1)
    assert [message.to for message in outbox] == [[mayor.email]]


def test_the_delivery_admin_is_a_read_only_record(client) -> None:
    mayor = TargetFactory()
    delivery = _delivery(_petition(mayor), mayor)
    client.force_login(User.objects.create_superuser("moderator@cosign.test", "a-long-password"))
    assert client.get(reverse("admin:petitions_delivery_changelist")).status_code == 200
    page = client.get(reverse("admin:petitions_delivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert client.get(reverse("admin:petitions_delivery_add")).status_code == 403


def test_staff_publish_a_response_from_the_admin_once_and_then_cannot_edit_its_words(
    client, django_capture_on_commit_callbacks, outbox
) -> None:
    mayor = TargetFactory()
    petition = _petition(mayor)
    _signer(petition, consent_updates=True)
    response = Response.objects.create(petition=petition, target=mayor, text="We hear you.")
    client.force_login(User.objects.create_superuser("moderator@cosign.test", "a-long-password"))
    changelist = reverse("admin:petitions_response_changelist")
    assert client.get(reverse("admin:petitions_response_add")).status_code == 200
    assert (
        'name="text"'
        in client.get(
            reverse("admin:petitions_response_change", args=[response.pk])
        ).content.decode()
    )

    for expected in ("Published 1 response.", "1 response was already published"):
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post(
                changelist,
                {"action": "publish", ACTION_CHECKBOX_NAME: [response.pk]},
                follow=True,
            )
        assert expected in page.content.decode()
    assert len(outbox) == 1
    assert client.get(changelist).status_code == 200
    change = client.get(reverse("admin:petitions_response_change", args=[response.pk]))
    assert 'name="text"' not in change.content.decode()


@pytest.mark.parametrize(
    ("state", "swept"),
    [
        # A worker died holding it: its lease ran out, or not yet.
        ({"state": "sending", "attempts": 1, "claimed_until": -timedelta(seconds=1)}, True),
        ({"state": "sending", "attempts": 1, "claimed_until": timedelta(minutes=4)}, False),
        # Its task was lost, or may still be on its way.
        ({"state": "pending", "not_before": -timedelta(minutes=5)}, True),
        ({"state": "pending", "not_before": -timedelta(seconds=30)}, False),
        # A retry whose backoff is over, or not yet.
        ({"state": "pending", "attempts": 2, "not_before": -timedelta(seconds=1)}, True),
        ({"state": "pending", "attempts": 2, "not_before": timedelta(minutes=1)}, False),
        # Failed for good: staff's to retry.
        ({"state": "failed", "attempts": 8, "not_before": -timedelta(hours=1)}, False),
    ],
)
def test_the_sweep_sends_what_a_dead_worker_or_a_lost_task_left(state, swept, outbox) -> None:
    mayor = TargetFactory()
    now = timezone.now()
    fields = {
        key: now + value if isinstance(value, timedelta) else value for key, value in state.items()
    }
    delivery = _delivery(_petition(mayor), mayor)
    _email(delivery).update(**fields)
    assert outbox_service.emails_sweep() == int(swept)
    delivery.refresh_from_db()
    assert (delivery.status == "sent") is swept
    assert len(outbox) == int(swept)


def test_a_delivery_whose_worker_died_on_every_attempt_ends_failed(settings) -> None:
    mayor = TargetFactory()
    delivery = _delivery(_petition(mayor), mayor, status="sending", attempts=8)
    _email(delivery).update(
        state=OutboundEmail.State.SENDING,
        attempts=settings.OUTBOX_MAX_ATTEMPTS,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    assert outbox_service.emails_sweep() == 0
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_delivery_at_once_send_one_email(outbox) -> None:
    mayor = TargetFactory()
    delivery = _delivery(_petition(mayor), mayor)
    barrier = threading.Barrier(2, timeout=10)
    results: list[bool] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(deliveries.delivery_send(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert len(outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_running_at_once_create_and_send_each_delivery_once(outbox) -> None:
    """Both see no delivery for the day before either inserts; the unique row lets one insert
    each, and only the one that inserted a row has it sent."""
    mayor, council = (
        TargetFactory(),
        TargetFactory(title="City Council of Oakland", email="c@oakland.gov"),
    )
    petition = _petition(mayor, council, delivery_schedule="daily")
    _signer(petition, confirmed_at=NOW - timedelta(hours=20))
    barrier = threading.Barrier(2, timeout=10)
    bulk_create = Delivery.objects.bulk_create
    created: list[int] = []

    def bulk_create_after_both_looked(*args, **kwargs):
        barrier.wait()
        return bulk_create(*args, **kwargs)

    def schedule() -> None:
        try:
            created.append(deliveries.deliveries_schedule(now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule) for _ in range(2)]
    with mock.patch.object(Delivery.objects, "bulk_create", bulk_create_after_both_looked):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(created) == [0, 2]  # a thread that raised appended nothing
    assert Delivery.objects.count() == 2
    assert sorted(message.to[0] for message in outbox) == ["c@oakland.gov", mayor.email]


# --- The deliver command ----------------------------------------------------------------------


def test_deliver_command_sends_now_and_prints_a_line_per_target_and_a_summary(outbox) -> None:
    mayor = TargetFactory()
    council = TargetFactory(title="City Council of Oakland", email="council@oakland.example.gov")
    berkeley = TargetFactory(title="Mayor of Berkeley", locality="Berkeley", email="")
    petition = _petition(mayor, council, berkeley, slug="end-ring-oakland")
    _petition(TargetFactory(title="Unrelated"), slug="another-one")
    _signer(petition)
    _signer(petition)

    out = io.StringIO()
    with _refusing(council.email):
        call_command("deliver", "end-ring-oakland", "--period", "hearing", stdout=out)
    assert out.getvalue().splitlines() == [
        "end-ring-oakland (hearing):",
        "  City Council of Oakland — failed: SMTPRecipientsRefused: "
        "{'council@oakland.example.gov': (550, b'5.1.1 No such mailbox')}",
        "  Mayor of Berkeley — no email, skipped",
        "  Mayor of Oakland: 2 in total, 2 new — sent",
        "Delivered 1 petition(s): 1 sent, 1 skipped (no email), 0 with no constituents yet, "
        "1 failed.",
    ]
    assert [message.to for message in outbox] == [[mayor.email]]
    assert set(Delivery.objects.values_list("period", flat=True)) == {"hearing"}

    out = io.StringIO()
    call_command("deliver", "end-ring-oakland", "--period", "hearing", stdout=out)
    assert "  Mayor of Oakland: 2 in total, 2 new — already sent on " in out.getvalue()
    assert len(outbox) == 1


def test_deliver_command_without_slugs_delivers_every_petition_with_targets(outbox) -> None:
    first = _petition(TargetFactory())
    second = _petition(TargetFactory(email="other@oakland.example.gov"))
    _petition(TargetFactory(email="draft@oakland.example.gov"), status=Petition.Status.DRAFT)
    PetitionFactory()  # no targets
    for petition in (first, second):
        _signer(petition)
    out = io.StringIO()
    call_command("deliver", stdout=out)
    periods = set(Delivery.objects.values_list("petition", "period"))
    assert {petition for petition, _ in periods} == {first.pk, second.pk}
    assert all(period.startswith("manual-") for _, period in periods)
    assert len(outbox) == 2
    assert (
        "Delivered 2 petition(s): 2 sent, 0 skipped (no email), 0 with no constituents yet, "
        "0 failed." in out.getvalue()
    )


def test_an_official_none_of_whose_constituents_signed_gets_no_email(outbox) -> None:
    oakland = TargetFactory()
    chicago = TargetFactory(title="Mayor of Chicago", region="IL", locality="Chicago")
    petition = _petition(oakland, chicago)
    _signer(petition)
    out = io.StringIO()
    call_command("deliver", petition.slug, stdout=out)
    assert [m.to for m in outbox] == [[oakland.email]]
    assert "Mayor of Chicago — no constituent has signed yet" in out.getvalue()
    assert not Delivery.objects.filter(target=chicago).exists()


# --- Responses and what the page shows --------------------------------------------------------


def test_publishing_a_response_posts_an_update_and_emails_consenting_signers_once(
    django_capture_on_commit_callbacks, outbox
) -> None:
    mayor = TargetFactory()
    petition = _petition(mayor)
    subscriber = _signer(petition, consent_updates=True)
    _signer(petition, consent_updates=False)
    response = Response.objects.create(
        petition=petition, target=mayor, text="We will review the partnership.\n\nIn March."
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries.response_publish(response_id=response.pk) is True
    response.refresh_from_db()
    update = response.update
    assert update.title == "Response from Mayor of Oakland"
    assert update.body == "> We will review the partnership.\n>\n> In March."
    assert update.email_signers is True
    assert update.published_at is not None
    assert [message.to for message in outbox] == [[subscriber.email]]
    assert "Response from Mayor of Oakland" in outbox[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries.response_publish(response_id=response.pk) is False
    assert petition.updates.count() == 1
    assert len(outbox) == 1
    assert selectors.responses_published(petition=petition) == [response]


def test_deliveries_sent_lists_sent_ones_newest_first() -> None:
    mayor, council = TargetFactory(), TargetFactory(title="City Council of Oakland")
    petition = _petition(mayor, council)
    now = timezone.now()
    older = _delivery(petition, mayor, "a", status="sent", sent_at=now - timedelta(days=1))
    newer = _delivery(petition, council, "b", status="sent", sent_at=now)
    _delivery(petition, mayor, "c", status="failed")
    _delivery(_petition(mayor), mayor, "d", status="sent", sent_at=now)
    assert selectors.deliveries_sent(petition=petition) == [newer, older]
    assert selectors.responses_published(petition=petition) == []


def test_an_unpublished_response_is_not_shown() -> None:
    mayor = TargetFactory()
    petition = _petition(mayor)
    Response.objects.create(petition=petition, target=mayor, text="No comment.")
    assert selectors.responses_published(petition=petition) == []


def test_an_official_with_nothing_new_since_the_last_delivery_gets_no_digest(outbox) -> None:
    oakland = TargetFactory()
    berkeley = TargetFactory(title="Mayor of Berkeley", locality="Berkeley", email="b@example.gov")
    petition = _petition(oakland, berkeley)
    _signer(petition)
    _signer(petition, locality="Berkeley")
    call_command("deliver", petition.slug, "--period", "week-1", stdout=io.StringIO())
    assert sorted(m.to[0] for m in outbox) == sorted([oakland.email, berkeley.email])
    outbox.clear()
    _signer(petition)  # one new Oakland signer, nobody new in Berkeley
    out = io.StringIO()
    call_command("deliver", petition.slug, "--period", "week-2", stdout=out)
    assert [m.to for m in outbox] == [[oakland.email]]
    assert "Mayor of Berkeley — no constituent has signed yet" in out.getvalue()


def test_the_deliver_command_says_a_transient_failure_will_be_retried(monkeypatch) -> None:
    """A mail server that hangs up: the line says why, and that the outbox tries again."""
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    mayor = TargetFactory()
    petition = _petition(mayor)
    _signer(petition)

    def hang_up(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", hang_up)
    out = io.StringIO()
    call_command("deliver", petition.slug, stdout=out)
    line = next(line for line in out.getvalue().splitlines() if mayor.title in line)
    assert "failed: SMTPServerDisconnected: Connection unexpectedly closed" in line
    assert "(it will be retried)" in line
    assert "1 failed" in out.getvalue()
