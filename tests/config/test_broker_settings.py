"""CELERY_BROKER_URL: RabbitMQ as Celery's broker, Redis still the cache. Each case starts a fresh
interpreter with the given environment (tests/config/test_settings.py)."""

from __future__ import annotations

import json

import pytest

from tests.config.test_settings import _settings

SHOW = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'cache': s.CACHES['default']['LOCATION'], "
    "'options': s.CELERY_BROKER_TRANSPORT_OPTIONS, "
    "'queue_type': getattr(s, 'CELERY_TASK_DEFAULT_QUEUE_TYPE', 'classic'), "
    "'exchange_type': getattr(s, 'CELERY_TASK_DEFAULT_EXCHANGE_TYPE', 'direct'), "
    "'acks_late': s.CELERY_TASK_ACKS_LATE}))"
)
REDIS = "redis://127.0.0.1:6379/3"
RABBITMQ = "amqp://cosign:secret@rabbitmq.internal:5672/cosign"


def _loaded(**env: str) -> dict:
    result = _settings(SHOW, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_rabbitmq_is_the_broker_with_quorum_queues_and_confirms_and_redis_the_cache() -> None:
    values = _loaded(REDIS_URL=REDIS, CELERY_BROKER_URL=RABBITMQ)
    assert values["broker"] == RABBITMQ
    assert values["eager"] is False
    assert values["cache"] == REDIS
    assert values["options"] == {"confirm_publish": True}
    assert (values["queue_type"], values["exchange_type"]) == ("quorum", "topic")
    assert values["acks_late"] is True


def test_without_it_redis_is_the_broker_as_before() -> None:
    values = _loaded(REDIS_URL=REDIS)
    assert values["broker"] == REDIS
    assert values["options"]["visibility_timeout"] == 3600
    assert (values["queue_type"], values["exchange_type"]) == ("classic", "direct")


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"CELERY_BROKER_URL": RABBITMQ}, "needs REDIS_URL too"),
        ({"CELERY_BROKER_URL": "sqs://", "REDIS_URL": REDIS}, "must be an amqp:// or redis://"),
    ],
)
def test_a_broker_url_that_cannot_work_stops_the_process(env, complaint) -> None:
    result = _settings(**env)
    assert result.returncode != 0
    assert complaint in result.stderr
