from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cosign")
# Every Celery option lives in Django settings under the CELERY_ prefix, beat schedule included.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
