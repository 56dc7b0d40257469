"""Test settings: the real settings, pointed at this machine's PostgreSQL and Redis, made fast."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://localhost/test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CACHE_KEY_PREFIX", f"cosign-test-{os.getpid()}")
# Its own queue, so a developer's running worker never takes the tests' tasks (or the reverse).
os.environ.setdefault("CELERY_QUEUE", f"cosign-test-{os.getpid()}")

from config.settings import *  # noqa: F403
from config.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests run tasks in-process and check enqueueing with captured on_commit callbacks; the
# integration tests start a real worker and switch this off for the duration.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files are served from the source folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Browser journeys and view tests fill a form in milliseconds, like a bot: the fill-time check
# is off here (0 disables it) and tests/accounts/test_abuse.py switches it on where it is tested.
ABUSE_MIN_FILL_SECONDS = 0
# Tests change a petition and read its page again at once; a shared copy would show the old one.
# tests/petitions/test_page_cache.py switches the copy on where it is tested.
PETITION_PAGE_CACHE_SECONDS = 0
# Uploaded images go to a folder of this run's own, never into the checkout.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="cosign-test-media-"))
