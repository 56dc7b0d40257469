"""Cosign's gunicorn worker (config/gunicorn_worker.py), in a real gunicorn started from the
production file: a request that queued behind a busy thread arrives knowing how long it waited,
which admission (mechanisms.admission) reads to turn away, in an overflow, a signer whose answer
would come too late. One thread, so the second request must wait for the first."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.services import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _get(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def _answers(port: int) -> bool:
    try:
        return _get(port, "/") != ""
    except OSError:
        return False


def test_a_request_queued_behind_a_busy_thread_knows_how_long_it_waited(tmp_path) -> None:
    port = free_port()
    held_file, release_file = tmp_path / "held", tmp_path / "release"
    env = {**os.environ, "WAITED_APP_HELD": str(held_file), "WAITED_APP_RELEASE": str(release_file)}
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1",
            "tests.config.waited_app:app",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(lambda: _answers(port), timeout=30, what="gunicorn to answer")
        # A request that found the thread free waited (almost) nothing, and was measured.
        assert float(_get(port, "/")) < 1.0

        held: list[str] = []
        holder = threading.Thread(target=lambda: held.append(_get(port, "/hold")))
        holder.start()
        wait_until(held_file.exists, timeout=30, what="the thread to be held")
        queued: list[str] = []
        behind = threading.Thread(target=lambda: queued.append(_get(port, "/")))
        behind.start()
        # Only the thread's release lets the queued request start; until then it waits.
        behind.join(1.0)
        assert behind.is_alive() and not queued
        release_file.touch()
        for thread in (holder, behind):
            thread.join(30)
        assert float(queued[0]) >= 1.0
        assert float(held[0]) < float(queued[0])
    finally:
        process.terminate()
        process.wait(10)
        log.close()
