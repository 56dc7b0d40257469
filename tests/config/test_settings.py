"""Settings are parsed strictly: each case starts a fresh interpreter with the given environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'db': s.DATABASES['default']['NAME'], 'email': s.EMAIL_BACKEND, 'port': s.EMAIL_PORT, "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default']['BACKEND'], 'hosts': s.ALLOWED_HOSTS, "
    "'from': s.DEFAULT_FROM_EMAIL}))"
)


def _settings(**env: str) -> subprocess.CompletedProcess[str]:
    # Only what the interpreter needs: the caller's own settings must not leak into the case.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def _loaded(**env: str) -> dict:
    result = _settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_development_defaults_need_nothing_installed() -> None:
    values = _loaded()
    assert values["debug"] is True
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert values["eager"] is True
    assert values["cache"].endswith("LocMemCache")


def test_production_values_come_from_the_environment() -> None:
    values = _loaded(
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="cosign.example.org, www.cosign.example.org",
        SITE_URL="https://cosign.example.org",
        DATABASE_URL="postgres://cosign@db.internal:5432/cosign",
        REDIS_URL="redis://127.0.0.1:6379/3",
        EMAIL_URL="smtp://127.0.0.1:2525",
    )
    assert values["debug"] is False
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["db"] == "cosign"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["port"] == 2525
    assert values["eager"] is False
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["cache"].endswith("RedisCache")
    assert values["hosts"] == ["cosign.example.org", "www.cosign.example.org"]
    assert values["from"] == "Cosign <noreply@cosign.example.org>"


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY must be set"),
        ({"DEBUG": "0", "SECRET_KEY": "k" * 50}, "ALLOWED_HOSTS must be set"),
        (
            {"DEBUG": "0", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "cosign.example.org"},
            "SITE_URL must be set",
        ),
        (
            {
                "DEBUG": "0",
                "SECRET_KEY": "k" * 50,
                "ALLOWED_HOSTS": "cosign.example.org",
                "SITE_URL": "https://cosign.example.org",
            },
            "EMAIL_URL must be set",
        ),
        ({"DEBUG": "ture"}, "is not a boolean"),
        ({"DEBUG": "1", "SECURE_SSL_REDIRECT": "maybe"}, "is not a boolean"),
        ({"DEBUG": "1", "SECURE_HSTS_SECONDS": "a year"}, "is not a whole number"),
        ({"DEBUG": "1", "REDIS_URL": "localhost:6379"}, "must be a redis://"),
        ({"DEBUG": "1", "SITE_URL": "cosign.example.org"}, "must start with http"),
        ({"DEBUG": "1", "DATABASE_URL": "nosuchdb://x/y"}, "nosuchdb"),
    ],
)
def test_malformed_settings_stop_the_process_with_a_clear_message(env, complaint) -> None:
    result = _settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr or "Error" in result.stderr
    assert complaint in result.stderr
