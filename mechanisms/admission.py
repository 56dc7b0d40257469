"""Admission control for the sign POSTs: how many one process serves at once, and what a signer
is answered when the site is too busy to take their signature now.

A gthread worker serves as many requests at once as it has threads. A sign POST holds its thread
while it waits on the database; in a surge, signers would take every thread, and readers of the
page and the widget (answered from the page cache in well under a millisecond) would queue behind
them. More signers at once than a few per process buys no throughput either: they take turns at
the same interpreter lock and the same database, and each one's wait grows.

So a `Gate` lets SIGN_CONCURRENCY sign POSTs run at once in a process, and SIGN_QUEUE_LENGTH more
wait at most SIGN_QUEUE_WAIT_MS for a turn; any other is refused at once. The queue is longer than
the slots: a proxy's (or a load's) kept-alive connections stay with the process that took them, so
ten signers at once may all be one process's while the machine is far from saturated, and they
must wait their few milliseconds, not be turned away. Once the queue has overflowed, though, the
process is saturated and every signer still waiting only lengthens the wait of those behind: for a
while (OVERFLOW_MEMORY_SECONDS) a waiter is then given up after SIGN_QUEUE_WAIT_OVERFLOW_MS instead.
This is the "adaptive CoDel" of Facebook's "Fail at Scale" (2015): a long wait is allowed for a
queue that drains, a short one for a standing queue. A slow stretch that never fills the queue
(Redis down makes every signature slower) keeps the long wait. A refused signer gets a
deliberate 503 with `Retry-After` on a page of its own (`busy_page`) holding everything they
typed, and nothing was written or counted: admission comes before the rate limits and the abuse
counters, so trying again costs the signer no budget. That page is cheap on purpose: in a surge the
refusals outnumber the signatures, and the campaign page with its form costs over a hundred times
as much CPU to render, which is CPU the admitted signers need.

A database too busy to answer at all (connections exhausted, a lock or statement timeout: Django's
`OperationalError`) is the same situation seen from further in: `busy_when_overloaded` answers it
with the same 503 rather than a 500, on a page that needs no database.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps

from django import forms
from django.conf import settings
from django.db import OperationalError
from django.forms.widgets import Input
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from mechanisms import queueing
from mechanisms.abuse.forms import HONEYPOT_FIELD, HoneypotInput

logger = logging.getLogger(__name__)


# How long a gate keeps the shorter wait after its queue last overflowed: a surge lasts seconds,
# and one second is many signatures' time, so a queue that stopped overflowing has drained.
OVERFLOW_MEMORY_SECONDS = 1.0


class Gate:
    """At most `slots` holders at once in this process, and at most `queue` more waiting for a
    turn, served in the order they came."""

    def __init__(self, *, slots: int, queue: int) -> None:
        self.slots = slots
        self.queue = queue
        self._turn = threading.Condition(threading.Lock())
        self._running = 0
        self._waiting = 0
        self._overflowed_at = -OVERFLOW_MEMORY_SECONDS

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    def overflowed(self) -> bool:
        """Whether the queue was full for someone within the last OVERFLOW_MEMORY_SECONDS."""
        return time.monotonic() - self._overflowed_at < OVERFLOW_MEMORY_SECONDS

    def enter(
        self,
        *,
        wait: float,
        overflow_wait: float | None = None,
        waited: float | None = None,
        overflow_late: float | None = None,
    ) -> bool:
        """Take a slot, waiting at most `wait` seconds for one; False when none came (or the
        queue was full), and then the caller holds nothing.

        While the queue has lately overflowed, the wait is at most `overflow_wait`, and a caller
        that has already `waited` `overflow_late` seconds (for a thread, before it got here) is
        refused at once: its answer would come too late to be worth the work."""
        with self._turn:
            overflowing = self.overflowed()
            late = (
                overflowing
                and waited is not None
                and overflow_late is not None
                and waited >= overflow_late
            )
            # A newcomer never passes someone already waiting for a freed slot.
            if self._running < self.slots and not self._waiting and not late:
                self._running += 1
                return True
            if self._waiting >= self.queue:
                self._overflowed_at = time.monotonic()
                return False
            if overflowing and overflow_wait is not None:
                wait = min(wait, overflow_wait)
            if wait <= 0 or late:
                return False
            self._waiting += 1
            try:
                admitted = self._turn.wait_for(lambda: self._running < self.slots, timeout=wait)
            finally:
                self._waiting -= 1
            if admitted:
                self._running += 1
            return admitted

    def leave(self) -> None:
        """Give back a slot taken by `enter`."""
        with self._turn:
            if self._running <= 0:
                raise RuntimeError("leave() without a matching enter()")
            self._running -= 1
            self._turn.notify()


_sign_gate: Gate | None = None
_sign_gate_made = threading.Lock()


def sign_gate() -> Gate:
    """This process's gate for sign POSTs, made on first use (after gunicorn forks, so each
    worker has its own). SIGN_CONCURRENCY slots, SIGN_QUEUE_LENGTH places in the queue."""
    global _sign_gate
    slots, queue = settings.SIGN_CONCURRENCY, settings.SIGN_QUEUE_LENGTH
    gate = _sign_gate
    # Made again only when the settings changed, which happens in tests, never in a process
    # that serves: a signer then holding a slot of the old gate still gives it back to that one.
    if gate is None or (gate.slots, gate.queue) != (slots, queue):
        with _sign_gate_made:
            gate = _sign_gate
            if gate is None or (gate.slots, gate.queue) != (slots, queue):
                gate = _sign_gate = Gate(slots=slots, queue=queue)
    return gate


@contextmanager
def sign_admitted() -> Iterator[bool]:
    """Whether this sign POST may run now (after waiting at most SIGN_QUEUE_WAIT_MS, or
    SIGN_QUEUE_WAIT_OVERFLOW_MS while the queue overflows); its slot is held until the block
    ends."""
    gate = sign_gate()
    admitted = gate.enter(
        wait=settings.SIGN_QUEUE_WAIT_MS / 1000,
        overflow_wait=settings.SIGN_QUEUE_WAIT_OVERFLOW_MS / 1000,
        waited=queueing.waited(),
        overflow_late=settings.SIGN_OVERFLOW_LATE_MS / 1000,
    )
    try:
        yield admitted
    finally:
        if admitted:
            gate.leave()


def busy_message() -> str:
    return gettext(
        "So many people are signing right now that we could not record your signature yet. "
        "Your details are still here: please press the sign button again in a few seconds."
    )


def database_busy_logged(error: OperationalError) -> None:
    """Log a sign POST answered 503 because the database was too busy: one line with the error,
    not a traceback, for there may be thousands while the database struggles."""
    logger.warning("A sign POST found the database too busy; answered 503: %s", error)


def busy_response(response: HttpResponse) -> HttpResponse:
    """Mark a page answering a signer the site was too busy for: 503, and when to try again."""
    response.status_code = 503
    response["Retry-After"] = str(settings.SIGN_RETRY_AFTER_SECONDS)
    # Deliberate and expected in a surge: not an error line from django.request for each one.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@dataclass(frozen=True)
class _Editable:
    """A field the signer typed into, shown again as they typed it."""

    name: str
    label: str
    value: str
    input_type: str
    multiline: bool
    autocomplete: str


@dataclass
class _Kept:
    """What a refused sign POST carried, sorted by how the busy page shows it."""

    editable: list[_Editable] = field(default_factory=list)
    # Choices the signer made, as (label, what they chose), carried in `hidden`.
    chosen: list[tuple[str, str]] = field(default_factory=list)
    hidden: list[tuple[str, str]] = field(default_factory=list)


def _chosen_labels(form_field: forms.Field, values: list[str]) -> list[str]:
    """The labels of the choices among `values`, in their order; a value the field does not
    offer is shown as it came. Only those labels are made text: a country field has hundreds of
    lazily translated ones, and the busy page is answered to every signer turned away. A field
    that can name a choice directly says so with a `choice_label(value)` method (None for a value
    it does not offer), and then its choices are not walked at all."""
    choice_label = getattr(form_field, "choice_label", None)
    if choice_label is not None:
        return [choice_label(value) or value for value in values if value]
    wanted = set(values)
    labels: dict[str, str] = {}
    for value, label in getattr(form_field, "choices", ()):
        group = label if isinstance(label, (list, tuple)) else [(value, label)]
        for inner, shown in group:
            if str(inner) in wanted:
                labels[str(inner)] = str(shown)
    return [labels.get(value, value) for value in values if value]


def _typed_into(widget: forms.Widget | None) -> bool:
    """Whether a person types this field's value (rather than choosing or never seeing it)."""
    return isinstance(widget, forms.Textarea) or (
        isinstance(widget, Input) and widget.input_type in {"text", "email", "tel", "url", "number"}
    )


def _kept(request: HttpRequest, form: forms.BaseForm | None) -> _Kept:
    """Every value the POST carried, never the honeypot (a page must not hand it back sprung:
    mechanisms.abuse.forms.HoneypotInput). With the form, its typed fields are editable and its
    choices summarised by their labels; without it, all is carried hidden."""
    kept = _Kept()
    fields = form.fields if form is not None else {}
    for name, values in request.POST.lists():
        if name == HONEYPOT_FIELD:
            continue
        form_field = fields.get(name)
        widget = form_field.widget if form_field is not None else None
        if form_field is not None and _typed_into(widget) and len(values) == 1:
            kept.editable.append(
                _Editable(
                    name=name,
                    label=str(form_field.label or name),
                    value=values[0],
                    input_type=getattr(form_field.widget, "input_type", "text"),
                    multiline=isinstance(form_field.widget, forms.Textarea),
                    autocomplete=form_field.widget.attrs.get("autocomplete", ""),
                )
            )
            continue
        kept.hidden.extend((name, value) for value in values)
        if form_field is None or isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(form_field, forms.BooleanField):
            # As the form will read it: "false" and "0" are no.
            shown = [gettext("Yes")] if form_field.to_python(values[-1]) else []
        else:
            shown = _chosen_labels(form_field, values)
        if shown:
            kept.chosen.append((str(form_field.label or name), ", ".join(shown)))
    return kept


@functools.cache
def _trap(language: str) -> SafeString:
    """The honeypot's markup, the same for every busy page in a language: made once, as a
    widget renders through the template engine (about a millisecond each time)."""
    return HoneypotInput().render(HONEYPOT_FIELD, "", attrs={"id": "busy-trap"})


def busy_page(
    request: HttpRequest, *, form: forms.BaseForm | None = None, title: str = ""
) -> HttpResponse:
    """The 503 with `Retry-After` for a signer the site was too busy for: a page of its own that
    reads nothing from the database, with everything they sent in a form whose one button sends
    it again. Given the bound `form`, what they typed stays editable and what they chose is shown;
    `title` names the campaign. Sending twice is safe: a signature is one per address, and the
    answer is the same."""
    kept = _kept(request, form)
    page = render(
        request,
        "busy.html",
        {
            "action": request.path,
            "title": title,
            "message": busy_message(),
            "editable": kept.editable,
            "chosen": kept.chosen,
            "hidden": kept.hidden,
            # The trap again, empty, as on the form: a bot that fills and sends everything
            # is caught on its second try as on its first.
            "trap": _trap(get_language()),
        },
    )
    return busy_response(page)


def busy_when_overloaded(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """For a sign view: a database too busy to answer anywhere in it gets the 503 with
    `Retry-After`, not a 500.

    The page cannot name the campaign or the form's fields (reading the campaign is what
    failed), so `busy_page` carries what the signer sent hidden, to send again as it was.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except OperationalError as error:
            database_busy_logged(error)
            return busy_page(request)

    return guarded
