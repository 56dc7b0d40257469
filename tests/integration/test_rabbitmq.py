"""RabbitMQ as Celery's broker (CELERY_BROKER_URL), on this machine's RabbitMQ: a task is
published to a quorum queue, persistent, with the broker's confirmation; a Redis outage does not
stop tasks being queued, and a RabbitMQ outage does not turn Redis off. The whole site on
RabbitMQ is the other integration tests, which run on both brokers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from unittest import mock
from urllib.parse import unquote, urlsplit

import pytest
from kombu import Queue

from config.celery import app as celery_app
from mechanisms import queue
from mechanisms.redis_breaker import breaker as redis_breaker
from mechanisms.tasks import outbox_sweep
from tests.services import broker_queued, broker_switched, free_port, rabbitmqctl

pytestmark = pytest.mark.integration


@pytest.fixture
def rabbitmq(rabbitmq_url, settings) -> Iterator[str]:
    """This process publishing to RabbitMQ, as a web process does (no task runs in-process);
    yields the queue's name, emptied."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    name = os.environ["CELERY_QUEUE"]
    with broker_switched(rabbitmq_url):
        celery_app.conf.task_always_eager = False
        try:
            with celery_app.connection_for_write() as connection:
                celery_app.amqp.queues[name].bind(connection.default_channel).declare()
                connection.default_channel.queue_purge(name)
            yield name
        finally:
            celery_app.conf.task_always_eager = True
    queue.broker_breaker.reset()


def test_a_task_is_published_persistent_to_a_quorum_queue(rabbitmq: str) -> None:
    assert queue.enqueue_now(outbox_sweep) is True
    assert broker_queued(rabbitmq) == 1
    with celery_app.connection_for_write() as connection:
        message = celery_app.amqp.queues[rabbitmq].bind(connection.default_channel).get()
        assert message.properties["delivery_mode"] == 2
        assert message.headers["task"] == outbox_sweep.name
        message.requeue()
        # The queue's type is fixed at its declaration: asking for a classic queue of the same
        # name is refused, and the broker says what the queue is.
        classic = Queue(rabbitmq, queue_arguments={"x-queue-type": "classic"})
        with pytest.raises(connection.channel_errors) as refused:
            classic.bind(connection.channel()).queue_declare()
    assert "'quorum'" in str(refused.value)
    assert broker_queued(rabbitmq) == 1


def test_the_worker_settings_are_a_quorum_queues_ones(rabbitmq: str) -> None:
    """What a worker started with CELERY_BROKER_URL=amqp://... runs on."""
    conf = celery_app.conf
    assert conf.broker_transport_options == {"confirm_publish": True}
    assert (conf.task_default_queue_type, conf.task_create_missing_queue_type) == ("quorum",) * 2
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    (declared,) = celery_app.amqp.queues.values()
    assert declared.queue_arguments == {"x-queue-type": "quorum"}
    assert declared.durable and not declared.auto_delete
    assert declared.exchange.type == "topic"


@pytest.fixture
def full_queue(rabbitmq_url: str, rabbitmq: str) -> Iterator[str]:
    """A broker policy on the test's queue: it holds no task, and refuses a publish once over."""
    vhost = unquote(urlsplit(rabbitmq_url).path[1:])
    if vhost == "/":
        pytest.skip("rabbitmqctl cannot run here: no policy can be set")
    policy = json.dumps({"max-length": 0, "overflow": "reject-publish"})
    assert rabbitmqctl(
        "set_policy", "-p", vhost, "--apply-to", "queues", "full", f"^{rabbitmq}$", policy
    )
    try:
        yield rabbitmq
    finally:
        rabbitmqctl("clear_policy", "-p", vhost, "full")


def test_a_task_the_broker_refuses_is_not_taken_for_queued(full_queue: str, caplog) -> None:
    # A quorum queue takes the publish that puts it over its limit and refuses the next ones
    # (RabbitMQ 3.10; a stricter version refuses the first). Without publisher confirms each
    # publish would return as if its task were queued.
    queued = [queue.enqueue_now(outbox_sweep) for _ in range(3)]
    assert False in queued
    assert broker_queued(full_queue) == queued.count(True) <= 1
    # The broker's own breaker opened, so the third did not try; Redis, which answered all
    # along, is still used.
    assert queued[-1] is False
    assert not queue.broker_breaker.available()
    assert redis_breaker.available()
    assert "Celery's broker unavailable" in caplog.text


def test_with_redis_down_tasks_are_still_queued_on_rabbitmq(rabbitmq: str) -> None:
    redis_breaker.failed(path="the test", error=ConnectionError("Redis is down"))
    assert queue.enqueue_now(outbox_sweep) is True
    assert broker_queued(rabbitmq) == 1


def test_a_dead_rabbitmq_is_tried_once_per_breaker_period_and_leaves_redis_alone(
    settings,
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with broker_switched(f"amqp://guest:guest@127.0.0.1:{free_port()}//"):
        celery_app.conf.task_always_eager = False
        try:
            with mock.patch.object(
                outbox_sweep, "apply_async", wraps=outbox_sweep.apply_async
            ) as publish:
                assert queue.enqueue_now(outbox_sweep) is False
                assert not queue.broker_breaker.available()
                # The next one does not try again, and Redis was never the broker's to close.
                assert queue.enqueue_now(outbox_sweep) is False
            assert publish.call_count == 1
            assert redis_breaker.available()
        finally:
            celery_app.conf.task_always_eager = True
            queue.broker_breaker.reset()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_a_worker_consumes_the_quorum_queue_and_answers_remote_control(
    celery_worker_process,
) -> None:
    # Remote control goes over RabbitMQ's classic temporary queues, beside the quorum one.
    (reply,) = celery_app.control.ping(timeout=5, limit=1)
    assert list(reply.values()) == [{"ok": "pong"}]
    (consumed,) = celery_app.control.inspect(timeout=5, limit=1).active_queues().values()
    assert [(q["name"], q["queue_arguments"]) for q in consumed] == [
        (os.environ["CELERY_QUEUE"], {"x-queue-type": "quorum"})
    ]
