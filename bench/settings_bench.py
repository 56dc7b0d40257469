"""Production settings plus the baseline view's URL, for `make bench` only.

The baseline must never be reachable in production, so it lives in its own URLconf here rather than
behind a flag in config/urls.py. Everything else is config.settings as the environment sets it.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"

# collectstatic writes here: a bench run must not touch the checkout's staticfiles/, which other
# processes (a dev server, a test run) may be reading.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
