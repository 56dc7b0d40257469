"""Admission control (mechanisms.admission): the gate that bounds a process's sign POSTs, and
the 503 a sign view gives instead of a 500 when the database is too busy to answer.

Threads stand in for the other requests of a process. Nothing here measures time: a test that
needs a request to be waiting polls the gate until it says so.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from mechanisms import admission, queueing
from mechanisms.abuse.forms import HONEYPOT_FIELD
from mechanisms.admission import Gate

# Long enough that a request that is refused early cannot be one that waited it out; nothing
# waits it out unless the gate is broken (then the test is slow and fails).
LONG = 30.0


def _until(condition: Callable[[], bool]) -> None:
    """Poll for something another thread does; a deadline only so a broken gate fails."""
    deadline = time.monotonic() + LONG
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)


class _Waiter(threading.Thread):
    """A request that asks the gate for a slot, and keeps it until told to leave."""

    def __init__(
        self, gate: Gate, *, wait: float = LONG, overflow_wait: float | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.gate = gate
        self.wait = wait
        self.overflow_wait = overflow_wait
        self.admitted: bool | None = None
        self.done = threading.Event()

    def run(self) -> None:
        self.admitted = self.gate.enter(wait=self.wait, overflow_wait=self.overflow_wait)
        self.done.wait(LONG)
        if self.admitted:
            self.gate.leave()


@pytest.fixture
def waiters() -> Iterator[list[_Waiter]]:
    started: list[_Waiter] = []
    yield started
    for waiter in started:
        waiter.done.set()
        waiter.join(LONG)


def _start(waiters: list[_Waiter], gate: Gate, **options: float) -> _Waiter:
    waiter = _Waiter(gate, **options)
    waiters.append(waiter)
    waiter.start()
    return waiter


def test_the_gate_admits_its_slots_and_refuses_the_next_without_a_wait() -> None:
    gate = Gate(slots=2, queue=2)
    assert gate.enter(wait=0) and gate.enter(wait=0)
    assert gate.enter(wait=0) is False
    assert (gate.running, gate.waiting) == (2, 0)
    gate.leave()
    assert gate.enter(wait=0)


def test_a_waiting_request_gets_the_slot_another_frees(waiters) -> None:
    gate = Gate(slots=1, queue=1)
    assert gate.enter(wait=0)
    waiter = _start(waiters, gate)
    _until(lambda: gate.waiting == 1)
    assert waiter.admitted is None

    gate.leave()
    _until(lambda: waiter.admitted is not None)
    assert waiter.admitted is True
    assert (gate.running, gate.waiting) == (1, 0)


def test_a_request_whose_wait_runs_out_is_refused_and_holds_nothing() -> None:
    gate = Gate(slots=1, queue=1)
    assert gate.enter(wait=0)
    assert gate.enter(wait=0.01) is False
    assert (gate.running, gate.waiting) == (1, 0)


def test_past_the_queue_a_request_is_refused_at_once(waiters) -> None:
    gate = Gate(slots=1, queue=2)
    assert gate.enter(wait=0)
    queued = [_start(waiters, gate), _start(waiters, gate)]
    _until(lambda: gate.waiting == 2)

    # It would wait as long as the others if the queue took it.
    late = _start(waiters, gate)
    _until(lambda: late.admitted is not None)
    assert late.admitted is False
    assert gate.waiting == 2

    # The queue is served in order as slots free.
    gate.leave()
    _until(lambda: queued[0].admitted is not None)
    assert (queued[0].admitted, queued[1].admitted) == (True, None)


def test_a_newcomer_does_not_pass_a_request_already_waiting(waiters) -> None:
    gate = Gate(slots=1, queue=1)
    assert gate.enter(wait=0)
    first = _start(waiters, gate)
    _until(lambda: gate.waiting == 1)
    gate.leave()
    # Whether or not the waiter has woken yet, the freed slot is its own.
    assert gate.enter(wait=0) is False
    _until(lambda: first.admitted is not None)
    assert first.admitted is True


def test_leaving_more_than_entered_is_a_bug_not_a_free_slot() -> None:
    gate = Gate(slots=1, queue=1)
    with pytest.raises(RuntimeError):
        gate.leave()


def test_the_sign_gate_follows_the_settings(settings) -> None:
    settings.SIGN_CONCURRENCY = 3
    settings.SIGN_QUEUE_LENGTH = 5
    gate = admission.sign_gate()
    assert (gate.slots, gate.queue) == (3, 5)
    assert admission.sign_gate() is gate
    settings.SIGN_QUEUE_LENGTH = 7
    assert (admission.sign_gate().slots, admission.sign_gate().queue) == (3, 7)


def test_ten_signers_at_once_in_one_process_all_get_a_turn(waiters) -> None:
    # A proxy's kept-alive connections stay with one process: ten signers at once may all be
    # this one's, on a machine far from saturated. With the default settings none is refused.
    gate = admission.sign_gate()
    assert (gate.slots, gate.queue) == (4, 6)
    ten = [_start(waiters, gate) for _ in range(10)]
    _until(lambda: (gate.running, gate.waiting) == (4, 6))
    # An eleventh is refused at once: the threads signers may not take are the readers'.
    assert gate.enter(wait=LONG) is False

    # As the first four finish, the six waiting take their turns.
    def finish_the_admitted() -> bool:
        for waiter in ten:
            if waiter.admitted:
                waiter.done.set()
        return all(waiter.admitted is not None for waiter in ten)

    _until(finish_the_admitted)
    assert [waiter.admitted for waiter in ten] == [True] * 10


def test_a_sign_slot_is_given_back_when_the_request_fails(settings) -> None:
    settings.SIGN_CONCURRENCY = 1
    gate = admission.sign_gate()
    with pytest.raises(ValueError), admission.sign_admitted() as admitted:
        assert admitted
        assert gate.running == 1
        raise ValueError("the view failed")
    assert gate.running == 0


def test_a_sign_slot_not_given_is_not_given_back(settings) -> None:
    settings.SIGN_CONCURRENCY = 1
    settings.SIGN_QUEUE_WAIT_MS = 0
    gate = admission.sign_gate()
    assert gate.enter(wait=0)
    with admission.sign_admitted() as admitted:
        assert admitted is False
    assert gate.running == 1
    gate.leave()


def test_a_view_the_database_fails_answers_503_with_a_form_that_sends_it_again(settings) -> None:
    settings.SIGN_RETRY_AFTER_SECONDS = 4

    @admission.busy_when_overloaded
    def view(request: HttpRequest) -> HttpResponse:
        raise OperationalError("FATAL: sorry, too many clients already")

    request = RequestFactory().post(
        "/en/p/oakland/sign/",
        {"name": 'Maria "M" Rossi', "email": "maria@example.org", HONEYPOT_FIELD: "spam"},
    )
    response = view(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "4"
    html = response.content.decode()
    assert "So many people are signing right now" in html
    assert '<form action="/en/p/oakland/sign/" method="post"' in html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert fields == {"name": "Maria &quot;M&quot; Rossi", "email": "maria@example.org"}


def test_other_errors_are_not_taken_for_a_busy_database() -> None:
    @admission.busy_when_overloaded
    def view(request: HttpRequest) -> HttpResponse:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        view(RequestFactory().post("/en/p/oakland/sign/", {}))


def test_a_busy_database_is_logged_in_one_line_without_a_traceback(caplog) -> None:
    @admission.busy_when_overloaded
    def view(request: HttpRequest) -> HttpResponse:
        raise OperationalError("FATAL: sorry, too many clients already")

    with caplog.at_level(logging.WARNING, logger="mechanisms.admission"):
        assert view(RequestFactory().post("/en/p/oakland/sign/", {})).status_code == 503
    (record,) = [r for r in caplog.records if r.name == "mechanisms.admission"]
    assert record.exc_info is None
    assert "too many clients already" in record.getMessage()


def test_after_the_queue_overflows_a_waiter_gets_the_shorter_wait(waiters) -> None:
    gate = Gate(slots=1, queue=1)
    assert gate.enter(wait=0)
    # Before any overflow the long wait holds: a slot freed after 0.2 s still admits the waiter.
    patient = _start(waiters, gate, wait=LONG, overflow_wait=0.01)
    _until(lambda: gate.waiting == 1)
    time.sleep(0.2)
    assert patient.admitted is None
    gate.leave()
    _until(lambda: patient.admitted is not None)
    assert patient.admitted is True

    # Someone finds the queue full: the gate remembers the overflow.
    queued = _start(waiters, gate, wait=LONG, overflow_wait=LONG)
    _until(lambda: gate.waiting == 1)
    assert not gate.overflowed()
    assert gate.enter(wait=LONG, overflow_wait=0.01) is False
    assert gate.overflowed()

    # The next waiter is given up after the short wait, though its long wait has not run out.
    patient.done.set()
    _until(lambda: queued.admitted is not None)
    # Its long wait outlasts _until's deadline, so only the short one lets this pass.
    hurried = _start(waiters, gate, wait=3 * LONG, overflow_wait=0.01)
    _until(lambda: hurried.admitted is not None)
    assert hurried.admitted is False
    assert (gate.running, gate.waiting) == (1, 0)


def test_the_overflow_is_forgotten_after_a_second(monkeypatch) -> None:
    gate = Gate(slots=1, queue=0)
    assert gate.enter(wait=0)
    assert gate.enter(wait=1) is False
    assert gate.overflowed()
    now = time.monotonic()
    monkeypatch.setattr(
        admission.time, "monotonic", lambda: now + admission.OVERFLOW_MEMORY_SECONDS
    )
    assert not gate.overflowed()


def test_while_the_queue_overflows_a_signer_who_waited_long_for_a_thread_is_refused_at_once(
    waiters,
) -> None:
    gate = Gate(slots=1, queue=1)
    # No overflow yet: however long it waited for a thread, a request takes the free slot.
    assert gate.enter(wait=0, waited=5.0, overflow_late=0.3)

    waiting = _start(waiters, gate)
    _until(lambda: gate.waiting == 1)
    assert gate.enter(wait=LONG) is False  # the queue is full: an overflow
    gate.leave()
    _until(lambda: waiting.admitted is not None)
    waiting.done.set()
    _until(lambda: gate.running == 0)

    # The slot is free, but this signer waited past the limit: no work is started for it.
    assert gate.enter(wait=LONG, waited=0.3, overflow_late=0.3) is False
    assert (gate.running, gate.waiting) == (0, 0)
    # One that came sooner, or whose wait nobody measured, still gets the slot.
    assert gate.enter(wait=LONG, waited=0.29, overflow_late=0.3)
    gate.leave()
    assert gate.enter(wait=LONG, waited=None, overflow_late=0.3)


def test_the_sign_gate_is_told_how_long_this_request_waited_for_a_thread(settings) -> None:
    settings.SIGN_CONCURRENCY, settings.SIGN_QUEUE_LENGTH = 1, 0
    settings.SIGN_OVERFLOW_LATE_MS = 300
    gate = admission.sign_gate()
    assert gate.enter(wait=0)
    try:
        assert gate.enter(wait=0) is False  # overflow
        gate.leave()
        queueing.queued_at(time.monotonic() - 0.5)
        with admission.sign_admitted() as admitted:
            assert admitted is False
        queueing.queued_at(time.monotonic())
        with admission.sign_admitted() as admitted:
            assert admitted is True
    finally:
        queueing.queued_at(None)
