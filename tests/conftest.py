from __future__ import annotations

import uuid
from collections.abc import Iterator
from unittest import mock

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client
from django.utils import translation

from accounts.models import User
from accounts.roles import CAMPAIGN_EDITOR, MODERATOR, roles_apply
from mechanisms.queue import broker_breaker
from mechanisms.redis_breaker import breaker
from petitions.services.consent import consent_wordings_forget
from tests.factories import PetitionFactory


@pytest.fixture
def petition(db):
    """An open petition, the supporter's starting point."""
    return PetitionFactory()


@pytest.fixture
def outbox() -> list[mail.EmailMessage]:
    """Mail sent through Django's locmem backend (pytest-django installs it for every test)."""
    return mail.outbox


@pytest.fixture(autouse=True)
def _fresh_abuse_counters(settings) -> None:
    """Rate limits, bursts and spent proofs of work live in the shared Redis cache: each test
    gets its own key prefix, so no test trips a limit another one counted towards."""
    settings.ABUSE_CACHE_PREFIX = f"abuse:{uuid.uuid4().hex}:"


class RateLimitClock:
    """The abuse counters' windows read `mechanisms.counters._now()`; moving this clock moves to
    a new window."""

    def __init__(self) -> None:
        # Just into an hour (and so a minute): windows end on the next round minute and hour.
        self.now = 1_800_000_001.0

    def time(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock() -> Iterator[RateLimitClock]:
    """A still clock for rate-limit and burst windows, so a window never ends halfway through a
    test (a slow first request once made a burst test see a fresh window); a test that means to
    reach the next window moves `clock.now`.

    Windows normally end at an offset drawn from the key (crc32); without it they end on the
    clock's round minutes and hours, so a test knows which window it is in.
    """
    fake = RateLimitClock()
    with (
        mock.patch("mechanisms.counters._now", fake.time),
        mock.patch("mechanisms.counters._window_offset", lambda value, period: 0),
    ):
        yield fake


@pytest.fixture(autouse=True)
def _redis_breaker_closed() -> Iterator[None]:
    """A test that makes Redis (or another broker) fail opens this process's breaker: the next
    test starts closed."""
    breaker.reset()
    broker_breaker.reset()
    yield
    breaker.reset()
    broker_breaker.reset()


@pytest.fixture(autouse=True)
def _consent_wordings_forgotten() -> None:
    """The sign POST remembers wording rows by id; another test's rows were rolled back."""
    consent_wordings_forget()


@pytest.fixture(autouse=True)
def _english_by_default() -> None:
    """A request to /it/ leaves Italian active in this thread; start each test in English."""
    translation.activate("en")


# --- Staff personas (issue 7: roles as permission groups) ---------------------------------------
STAFF_PASSWORD = "a-long-password-for-tests"


def staff_in_role(role: str, email: str) -> User:
    """A staff account, not a superuser, whose only rights come from one role's group. The
    groups are set again first: a transactional test's flush empties what migrations made."""
    roles_apply(group_model=Group, permission_model=Permission)
    user = User.objects.create_user(email, STAFF_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def moderator(db) -> User:
    """A staff moderator: signatures, organizations, co-signatures, exports, the audit log."""
    return staff_in_role(MODERATOR, "moderator@cosign.test")


@pytest.fixture
def campaign_editor(db) -> User:
    """A staff campaign editor: petitions, letters, updates, targets; no signatures."""
    return staff_in_role(CAMPAIGN_EDITOR, "editor@cosign.test")


@pytest.fixture
def editor_client(campaign_editor):
    """A browser session of the campaign editor, past the admin's second factor in tests."""
    client = Client()
    client.force_login(campaign_editor)
    return client
