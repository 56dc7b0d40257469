"""A WSGI application for tests of Cosign's gunicorn worker (config/gunicorn_worker.py): it says
how long its request waited for a thread, as mechanisms.queueing saw it. /hold keeps its thread
(having said so in the file WAITED_APP_HELD) until the test makes the file WAITED_APP_RELEASE."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from mechanisms import queueing


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    waited = queueing.waited()
    if environ["PATH_INFO"] == "/hold":
        with open(os.environ["WAITED_APP_HELD"], "w"):
            pass
        deadline = time.monotonic() + 30
        while not os.path.exists(os.environ["WAITED_APP_RELEASE"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"unknown" if waited is None else f"{waited:.6f}".encode()]
