"""The sign forms do the same work whatever the address (issue 14, finding 1).

A review told new, pending and confirmed addresses apart by response time: a new one cost an
INSERT, a known one a failed INSERT, a SELECT and an UPDATE. Time is not asserted here (no timed
tests); the work is: the same SQL statements in the same number and shape, the same Redis
commands and the same tasks queued, for a petition (with and without sponsor opt-ins) and a
letter: one outbox row written alike for any address. What differs is decided later, by the
email's builder in the worker, and checked last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import redis
from celery.app.task import Task
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from letters.models import IndividualSignature
from petitions.models import Signature, SponsorOptIn
from tests.factories import (
    IndividualSignatureFactory,
    OpenLetterFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
)

pytestmark = pytest.mark.django_db

PETITION_FORM = {
    "name": "Maria Rossi",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
    "consent_updates": "on",
}
LETTER_FORM = {"name": "Dana Whitfield", "title": "Professor of Law"}

_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_SAVEPOINT = re.compile(r'"?s\w+_x\d+"?')


def _shape(sql: str) -> str:
    """A statement with its values and savepoint names taken out: what it does, not to whom."""
    return _LITERAL.sub("?", _SAVEPOINT.sub("SP", sql))


@dataclass
class Work:
    status: int
    sql: list[str]
    redis: list[tuple[str, int]]
    tasks: list[tuple[str, int]]


@contextmanager
def _redis_commands() -> Iterator[list[tuple[str, int]]]:
    """Every command sent to Redis, by name and number of arguments (keys and values vary)."""
    seen: list[tuple[str, int]] = []
    real = redis.Redis.execute_command

    def spy(self: redis.Redis, *args: Any, **options: Any) -> Any:
        seen.append((str(args[0]).upper(), len(args)))
        return real(self, *args, **options)

    with mock.patch.object(redis.Redis, "execute_command", spy):
        yield seen


def _work(post: Callable[[], Any], capture_callbacks: Any) -> Work:
    with (
        _redis_commands() as commands,
        CaptureQueriesContext(connection) as queries,
        capture_callbacks(execute=False) as callbacks,
    ):
        response = post()
    queued: list[tuple[str, int]] = []

    def record(self: Task, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        queued.append((self.name, len(args or ()) + len(kwargs or {})))

    # What would be sent to the broker, without running it: the request's share of the work.
    with mock.patch.object(Task, "apply_async", record):
        for callback in callbacks:
            callback()
    return Work(
        status=response.status_code,
        sql=[_shape(query["sql"]) for query in queries.captured_queries],
        redis=commands,
        tasks=queued,
    )


def _assert_same(works: dict[str, Work]) -> None:
    first = next(iter(works.values()))
    assert first.status == 302
    assert first.tasks, "the request queues the signer's email"
    for name, work in works.items():
        assert work.status == first.status, name
        assert work.sql == first.sql, name
        assert work.redis == first.redis, name
        assert work.tasks == first.tasks, name


@pytest.mark.parametrize("with_opt_ins", [False, True], ids=["plain", "sponsor-opt-ins"])
def test_signing_a_petition_does_the_same_work_for_new_pending_and_confirmed_addresses(
    django_capture_on_commit_callbacks, outbox, with_opt_ins: bool
) -> None:
    sponsors = [OrganizationFactory(), OrganizationFactory()]
    petition = PetitionFactory(offer_sponsor_opt_in=with_opt_ins)
    petition.sponsors.set(sponsors)
    earlier = timezone.now() - timedelta(days=2)
    pending = SignatureFactory(
        petition=petition, email="pending@example.org", confirmation_sent_at=earlier
    )
    confirmed = SignatureFactory(petition=petition, email="confirmed@example.org", confirmed=True)
    Signature.objects.filter(pk__in=[pending.pk, confirmed.pk]).update(created_at=earlier)
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    extra = {"sponsor_opt_ins": [str(org.pk) for org in sponsors]} if with_opt_ins else {}

    def post(email: str) -> Callable[[], Any]:
        return lambda: Client().post(url, {**PETITION_FORM, "email": email, **extra})

    # First requests pay for what later ones find ready (the IP hash key, the Redis script, the
    # consent wordings' ids, remembered once committed): whatever the address, as here.
    with django_capture_on_commit_callbacks(execute=True):
        post("warm-up@example.org")()
        post("warm-up@example.org")()
    works = {
        "new": _work(post("newcomer@example.org"), django_capture_on_commit_callbacks),
        # Spelt otherwise than when they signed: the canonical form makes them the same signer.
        "pending": _work(post("Pending+again@Example.org"), django_capture_on_commit_callbacks),
        "confirmed": _work(post("CONFIRMED@example.org"), django_capture_on_commit_callbacks),
    }
    _assert_same(works)

    # Nothing of the repeats was written: one row per person, as they first signed.
    assert Signature.objects.filter(petition=petition).count() == 4
    pending.refresh_from_db()
    assert pending.email == "pending@example.org"
    opted = set(SponsorOptIn.objects.values_list("signature__email", flat=True))
    expected = {"warm-up@example.org", "newcomer@example.org"} if with_opt_ins else set()
    assert opted == expected


def test_the_task_tells_the_cases_apart_after_the_request(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    earlier = timezone.now() - timedelta(days=2)
    SignatureFactory(petition=petition, email="pending@example.org", confirmation_sent_at=earlier)
    SignatureFactory(petition=petition, email="confirmed@example.org", confirmed=True)
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    for email in ("newcomer@example.org", "pending@example.org", "confirmed@example.org"):
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(url, {**PETITION_FORM, "email": email})
    mails = {message.to[0]: message for message in outbox}
    assert set(mails) == {"newcomer@example.org", "pending@example.org", "confirmed@example.org"}
    assert "/confirm/" in mails["newcomer@example.org"].body
    assert "/confirm/" in mails["pending@example.org"].body
    assert "already signed" in mails["confirmed@example.org"].subject.lower()


def test_signing_a_letter_does_the_same_work_for_new_pending_and_confirmed_addresses(
    django_capture_on_commit_callbacks, outbox
) -> None:
    letter = OpenLetterFactory(individuals_may_sign=True)
    earlier = timezone.now() - timedelta(days=2)
    IndividualSignatureFactory(
        letter=letter, email="pending@example.org", confirmation_sent_at=earlier
    )
    IndividualSignatureFactory(
        letter=letter,
        email="confirmed@example.org",
        status=IndividualSignature.Status.CONFIRMED,
        confirmed_at=earlier,
    )
    url = reverse("letters:sign", kwargs={"slug": letter.slug})

    def post(email: str) -> Callable[[], Any]:
        return lambda: Client().post(url, {**LETTER_FORM, "email": email})

    post("warm-up@example.org")()
    post("warm-up@example.org")()
    works = {
        "new": _work(post("newcomer@example.org"), django_capture_on_commit_callbacks),
        "pending": _work(post("pending+x@EXAMPLE.org"), django_capture_on_commit_callbacks),
        "confirmed": _work(post("Confirmed@example.org"), django_capture_on_commit_callbacks),
    }
    _assert_same(works)
    assert IndividualSignature.objects.filter(letter=letter).count() == 4
