"""What the log handlers the settings configure print, for tests that read the log as an
operator (or an attacker with the log) would."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def printed() -> Iterator[io.StringIO]:
    """What the handlers the settings configured print (the root logger's), while a test runs."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    configured = [h for h in handlers if type(h).__module__ == "logging"]
    assert configured, "the settings' console handler is on the root logger"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in configured]
    try:
        yield buffer
    finally:
        for handler, stream in zip(configured, previous, strict=True):
            handler.setStream(stream)
