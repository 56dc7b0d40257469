"""A web process with every sign slot taken, as by signers on other threads, for tests of what
the next signer meets (mechanisms.admission); and what a page kept of a form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from mechanisms import admission


class Saturation:
    """The slots this test holds in the process's sign gate."""

    def __init__(self, gate: admission.Gate) -> None:
        self.gate = gate
        self.held = 0

    def take_all(self) -> None:
        while self.gate.enter(wait=0):
            self.held += 1
        assert self.gate.running == self.gate.slots

    def free_one(self) -> None:
        """One signer finishes: a slot is free for the next."""
        self.gate.leave()
        self.held -= 1

    def free_all(self) -> None:
        while self.held:
            self.free_one()


@contextmanager
def signing_saturated() -> Iterator[Saturation]:
    """Every sign slot of this process held until the block ends (or the test frees them)."""
    saturation = Saturation(admission.sign_gate())
    saturation.take_all()
    try:
        yield saturation
    finally:
        saturation.free_all()


def field_value(html: str, name: str) -> str | None:
    """The value the input named `name` is rendered with (text and hidden inputs)."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None
