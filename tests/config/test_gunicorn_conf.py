"""config/gunicorn.conf.py reads its sizes from the environment and refuses what it cannot use,
at start-up rather than in every worker."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


def _load(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_the_lock_switch_interval_is_left_to_python_unless_set(monkeypatch) -> None:
    monkeypatch.delenv("GUNICORN_SWITCH_INTERVAL_MS", raising=False)
    assert _load(monkeypatch)["switch_interval_ms"] is None
    assert _load(monkeypatch, GUNICORN_SWITCH_INTERVAL_MS="0.5")["switch_interval_ms"] == 0.5


@pytest.mark.parametrize("raw", ["0", "-1", "fast", "nan"])
def test_a_switch_interval_that_is_not_a_positive_number_stops_start_up(monkeypatch, raw) -> None:
    with pytest.raises(RuntimeError, match="GUNICORN_SWITCH_INTERVAL_MS"):
        _load(monkeypatch, GUNICORN_SWITCH_INTERVAL_MS=raw)


@pytest.mark.parametrize("raw", ["0", "two", "1.5"])
def test_threads_that_are_not_a_positive_whole_number_stop_start_up(monkeypatch, raw) -> None:
    with pytest.raises(RuntimeError, match="GUNICORN_THREADS"):
        _load(monkeypatch, GUNICORN_THREADS=raw)
