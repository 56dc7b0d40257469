"""Settings for the app servers integration tests start (tests/services.py `app_server`): the
production settings, with static files served from their source folders, so no collectstatic
run is needed before a test starts gunicorn."""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Accounts the test process makes (with the suite's fast hasher) must log in here too.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
