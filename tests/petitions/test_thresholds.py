"""Response thresholds (petitions.services.thresholds, threshold_answers, petitions.thresholds):
reaching a threshold asks each target once, with its email in the counter's transaction; the
target answers through its link; staff publish the answer as the petition's response; the
petition's page says where each target stands."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mechanisms.link_keys import link_digest
from mechanisms.models import OutboundEmail
from petitions import tasks
from petitions.models import Petition, Response, Signature, Target, Threshold, ThresholdRequest
from petitions.services import counting, threshold_answers, thresholds
from petitions.thresholds import emails as threshold_emails
from petitions.thresholds.selectors import petition_thresholds_block
from tests.factories import PetitionFactory, SignatureFactory, TargetFactory, UserFactory
from tests.outbox import outbox_drain

pytestmark = pytest.mark.django_db

REQUEST_KIND = threshold_emails.THRESHOLD_REQUEST.name
ANSWERED_KIND = threshold_emails.THRESHOLD_ANSWERED.name
LINK = re.compile(r"http://\S+/respond/\S+/")


def _uncounted(petition: Petition, how_many: int) -> None:
    """Confirmed signatures the counter has not added yet."""
    for _ in range(how_many):
        SignatureFactory(petition=petition, confirmed=True)


def _petition(*targets: Target, **fields: object) -> Petition:
    return PetitionFactory(targets=list(targets), **fields)


def _mayor(**fields: object) -> Target:
    return TargetFactory(**fields)


def _council(**fields: object) -> Target:
    values: dict[str, object] = {
        "name": "Oakland City Council",
        "title": "Oakland City Council",
        "email": "council@oakland.example.gov",
    } | fields
    return TargetFactory(**values)


def _staff() -> object:
    return UserFactory(email="publisher@cosign.example", is_staff=True, is_superuser=True)


def _requests() -> list[tuple[str, int, str]]:
    return sorted(
        ThresholdRequest.objects.values_list("target__title", "count", "notice")  # type: ignore[arg-type]
    )


def _request_emails() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=REQUEST_KIND).order_by("pk"))


def _reached(petition: Petition, *, count: int = 3) -> ThresholdRequest:
    """The petition's one target asked at `count`, through the counter."""
    Threshold.objects.create(petition=petition, count=count, days_to_respond=30)
    _uncounted(petition, count)
    counting.petition_counts_update()
    return ThresholdRequest.objects.get(petition=petition)


def _answer_url(request: ThresholdRequest) -> str:
    return reverse(
        "petitions:threshold_answer",
        kwargs={
            "slug": request.petition.slug,
            "token": threshold_emails.answer_token(request=request),
        },
    )


# --- Reaching ---------------------------------------------------------------------------------


def test_the_counter_asks_each_target_once_when_the_count_reaches_a_threshold(
    django_capture_on_commit_callbacks,
) -> None:
    mayor, council = _mayor(), _council()
    petition = _petition(mayor, council)
    Threshold.objects.create(petition=petition, count=3, days_to_respond=30)
    Threshold.objects.create(petition=petition, count=10, days_to_respond=60)
    _uncounted(petition, 2)
    counting.petition_counts_update()
    assert _requests() == []  # 2 < 3
    _uncounted(petition, 2)
    with django_capture_on_commit_callbacks(execute=True):
        counting.petition_counts_update()
    assert _requests() == [
        ("Mayor of Oakland", 3, "asked"),
        ("Oakland City Council", 3, "asked"),
    ]
    request = ThresholdRequest.objects.get(target=mayor)
    assert request.signatures_at_reach == 4
    assert request.due_at == request.asked_at + timedelta(days=30)  # type: ignore[operator]
    sent = sorted(mail.outbox, key=lambda m: m.to[0])
    assert [m.to for m in sent] == [[council.email], [mayor.email]]
    body = sent[1].body
    assert "has reached 4 signatures" in body
    assert "At 3 signatures" in body
    assert LINK.search(body)
    # More signatures, below the next threshold: nobody is asked again.
    _uncounted(petition, 3)
    counting.petition_counts_update()
    counting.petition_recount(petition_id=petition.pk)
    assert len(_request_emails()) == 2


def test_the_counter_task_run_twice_asks_once(django_capture_on_commit_callbacks) -> None:
    petition = _petition(_mayor())
    Threshold.objects.create(petition=petition, count=2, days_to_respond=30)
    _uncounted(petition, 2)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.petition_counts_update.delay()
        tasks.petition_counts_update.delay()
    Signature.objects.filter(petition=petition).update(counted=False)
    Petition.objects.filter(pk=petition.pk).update(signature_count=0)
    with django_capture_on_commit_callbacks(execute=True):
        # The count drops and climbs again (a recount, then the counter): still asked once.
        tasks.petition_counts_update.delay()
    assert ThresholdRequest.objects.count() == 1
    assert len(_request_emails()) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_counters_reaching_at_once_ask_each_target_once() -> None:
    """Both runs pass the petitions' first look before either takes the lock; the second finds
    the first's requests once it holds the petition row."""
    petition = _petition(_mayor(), _council())
    Threshold.objects.create(petition=petition, count=2, days_to_respond=30)
    Petition.objects.filter(pk=petition.pk).update(signature_count=5)
    barrier = threading.Barrier(2, timeout=10)
    reach_locked = thresholds._reach_locked
    made: list[list[int]] = []

    def after_both_looked(**kwargs):
        barrier.wait()
        return reach_locked(**kwargs)

    def run() -> None:
        try:
            made.append(thresholds.thresholds_reach(petition_ids=[petition.pk]))
        finally:
            connection.close()

    runs = [threading.Thread(target=run) for _ in range(2)]
    with mock.patch.object(thresholds, "_reach_locked", after_both_looked):
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join()
    assert sorted(len(ids) for ids in made) == [0, 2]
    assert ThresholdRequest.objects.count() == 2
    assert len(_request_emails()) == 2


def test_targets_without_an_email_or_unconfirmed_are_recorded_but_not_emailed() -> None:
    nobody = _mayor(email="")
    proposed = _council(awaiting_confirmation=True)
    petition = _petition(nobody, proposed)
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    _uncounted(petition, 1)
    counting.petition_counts_update()
    assert _requests() == [
        ("Mayor of Oakland", 1, "no_email"),
        ("Oakland City Council", 1, "unconfirmed"),
    ]
    assert not ThresholdRequest.objects.filter(due_at__isnull=False).exists()
    assert not ThresholdRequest.objects.exclude(token_digest="").exists()
    assert _request_emails() == []
    # Staff cannot ask them yet; once the mayor has an email, they can, and the clock starts.
    staff = _staff()
    request = ThresholdRequest.objects.get(target=nobody)
    assert not thresholds.threshold_request_ask(request_id=request.pk, user=staff)
    Target.objects.filter(pk=nobody.pk).update(email="mayor@oakland.example.gov")
    assert thresholds.threshold_request_ask(request_id=request.pk, user=staff)
    request.refresh_from_db()
    assert request.notice == "asked" and request.due_at is not None
    assert [e.recipient for e in _request_emails()] == ["mayor@oakland.example.gov"]


def test_a_targets_own_threshold_replaces_the_petitions_at_its_count_and_adds_others() -> None:
    mayor, council = _mayor(), _council()
    petition = _petition(mayor, council)
    Threshold.objects.create(petition=petition, count=2, days_to_respond=30)
    Threshold.objects.create(petition=petition, target=mayor, count=2, days_to_respond=7)
    Threshold.objects.create(petition=petition, target=council, count=3, days_to_respond=14)
    Threshold.objects.create(petition=petition, target=council, count=50, days_to_respond=14)
    _uncounted(petition, 3)
    counting.petition_counts_update()
    assert sorted(
        ThresholdRequest.objects.values_list("target__title", "count", "days_to_respond")
    ) == [
        ("Mayor of Oakland", 2, 7),
        ("Oakland City Council", 2, 30),
        ("Oakland City Council", 3, 14),
    ]


def test_inactive_targets_and_closed_petitions_are_not_asked() -> None:
    gone = _mayor(active=False)
    petition = _petition(gone, _council())
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    closed = _petition(_council(), status=Petition.Status.CLOSED)
    Threshold.objects.create(petition=closed, count=1, days_to_respond=30)
    _uncounted(petition, 1)
    Petition.objects.filter(pk=closed.pk).update(signature_count=9)
    counting.petition_counts_update()
    counting.petition_recount(petition_id=closed.pk)
    assert _requests() == [("Oakland City Council", 1, "asked")]


def test_threshold_rules_are_positive_and_unique() -> None:
    from django.db import IntegrityError, transaction

    petition = _petition(_mayor())
    Threshold.objects.create(petition=petition, count=5, days_to_respond=30)
    for fields in ({"count": 0}, {"days_to_respond": 0}, {"days_to_respond": 366}, {"count": 5}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Threshold.objects.create(
                petition=petition, **({"count": 6, "days_to_respond": 1} | fields)
            )


# --- The answer link ----------------------------------------------------------------------------


def test_the_emailed_link_opens_the_answer_page(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    petition = _petition(_mayor())
    with django_capture_on_commit_callbacks(execute=True):
        _reached(petition)
    (message,) = mail.outbox
    url = LINK.search(message.body).group(0)  # type: ignore[union-attr]
    page = client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert "Your answer to" in page.content.decode()
    assert "noindex" in page.content.decode()


def test_only_a_digest_of_the_link_is_stored() -> None:
    request = _reached(_petition(_mayor()))
    token = threshold_emails.answer_token(request=request)
    stored = [
        str(v) for v in ThresholdRequest.objects.filter(pk=request.pk).values().get().values()
    ]
    assert token not in stored
    assert token.split("_")[1] not in "".join(stored)
    assert request.token_digest == link_digest(token)


def _snapshot(request: ThresholdRequest) -> tuple:
    return (
        ThresholdRequest.objects.filter(pk=request.pk)
        .values_list("answer", "answered_at", "status", "link_key")
        .get(),
        OutboundEmail.objects.count(),
        Response.objects.count(),
    )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token, slug: (token[:-1] + ("0" if token[-1] != "0" else "1"), slug),
        lambda token, slug: (token[:20], slug),
        lambda token, slug: ("not-a-token", slug),
        lambda token, slug: (token, "another-petition"),
    ],
    ids=["changed", "truncated", "garbage", "other petition"],
)
def test_a_bad_link_gets_a_clear_page_and_writes_nothing(client: Client, mangle) -> None:
    request = _reached(_petition(_mayor()))
    PetitionFactory(slug="another-petition")
    token, slug = mangle(threshold_emails.answer_token(request=request), request.petition.slug)
    url = reverse("petitions:threshold_answer", kwargs={"slug": slug, "token": token})
    before = _snapshot(request)
    assert client.get(url).status_code == 404
    answer = client.post(url, {"answer": "We will vote.", "save": "1"})
    assert answer.status_code == 404
    assert "This link does not work" in answer.content.decode()
    assert _snapshot(request) == before


def test_a_link_replaced_by_a_newer_one_stops_working(client: Client) -> None:
    request = _reached(_petition(_mayor()))
    old = _answer_url(request)
    thresholds.threshold_request_ask(request_id=request.pk, user=_staff())
    request.refresh_from_db()
    assert client.get(old).status_code == 404
    assert client.get(_answer_url(request)).status_code == 200
    assert len(_request_emails()) == 2


def test_an_expired_link_says_so_and_writes_nothing(client: Client) -> None:
    request = _reached(_petition(_mayor()))
    ThresholdRequest.objects.filter(pk=request.pk).update(
        link_expires_at=timezone.now() - timedelta(seconds=1)
    )
    before = _snapshot(request)
    answer = client.post(_answer_url(request), {"answer": "Late.", "save": "1"})
    assert answer.status_code == 410
    assert "This link has expired" in answer.content.decode()
    assert _snapshot(request) == before


@pytest.mark.parametrize(
    "data",
    [
        {"answer": "", "save": "1"},
        {"answer": "   ", "save": "1"},
        {"answer": "x" * 10_001, "save": "1"},
        {"answer": "We will \u202evote", "save": "1"},
        {"save": "1"},
    ],
    ids=["empty", "blank", "too long", "bidi override", "missing"],
)
def test_a_refused_answer_keeps_what_was_typed_and_writes_nothing(client: Client, data) -> None:
    request = _reached(_petition(_mayor()))
    before = _snapshot(request)
    page = client.post(_answer_url(request), data)
    assert page.status_code == 400
    assert "your answer was not saved" in page.content.decode()
    if data.get("answer", "").strip():
        assert data["answer"][:100] in page.content.decode()
    assert _snapshot(request) == before


def test_the_answer_form_needs_its_csrf_token(django_capture_on_commit_callbacks) -> None:
    request = _reached(_petition(_mayor()))
    before = _snapshot(request)
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(_answer_url(request), {"answer": "Yes.", "save": "1"}).status_code == 403
    assert _snapshot(request) == before


def test_a_preview_shows_the_answer_rendered_and_saves_nothing(client: Client) -> None:
    request = _reached(_petition(_mayor()))
    before = _snapshot(request)
    page = client.post(
        _answer_url(request), {"answer": "We **will** vote.<script>x()</script>", "preview": "1"}
    )
    assert page.status_code == 200
    assert "<strong>will</strong>" in page.content.decode()
    assert "<script>x()" not in page.content.decode()
    assert _snapshot(request) == before


def test_the_target_answers_revises_and_staff_hear_of_it_once(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    staff = _staff()
    request = _reached(_petition(_mayor()))
    url = _answer_url(request)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"answer": "We will vote on **Monday**.", "save": "1"})
    assert first.status_code == 302 and first["Location"] == url
    request.refresh_from_db()
    assert request.status == "answered"
    assert request.answer == "We will vote on **Monday**."
    answered_at = request.answered_at
    staff_mail = [m for m in mail.outbox if m.to == [staff.email]]  # type: ignore[attr-defined]
    assert len(staff_mail) == 1
    assert "/admin/petitions/thresholdrequest/" in staff_mail[0].body
    again = client.get(url)
    assert "We have your answer" in again.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"answer": "We will vote on Tuesday.", "save": "1"})
    request.refresh_from_db()
    assert request.answer == "We will vote on Tuesday."
    assert request.answered_at == answered_at
    assert OutboundEmail.objects.filter(kind=ANSWERED_KIND).count() == 1


def test_the_answer_page_is_rate_limited(client: Client, settings) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "threshold_answer": {"ip": ["2/m"], "campaign": [], "global": []},
    }
    request = _reached(_petition(_mayor()))
    url = _answer_url(request)
    client.post(url, {"answer": ""})
    client.post(url, {"answer": ""})
    refused = client.post(url, {"answer": "Yes.", "save": "1"})
    assert refused.status_code == 429
    request.refresh_from_db()
    assert request.status == "awaiting"


# --- Publishing -------------------------------------------------------------------------------


def test_staff_publish_the_answer_as_the_petitions_response(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    petition = _petition(_mayor())
    request = _reached(petition)
    SignatureFactory(
        petition=petition, confirmed=True, consent_updates=True, email="fan@example.net"
    )
    counting.petition_counts_update()
    threshold_answers.threshold_answer_save(
        slug=petition.slug,
        token=threshold_emails.answer_token(request=request),
        text="We will vote on Monday.",
    )
    staff = _staff()
    # Nothing to publish for a request still awaiting its answer.
    assert not threshold_answers.threshold_answer_publish(request_id=999_999, user=staff)
    with django_capture_on_commit_callbacks(execute=True):
        assert threshold_answers.threshold_answer_publish(request_id=request.pk, user=staff)
        assert not threshold_answers.threshold_answer_publish(request_id=request.pk, user=staff)
    request.refresh_from_db()
    assert request.status == "published" and request.published_at is not None
    response = Response.objects.get()
    assert request.response == response
    assert response.text == "We will vote on Monday."
    assert response.update is not None and response.update.published_at is not None
    outbox_drain()
    assert any(m.to == ["fan@example.net"] for m in mail.outbox)
    # The link now says the answer is published, and takes no more.
    used = client.post(_answer_url(request), {"answer": "Changed.", "save": "1"})
    assert used.status_code == 410
    assert "Your answer is published" in used.content.decode()
    assert Response.objects.get().text == "We will vote on Monday."
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "We will vote on Monday." in page
    assert "responded on" in page


def test_a_request_without_an_answer_is_not_published() -> None:
    request = _reached(_petition(_mayor()))
    assert not threshold_answers.threshold_answer_publish(request_id=request.pk, user=_staff())
    assert Response.objects.count() == 0


# --- What the petition's page says --------------------------------------------------------------


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.get_current_timezone())


def _asked_on(
    petition: Petition, target: Target, *, asked: datetime, days: int
) -> ThresholdRequest:
    return ThresholdRequest.objects.create(
        petition=petition,
        target=target,
        count=100,
        days_to_respond=days,
        reached_at=asked,
        signatures_at_reach=100,
        notice="asked",
        asked_at=asked,
        due_at=asked + timedelta(days=days),
        link_key=f"{target.pk:016x}",
        token_digest="0" * 64,
        link_expires_at=asked + timedelta(days=days + 60),
    )


def _block_text(petition: Petition, now: datetime) -> str:
    html = render_to_string(
        "petitions/thresholds/block.html",
        {"petition": petition, "block": petition_thresholds_block(petition=petition, now=now)},
    )
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_page_says_days_left_due_today_overdue_and_responded_with_a_fixed_clock() -> None:
    mayor, council, chief = _mayor(), _council(), _council(title="Chief of Police", email="c@x.gov")
    one = _council(title="City Auditor", email="a@x.gov")
    petition = _petition(mayor, council, chief, one)
    Petition.objects.filter(pk=petition.pk).update(signature_count=150)
    petition.refresh_from_db()
    Threshold.objects.create(petition=petition, count=1000, days_to_respond=1)
    _asked_on(petition, mayor, asked=NOW - timedelta(days=18), days=30)  # 12 left
    _asked_on(petition, council, asked=NOW - timedelta(days=35), days=30)  # 5 over
    _asked_on(petition, one, asked=NOW - timedelta(days=29), days=30)  # 1 left
    answered = _asked_on(petition, chief, asked=NOW - timedelta(days=10), days=30)
    response = Response.objects.create(
        petition=petition, target=chief, text="No.", received_at=NOW.date()
    )
    ThresholdRequest.objects.filter(pk=answered.pk).update(
        status="published", answer="No.", answered_at=NOW, published_at=NOW, response=response
    )
    text = _block_text(petition, NOW)
    assert (
        "Next threshold: at 1,000 signatures, the targets are asked to respond within 1 day."
        in text
    )
    assert "Mayor of Oakland, asked at 100 signatures: awaiting response: 12 days left" in text
    assert "City Auditor, asked at 100 signatures: awaiting response: 1 day left" in text
    assert "Oakland City Council, asked at 100 signatures: overdue by 5 days" in text
    assert "Chief of Police, asked at 100 signatures: responded on Dec. 1, 2026" in text
    # The same requests a day later: the words follow the date, not when the row was written.
    later = _block_text(petition, NOW + timedelta(days=1))
    assert "awaiting response: 11 days left" in later
    assert "City Auditor, asked at 100 signatures: awaiting response: due today" in later
    assert "overdue by 6 days" in later
    assert "overdue by 1 day" in _block_text(petition, NOW + timedelta(days=2))


def test_an_answer_waiting_for_staff_is_never_shown_as_overdue() -> None:
    mayor = _mayor()
    petition = _petition(mayor)
    request = _asked_on(petition, mayor, asked=NOW - timedelta(days=40), days=30)
    ThresholdRequest.objects.filter(pk=request.pk).update(
        status="answered", answer="Yes.", answered_at=NOW - timedelta(days=20)
    )
    text = _block_text(petition, NOW)
    assert "answer received on Nov. 11, 2026, to be published" in text
    assert "overdue" not in text


def test_a_petition_without_thresholds_shows_no_block(client: Client) -> None:
    petition = _petition(_mayor())
    assert 'id="thresholds"' not in client.get(petition.get_absolute_url()).content.decode()
    Threshold.objects.create(petition=petition, count=500, days_to_respond=30)
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "Next threshold: at 500 signatures" in page


def test_targets_not_emailed_are_not_shown_as_awaiting() -> None:
    mayor = _mayor(email="")
    petition = _petition(mayor)
    _reached(petition, count=1)
    assert "awaiting" not in _block_text(petition, timezone.now())


def test_the_pages_block_reads_two_queries_however_many_targets_were_asked(
    django_assert_num_queries,
) -> None:
    targets = [_council(title=f"Council member {n}", email=f"m{n}@x.gov") for n in range(5)]
    petition = _petition(*targets)
    Threshold.objects.create(petition=petition, count=1000, days_to_respond=30)
    for target in targets:
        _asked_on(petition, target, asked=NOW, days=30)
    with django_assert_num_queries(2):
        block = petition_thresholds_block(petition=petition, now=NOW)
        statuses = [(row.target.title, row.state) for row in block.statuses]
    assert len(statuses) == 5
