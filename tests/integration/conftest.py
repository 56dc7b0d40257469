"""The integration tests that go through the broker run on Redis and on RabbitMQ: each such test
asks for `broker` (the worker of `celery_worker_process` does), and runs once per broker.

On both: tests that start a worker (test_delivery_worker, test_sign_flow, test_lost_emails,
test_bounces, test_webhooks, test_redis_outage). Once: test_rabbitmq, which is about RabbitMQ,
and those that start no worker (test_clock_skew, test_slow_clients, test_two_hosts), where the
broker would change nothing but the suite's time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services import (
    broker_switched,
    celery_worker,
    rabbitmq_url,
    smtp_server,
    worker_site_url,
)

__all__ = ["broker", "celery_worker_process", "rabbitmq_url", "smtp_server", "worker_site_url"]


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test process and every server and worker it starts on one broker: REDIS_URL's Redis,
    or this run's RabbitMQ virtual host (CELERY_BROKER_URL)."""
    url = request.getfixturevalue("rabbitmq_url") if request.param == "rabbitmq" else None
    with broker_switched(url):
        yield request.param


@pytest.fixture
def celery_worker_process(broker, transactional_db, smtp_server, worker_site_url, tmp_path):
    """tests.services' worker, on `broker`."""
    _, smtp_port = smtp_server
    with celery_worker(tmp_path, smtp_port=smtp_port, site_url=worker_site_url) as worker:
        yield worker
