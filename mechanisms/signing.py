"""The sign POST, written once for petitions and letters: who may write a signature, and what the
request answers.

The screening runs in one order, each step before anything it could spend: the sender's own
per-address budget on every attempt; the form (the honeypot answers as if signed, so a bot learns
nothing); whether the campaign takes signatures; only then the campaign's and the site's shared
budgets, which empty or refused posts must not use up; last the signals that flag a signature for
a moderator, which count bursts and spend the proof of work. Every accepted, trapped or repeated
signer gets the same redirect: the answer never says whether an address had signed.

Before all of it, admission (mechanisms.admission): a process runs only a few sign POSTs at once,
and one that finds no turn soon enough gets what it typed back on a page of its own, a 503 with
`Retry-After`, having written and spent nothing. One that finds the database too busy to answer
gets the same.

Nothing here imports petitions or letters: their views pass what differs (the form, the service
that writes the signature, the pages).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from django import forms
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from mechanisms import admission, metrics
from mechanisms.abuse import rate_limits, signals
from mechanisms.abuse.forms import HumanChecked
from mechanisms.counters import Stage, counters_count


class Verdict(StrEnum):
    # The form again, with the screen's status and message; nothing written.
    REFUSED = "refused"
    # The honeypot was filled: the answer a person would get, and nothing written.
    TRAPPED = "trapped"
    # Write the signature, with the screen's flags and IP hash.
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class Screen:
    verdict: Verdict
    # For a refusal: 429 (a rate limit, with `message`), 400 (an invalid form), 409 (closed).
    status: int = 200
    message: str = ""
    flags: list[str] = field(default_factory=list)
    ip_hash: str = ""


def sign_request_screen(
    request: HttpRequest,
    *,
    form: HumanChecked,
    action: str,
    campaign_kind: str,
    campaign_id: int,
    accepting: bool,
    trusted_domains: Collection[str] = (),
) -> Screen:
    """Screen a sign POST for campaign `campaign_kind` `campaign_id`, validating the bound `form`.

    `action` names the settings.RATE_LIMITS entry; `accepting` says whether the campaign takes
    signatures now; `trusted_domains` are domains the campaign expects a crowd from (no domain
    burst for them). Call once per request: it counts the budgets and spends the proof of work,
    all in one round trip to Redis (mechanisms.counters.counters_count), whose stages keep the
    order above: the sender's budget stops the rest, the shared budgets stop the signals.
    """
    # The form first: pure CPU, and it decides what the one round trip to Redis counts.
    valid = form.is_valid()
    # Only a signature that will be written spends the shared budgets, the signals and the proof
    # of work; refused or trapped posts spend the sender's own budget alone.
    written = valid and not form.human_check.honeypot_filled and accepting
    stages = [Stage(checks=rate_limits.address_checks(request, action=action), stop_all=True)]
    signing: signals.SigningSignals | None = None
    if written:
        scope = str(campaign_id)
        stages.append(
            # The campaign's, then the site's: a flood on one must not use up every other's.
            Stage(checks=rate_limits.submission_checks(action=action, scope=scope), stop_all=True)
        )
        signing = signals.signing_signals(
            request=request,
            form=form,
            scope=f"{campaign_kind}:{campaign_id}",
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            trusted_domains=trusted_domains,
        )
        # Counted only once both budgets let the signature through, as is the proof's claim.
        stages.append(Stage(checks=signing.checks, stop_all=False))
    counted = counters_count(request, stages, claim=signing.proof.claim if signing else None)

    if counted.over[0]:
        metrics.rate_limit_counted(form=action)
        return Screen(Verdict.REFUSED, status=429, message=rate_limits.rate_limit_message(action))
    if not valid:
        return Screen(Verdict.REFUSED, status=400)
    if form.human_check.honeypot_filled:
        return Screen(Verdict.TRAPPED)
    if signing is None:
        # Refused before the shared budgets: what will not be written must not spend them.
        return Screen(Verdict.REFUSED, status=409)
    if counted.over[1]:
        metrics.rate_limit_counted(form=action)
        return Screen(Verdict.REFUSED, status=429, message=rate_limits.rate_limit_message(action))
    flags = signing.flags(over=counted.over[2], first_use=counted.claimed)
    return Screen(Verdict.ACCEPTED, flags=flags, ip_hash=rate_limits.request_ip_hash(request))


class RefusedPage(Protocol):
    """The campaign's page again, with the bound form and why it was refused."""

    def __call__(self, *, status: int, rate_limit_message: str) -> HttpResponse: ...


def sign_post(
    request: HttpRequest,
    *,
    form: HumanChecked,
    action: str,
    campaign_kind: str,
    campaign_id: int,
    accepting: bool,
    trusted_domains: Collection[str] = (),
    create: Callable[..., object],
    closed: tuple[type[Exception], ...] = (),
    refused: RefusedPage,
    done_url: str,
    title: str,
) -> HttpResponse:
    """Answer a sign POST: once admitted, screen it (`sign_request_screen`, which takes the same
    first arguments), then write the signature with `create(ip_hash=, flags=,
    **form.cleaned_data)` and redirect to `done_url`, or show `refused`.

    `closed` are the exceptions `create` raises for a campaign that stopped taking signatures
    since the screen looked: answered as a closed campaign, 409. Not admitted in time, or the
    database too busy to answer: the busy page (mechanisms.admission.busy_page), a 503 with
    `Retry-After` naming the campaign by `title`, rather than `refused`, which costs too much
    to render for every signer turned away in a surge.
    """
    screen: Screen | None = None
    # The slot is held for the work only, not while a page renders.
    with admission.sign_admitted() as admitted:
        if admitted:
            screen = _screen_and_write(
                request,
                form=form,
                action=action,
                campaign_kind=campaign_kind,
                campaign_id=campaign_id,
                accepting=accepting,
                trusted_domains=trusted_domains,
                create=create,
                closed=closed,
            )
    if screen is None:
        bound = form if isinstance(form, forms.BaseForm) else None
        return admission.busy_page(request, form=bound, title=title)
    if screen.verdict is Verdict.REFUSED:
        return refused(status=screen.status, rate_limit_message=screen.message)
    # The same redirect for a bot, a new address and one that had signed: the form never tells.
    return HttpResponseRedirect(done_url)


def _screen_and_write(
    request: HttpRequest,
    *,
    form: HumanChecked,
    action: str,
    campaign_kind: str,
    campaign_id: int,
    accepting: bool,
    trusted_domains: Collection[str],
    create: Callable[..., object],
    closed: tuple[type[Exception], ...],
) -> Screen | None:
    """The screen's verdict, the signature written if it was accepted; None when the database
    was too busy to answer (the write, if it got that far, rolled back or, if the commit's answer
    was lost, done: signing again finds it and answers the same)."""
    try:
        screen = sign_request_screen(
            request,
            form=form,
            action=action,
            campaign_kind=campaign_kind,
            campaign_id=campaign_id,
            accepting=accepting,
            trusted_domains=trusted_domains,
        )
        if screen.verdict is Verdict.ACCEPTED:
            try:
                create(ip_hash=screen.ip_hash, flags=screen.flags, **form.cleaned_data)
            except closed:
                return Screen(Verdict.REFUSED, status=409)
            metrics.signatures_counted(campaign=campaign_kind, event="accepted")
            if screen.flags:
                metrics.signatures_counted(campaign=campaign_kind, event="held")
    except OperationalError as error:
        admission.database_busy_logged(error)
        return None
    return screen
