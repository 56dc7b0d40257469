"""The beat lock (mechanisms.beat): of two schedulers on one database only one holds it, and the
other gets it once the first's connection is gone. The processes themselves are in
tests/integration/test_beat_standby.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app
from mechanisms.beat import AdvisoryLockScheduler, lock_connection_params
from tests.config.test_settings import _settings

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the beat lock is a PostgreSQL advisory lock",
)


@pytest.fixture
def schedulers(db, tmp_path: Path) -> Iterator[list[AdvisoryLockScheduler]]:
    made = [
        AdvisoryLockScheduler(app=celery_app, schedule_filename=str(tmp_path / name))
        for name in ("first", "second")
    ]
    yield made
    for scheduler in made:
        scheduler.close()


def test_one_scheduler_holds_the_lock_and_the_other_waits(schedulers) -> None:
    first, second = schedulers
    assert first._holds_lock()
    assert not second._holds_lock()
    # Asked again, the holder still holds it and the other still waits.
    assert first._holds_lock()
    assert not second._holds_lock()


def test_the_standby_takes_the_lock_when_the_holders_connection_goes(schedulers) -> None:
    first, second = schedulers
    assert first._holds_lock()
    first.close()
    assert second._holds_lock()


def test_a_standby_tick_schedules_nothing_and_sleeps_the_standby_interval(
    schedulers, settings
) -> None:
    settings.BEAT_STANDBY_SECONDS = 7
    first, second = schedulers
    assert first._holds_lock()
    assert second.tick() == 7.0


def test_the_lock_connection_asks_for_keepalives_and_drops_djangos_own_options(
    monkeypatch,
) -> None:
    options = {"application_name": "cosign-web", "pool": True}
    monkeypatch.setitem(settings.DATABASES["default"], "OPTIONS", options)
    params = lock_connection_params()
    assert "pool" not in params
    assert params["application_name"] == "cosign-web"
    assert params["keepalives"] == 1
    assert "tcp_keepalives_idle" in params["options"]


def test_only_postgresql_gets_the_lock_scheduler() -> None:
    show = "from django.conf import settings as s; print(getattr(s, 'CELERY_BEAT_SCHEDULER', '-'))"
    sqlite = _settings(show)
    postgres = _settings(show, DATABASE_URL="postgres://cosign@db.internal:5432/cosign")
    assert sqlite.stdout.strip() == "-", sqlite.stderr
    assert postgres.stdout.strip() == "mechanisms.beat:AdvisoryLockScheduler", postgres.stderr
