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


def _settings(show: str = SHOW, **env: str) -> subprocess.CompletedProcess[str]:
    # Only what the interpreter needs: the caller's own settings must not leak into the case.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", show], cwd=ROOT, env=clean, capture_output=True, text=True
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
        ({"DEBUG": "1", "CLOCK_SKEW_ALLOWANCE_SECONDS": "2s"}, "is not a whole number"),
        ({"DEBUG": "1", "CLOCK_SKEW_ALLOWANCE_SECONDS": "-1"}, "must be at least 0"),
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


# --- Trusted proxies --------------------------------------------------------------------------

PROXIES_SHOW = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps([s.TRUSTED_PROXIES, getattr(s, 'SECURE_PROXY_SSL_HEADER', None)]))"
)


def test_trusted_proxies_are_addresses_and_networks_of_either_family() -> None:
    result = _settings(
        PROXIES_SHOW,
        TRUSTED_PROXIES=" 127.0.0.1, 10.0.0.0/8,::1 , 2001:DB8:0::/32,fd00::2/128, unix",
        TRUST_X_FORWARDED_PROTO="1",
    )
    assert result.returncode == 0, result.stderr
    proxies, proto_header = json.loads(result.stdout)
    assert proxies == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
        "2001:db8::/32",
        "fd00::2/128",
        "unix",
    ]
    assert proto_header == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_no_proxy_is_trusted_unless_listed() -> None:
    result = _settings(PROXIES_SHOW)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[], None]


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"TRUSTED_PROXIES": "10.0.0.1/8"}, "has host bits set"),
        ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "'10.0.0.0/33' is not an IP address or network"),
        ({"TRUSTED_PROXIES": "127.0.0.1, proxy.internal"}, "'proxy.internal' is not an IP"),
        ({"TRUSTED_PROXIES": "10.0.0.2 10.0.0.3"}, "is not an IP address or network"),
        ({"TRUSTED_PROXIES": "10.0.0.2:8080"}, "is not an IP address or network"),
        ({"TRUSTED_PROXIES": "2001:db8::/129"}, "is not an IP address or network"),
        ({"TRUSTED_PROXIES": "fe80::1%eth0"}, "zone index"),
        ({"TRUSTED_PROXIES": "0.0.0.0/0"}, "would trust every address"),
        ({"TRUSTED_PROXIES": "::/0"}, "would trust every address"),
        ({"TRUSTED_PROXIES": "::ffff:10.0.0.0/104"}, "write it in its IPv4 form"),
        ({"NUM_PROXIES": "1"}, "NUM_PROXIES is no longer read"),
        ({"NUM_PROXIES": "1", "TRUSTED_PROXIES": "10.0.0.2"}, "instead, e.g. TRUSTED_PROXIES="),
        ({"TRUST_X_FORWARDED_PROTO": "1"}, "TRUST_X_FORWARDED_PROTO needs TRUSTED_PROXIES"),
    ],
)
def test_malformed_proxy_settings_stop_the_process_naming_the_fix(env, complaint) -> None:
    result = _settings(PROXIES_SHOW, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "TRUSTED_PROXIES" in result.stderr
    assert complaint in result.stderr


@pytest.mark.parametrize(("value", "disabled"), [(None, False), ("1", True), ("0", False)])
def test_server_side_cursors_can_be_turned_off_for_a_transaction_pooler(value, disabled) -> None:
    show = (
        "import django; from django.conf import settings as s; "
        "print(s.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    env = {"DATABASE_URL": "postgres://cosign@db.internal:5432/cosign"}
    if value is not None:
        env["DISABLE_SERVER_SIDE_CURSORS"] = value
    result = _settings(show, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(disabled)
