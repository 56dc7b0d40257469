"""/metrics: a bearer token guards it, and what it reports moves with what really happens:
signatures through the real sign view, a rate limit's 429, outbox rows in the database, tasks
waiting in a real Redis or RabbitMQ queue, and counts from several processes summed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from kombu import Connection
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from mechanisms import metrics
from mechanisms.models import OutboundEmail
from petitions.models import Petition, Signature

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-" + "x" * 24
SIGNER = {
    "name": "Maria Rossi",
    "email": "maria@example.org",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
}


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _sign_url(petition: Petition) -> str:
    return reverse("petitions:sign", kwargs={"slug": petition.slug})


def test_without_a_token_configured_metrics_do_not_exist(client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token(client, token) -> None:
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": token}):
        response = client.get("/metrics", **header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"cosign_" not in response.content
    wrong_case = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token.upper()}")
    assert wrong_case.status_code == 401


def test_metrics_answer_the_right_token_whatever_the_host(client, token) -> None:
    # Prometheus scrapes a host by its address, which ALLOWED_HOSTS does not list.
    response = client.get(
        "/metrics", HTTP_AUTHORIZATION=f"bearer {token}", HTTP_HOST="10.1.2.3:8000"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    assert b"cosign_http_request_duration_seconds" in response.content


def _django_start(
    code: str = "", *, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """A new process that loads the settings with only `env` (then runs `code`), as a server
    starting with that environment would."""
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(django_settings.BASE_DIR),
            "PATH": "/usr/bin:/bin",
            **env,
        },
        cwd=cwd or django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_token_setting_must_be_long() -> None:
    result = _django_start(METRICS_TOKEN="short")
    assert result.returncode != 0
    assert "METRICS_TOKEN must be at least 24 characters" in result.stderr


def test_a_signature_through_the_sign_view_is_counted_accepted_then_confirmed(
    client, petition, token
) -> None:
    labels = {"campaign": "petition", "event": "accepted"}
    before = _sample("cosign_signatures_total", labels)
    confirmed = {"campaign": "petition", "event": "confirmed"}
    confirmed_before = _sample("cosign_signatures_total", confirmed)

    response = client.post(_sign_url(petition), SIGNER)

    assert response.status_code == 302
    assert Signature.objects.count() == 1
    assert _sample("cosign_signatures_total", labels) == before + 1
    assert _scrape(client)[("cosign_signatures_total", tuple(sorted(labels.items())))] >= 1

    from petitions.services import signing

    signing.signature_confirm(signature_id=Signature.objects.get().pk)
    signing.signature_confirm(signature_id=Signature.objects.get().pk)  # twice: counted once
    assert _sample("cosign_signatures_total", confirmed) == confirmed_before + 1


def test_a_refused_form_counts_no_signature(client, petition, token) -> None:
    labels = {"campaign": "petition", "event": "accepted"}
    before = _sample("cosign_signatures_total", labels)
    assert client.post(_sign_url(petition), SIGNER | {"email": ""}).status_code == 400
    assert _sample("cosign_signatures_total", labels) == before


def test_a_rate_limited_sign_post_counts_a_429_for_the_sign_form(
    client, petition, settings
) -> None:
    no_limit: dict[str, list[str]] = {"ip": [], "campaign": [], "global": []}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign": no_limit | {"ip": ["1/m"]}}
    before = _sample("cosign_rate_limited_total", {"form": "sign"})
    other_before = _sample("cosign_rate_limited_total", {"form": "login"})

    assert client.post(_sign_url(petition), SIGNER).status_code == 302
    assert _sample("cosign_rate_limited_total", {"form": "sign"}) == before
    assert client.post(_sign_url(petition), SIGNER).status_code == 429

    assert _sample("cosign_rate_limited_total", {"form": "sign"}) == before + 1
    assert _sample("cosign_rate_limited_total", {"form": "login"}) == other_before


def test_requests_are_timed_by_view_name_and_status_class_never_by_path(client, petition) -> None:
    labels = {"view": "petitions:detail", "status": "2xx"}
    before = _sample("cosign_http_request_duration_seconds_count", labels)
    path = reverse("petitions:detail", kwargs={"slug": petition.slug})

    assert client.get(path).status_code == 200
    assert client.get("/no-such-page/").status_code == 404

    assert _sample("cosign_http_request_duration_seconds_count", labels) == before + 1
    assert (
        _sample(
            "cosign_http_request_duration_seconds_count", {"view": "unmatched", "status": "4xx"}
        )
        >= 1
    )
    exposed = generate_latest(REGISTRY).decode()
    assert petition.slug not in exposed


def _owed_email(*, age: timedelta, state: str = OutboundEmail.State.PENDING) -> OutboundEmail:
    created = timezone.now() - age
    return OutboundEmail.objects.create(
        kind="test",
        about=uuid.uuid4().hex,
        recipient="someone@example.org",
        recipient_key=uuid.uuid4().hex,
        language="en",
        state=state,
        created_at=created,
        not_before=created,
    )


def test_outbox_gauges_read_the_owed_rows_at_scrape_time(client, token) -> None:
    scraped = _scrape(client)
    assert scraped[("cosign_outbox_backlog", ())] == 0
    assert scraped[("cosign_outbox_oldest_unsent_age_seconds", ())] == 0

    _owed_email(age=timedelta(minutes=10))
    _owed_email(age=timedelta(minutes=2), state=OutboundEmail.State.SENDING)
    _owed_email(age=timedelta(hours=5), state=OutboundEmail.State.SENT)
    _owed_email(age=timedelta(hours=6), state=OutboundEmail.State.FAILED)

    scraped = _scrape(client)
    assert scraped[("cosign_outbox_backlog", ())] == 2
    age = scraped[("cosign_outbox_oldest_unsent_age_seconds", ())]
    assert 600 <= age < 3600


def test_queue_depth_counts_the_tasks_waiting_in_redis() -> None:
    url = django_settings.REDIS_URL
    queue = f"metrics-test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(url)
    try:
        client.rpush(queue, "a", "b", "c")
        client.rpush(f"{queue}\x06\x163", "d")  # a message of priority 3
        assert metrics.queue_depths(broker_url=url, queues=[queue, f"{queue}-empty"]) == [
            (queue, 4),
            (f"{queue}-empty", 0),
        ]
    finally:
        client.delete(queue, f"{queue}\x06\x163")


def test_queue_depth_asks_rabbitmq_passively() -> None:
    url = "amqp://guest:guest@127.0.0.1:5672//"
    queue = f"metrics-test-{uuid.uuid4().hex}"
    with Connection(url) as connection:
        channel = connection.channel()
        channel.queue_declare(queue=queue, durable=False, auto_delete=False)
        try:
            for body in (b"a", b"b"):
                message = channel.prepare_message(body)
                channel.basic_publish(message, exchange="", routing_key=queue)
            depths = metrics.queue_depths(broker_url=url, queues=[queue, f"{queue}-missing"])
        finally:
            channel.queue_delete(queue=queue)
    # A queue nobody declared is left out (and not created by asking).
    assert depths == [(queue, 2)]


def test_an_unreachable_or_in_memory_broker_gives_no_samples() -> None:
    assert metrics.queue_depths(broker_url="redis://127.0.0.1:1/0", queues=["cosign"]) == []
    assert metrics.queue_depths(broker_url="amqp://guest:guest@127.0.0.1:1//", queues=["q"]) == []
    assert metrics.queue_depths(broker_url="memory://", queues=["cosign"]) == []


def test_a_scrape_reports_the_queue_of_the_configured_broker(client, token, settings) -> None:
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    connection = redis.Redis.from_url(settings.REDIS_URL)
    try:
        connection.rpush(queue, "x", "y")
        assert _scrape(client)[("cosign_queue_depth", (("queue", queue),))] == 2
    finally:
        connection.delete(queue)


_CHILD = """
from mechanisms import metrics
metrics.signatures_counted(campaign="letter", event="held", count={count})
metrics.request_observed(view="v", status=201, seconds=0.01)
"""


def test_counts_from_several_processes_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    # What gunicorn's workers do: each writes its own file in PROMETHEUS_MULTIPROC_DIR.
    for count in (2, 3):
        subprocess.run(
            [sys.executable, "-c", _CHILD.format(count=count)],
            env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            cwd=django_settings.BASE_DIR,
            check=True,
        )
    assert len(list(tmp_path.glob("counter_*.db"))) == 2

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    labels = {"campaign": "letter", "event": "held"}
    assert registry.get_sample_value("cosign_signatures_total", labels) == 5
    timed = {"view": "v", "status": "2xx"}
    assert registry.get_sample_value("cosign_http_request_duration_seconds_count", timed) == 2


def test_moderation_counts_confirmed_rejected_and_spam_once_each(moderator) -> None:
    from petitions.services import moderation
    from tests.factories import IndividualSignatureFactory, SignatureFactory

    def counted(event: str, campaign: str = "petition") -> float:
        return _sample("cosign_signatures_total", {"campaign": campaign, "event": event})

    before = {event: counted(event) for event in ("confirmed", "rejected", "spam")}
    pending, held, other, spam = (SignatureFactory() for _ in range(4))
    Signature.objects.filter(pk=held.pk).update(
        status=Signature.Status.CONFIRMED, confirmed_at=timezone.now(), held=True, flags="too_fast"
    )

    moderation.signatures_confirm(signature_ids=[pending.pk, held.pk], moderator=moderator)
    moderation.signatures_reject(signature_ids=[other.pk], moderator=moderator, reason="Bot")
    moderation.signatures_reject(signature_ids=[other.pk], moderator=moderator, reason="Bot")
    moderation.signatures_mark_spam(signature_ids=[spam.pk], moderator=moderator)

    # The held one had confirmed itself already: approving it confirms nothing new.
    assert counted("confirmed") == before["confirmed"] + 1
    assert counted("rejected") == before["rejected"] + 1
    assert counted("spam") == before["spam"] + 1

    from letters import moderation as letter_moderation

    letter_before = counted("rejected", "letter")
    individual = IndividualSignatureFactory()
    letter_moderation.individual_signatures_reject(
        signature_ids=[individual.pk], moderator=moderator, reason="Bot"
    )
    assert counted("rejected", "letter") == letter_before + 1


def test_a_flagged_signature_is_counted_held(client, petition, settings) -> None:
    settings.ABUSE_NEAR_DUPLICATE = ["0/10m"]  # any name counts as a near-duplicate burst
    settings.ABUSE_IP_BURST = ["0/10m"]
    held = {"campaign": "petition", "event": "held"}
    before = _sample("cosign_signatures_total", held)

    assert client.post(_sign_url(petition), SIGNER).status_code == 302

    assert Signature.objects.get().held
    assert _sample("cosign_signatures_total", held) == before + 1


def test_a_missing_multiprocess_folder_stops_start_up(tmp_path: Path) -> None:
    result = _django_start(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR" in result.stderr


def test_an_empty_multiprocess_variable_keeps_counts_in_memory(tmp_path: Path) -> None:
    # `PROMETHEUS_MULTIPROC_DIR=` as copied from .env.example: prometheus-client would write a
    # file per process into the working directory (a container's /app) if settings kept it.
    result = _django_start(_CHILD.format(count=1), cwd=tmp_path, PROMETHEUS_MULTIPROC_DIR="")
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
