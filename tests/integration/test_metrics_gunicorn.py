"""Metrics under gunicorn with two workers: in multiprocess mode every scrape, whichever worker
answers it, reports the requests both workers served."""

from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.services import app_server

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TOKEN = "gunicorn-metrics-token-0123456789"


def _get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our own server)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _unmatched_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "cosign_http_request_duration_seconds_count" and sample.labels == {
                "view": "unmatched",
                "status": "4xx",
            }:
                return sample.value
    return 0.0


def test_every_scrape_sums_the_workers(tmp_path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "METRICS_TOKEN": TOKEN,
        "EMAIL_URL": "smtp://127.0.0.1:1",
    }
    sent = 0
    with app_server(tmp_path, env=env) as server, ThreadPoolExecutor(max_workers=8) as pool:
        # Until both workers have served (each writes its own file on its first request): an
        # idle worker may take every connection of a slow, sequential client.
        for _ in range(40):
            statuses = list(pool.map(lambda _: _get(f"{server.url}/no-such-page/")[0], range(8)))
            assert statuses == [404] * 8
            sent += 8
            if len(list(directory.glob("histogram_*.db"))) == 2:
                break
        assert len(list(directory.glob("histogram_*.db"))) == 2, "one worker served everything"
        assert _get(f"{server.url}/metrics")[0] == 401
        scrapes = [_get(f"{server.url}/metrics", Authorization=f"Bearer {TOKEN}") for _ in range(8)]
    assert {status for status, _ in scrapes} == {200}
    # Every scrape, whichever worker answered it, saw every request both served.
    assert {_unmatched_count(text) for _, text in scrapes} == {sent}
