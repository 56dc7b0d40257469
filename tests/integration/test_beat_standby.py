"""An active and a standby beat (mechanisms.beat): two real `celery beat` processes on the test
database; exactly one schedules, and when it is killed with SIGKILL the other takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.services import ROOT, _database_url, _disconnected, wait_until

pytestmark = pytest.mark.integration

SENT = b"Sending due task"
STANDBY = b"beat: standby"
ACTIVE = b"beat: holding the beat lock"


@contextmanager
def beat_process(
    tmp_path: Path, *, name: str, queue: str
) -> Iterator[tuple[subprocess.Popen, Path]]:
    log_path = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": "http://testserver",
        "SECRET_KEY": settings.SECRET_KEY,
        # The beats send no mail; production settings want an address all the same.
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "DATABASE_URL": _database_url(f"cosign-test-{name}"),
        "CELERY_QUEUE": queue,
        # Something due every second, and a standby that tries every second.
        "COUNTER_INTERVAL_SECONDS": "1",
        "BEAT_STANDBY_SECONDS": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
        f"--schedule={tmp_path / f'{name}-schedule'}",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process, log_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        wait_until(
            lambda: _disconnected(f"cosign-test-{name}"), timeout=30, what=f"{name} to disconnect"
        )


def _sent(log_path: Path) -> int:
    return log_path.read_bytes().count(SENT)


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the beat lock is a PostgreSQL advisory lock",
)
def test_one_beat_schedules_and_the_standby_takes_over_when_it_is_killed(
    transactional_db, tmp_path
) -> None:
    assert connection.vendor == "postgresql"
    # Nothing consumes what the beats send: a queue of their own, deleted afterwards.
    queue = f"cosign-test-beat-{uuid.uuid4().hex}"
    with ExitStack() as stack:
        first, first_log = stack.enter_context(beat_process(tmp_path, name="beat-a", queue=queue))
        # The second starts once the first leads, so which one is active is known.
        wait_until(
            lambda: ACTIVE in first_log.read_bytes() or first.poll() is not None,
            timeout=60,
            what="beat-a to lead",
        )
        assert first.poll() is None, first_log.read_text()
        second, second_log = stack.enter_context(beat_process(tmp_path, name="beat-b", queue=queue))
        wait_until(
            lambda: STANDBY in second_log.read_bytes() or second.poll() is not None,
            timeout=60,
            what="beat-b to stand by",
        )
        assert second.poll() is None, second_log.read_text()
        # Several rounds of both: the active sends every second, the standby retries as often.
        sent_before = _sent(first_log)
        wait_until(lambda: _sent(first_log) >= sent_before + 3, timeout=60, what="beat-a to send")
        assert second.poll() is None, second_log.read_text()
        assert _sent(second_log) == 0, second_log.read_text()
        assert ACTIVE not in second_log.read_bytes()

        first.send_signal(signal.SIGKILL)
        first.wait()
        sent_by_first = _sent(first_log)

        wait_until(lambda: _sent(second_log) > 0, timeout=60, what="beat-b to take over")
        assert ACTIVE in second_log.read_bytes()
        # The dead one sent nothing more.
        assert _sent(first_log) == sent_by_first
    redis.Redis.from_url(settings.REDIS_URL).delete(queue)
