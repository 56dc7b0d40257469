"""Redis down, two ways, for the health check tests (the site under both: tests/integration)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.services import free_port


@pytest.fixture
def redis_refusing(settings) -> None:
    """Redis stopped: nothing listens at its address."""
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def redis_never_answering(settings) -> Iterator[None]:
    """Redis hung: the kernel accepts connections to a listener that never reads them."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        settings.REDIS_URL = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        yield
