"""A request's id reaches the log lines of the task it enqueued, in a real worker over Redis."""

from __future__ import annotations

import json

import pytest

from mechanisms import tasks
from mechanisms.request_ids import request_id_bound
from tests.services import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_logs_a_task_with_the_id_of_the_request_that_enqueued_it(
    smtp_server, tmp_path
) -> None:
    _, smtp_port = smtp_server
    with celery_worker(
        tmp_path,
        smtp_port=smtp_port,
        site_url="http://testserver",
        env={"LOG_FORMAT": "json"},
        beat=False,
    ):
        with request_id_bound("req-worker-0123456789"):
            tasks.outbox_prune.delay()
        log = tmp_path / "worker.log"

        def task_lines() -> list[dict]:
            lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
            return [
                entry
                for entry in map(json.loads, lines)
                if entry["request_id"] == "req-worker-0123456789"
            ]

        found = wait_until(task_lines, timeout=30, what="the task's log line with the id")
    assert any("outbox_prune" in entry["message"] for entry in found)
