"""What `make scale` (bench/scale.py) concludes from what it saw: the requests that failed around
each failover, accepted signatures lost, emails sent twice, the count against a recount, and the
summary table. Pure functions of their inputs, so tests can hand them a loss or a duplicate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

HONESTY = (
    "On 2 cores two hosts cannot be faster; the figure that shows no cross-host contention is a "
    "flat CPU cost per request."
)


@dataclass(frozen=True)
class Request:
    """One request of the failover load: when it started and ended (time.time()), what it was
    ("read", "sign", "confirm"), and whether it failed (no answer, or a 5xx)."""

    kind: str
    started: float
    ended: float
    failed: bool
    status: int | None = None


@dataclass(frozen=True)
class Event:
    """A failure injected at `at` (time.time())."""

    name: str
    at: float


@dataclass(frozen=True)
class Mail:
    """One arrival at the SMTP sink: to whom, its Message-ID and its subject (the kind)."""

    recipient: str
    message_id: str
    subject: str


def failover_windows(
    events: Sequence[Event], requests: Iterable[Request], *, end: float
) -> list[dict[str, Any]]:
    """For each event, the requests that ended between it and the next event (or `end`): how
    many, how many failed, by kind, and for how long failures went on (first to last)."""
    requests = sorted(requests, key=lambda r: r.ended)
    windows = []
    for i, event in enumerate(events):
        until = events[i + 1].at if i + 1 < len(events) else end
        inside = [r for r in requests if event.at <= r.ended < until]
        failed = [r for r in inside if r.failed]
        # Answered with a refusal (a rate limit, a form sent back): not a failure of the site.
        refused = [r for r in inside if not r.failed and r.status is not None and r.status >= 400]
        windows.append(
            {
                "event": event.name,
                "requests": len(inside),
                "failed": len(failed),
                "refused": len(refused),
                "failed_by_kind": dict(Counter(r.kind for r in failed)),
                "first_failure_s": round(failed[0].ended - event.at, 2) if failed else None,
                "failing_for_s": round(failed[-1].ended - failed[0].started, 2) if failed else 0.0,
            }
        )
    return windows


def signatures_lost(
    *, accepted: Iterable[str], stored: Iterable[str], mailed: Iterable[str]
) -> dict[str, Any]:
    """Signers answered "check your inbox" whose row is not in the database, or whose
    confirmation never reached the sink."""
    accepted = {a.lower() for a in accepted}
    stored = {a.lower() for a in stored}
    mailed = {a.lower() for a in mailed}
    not_stored = sorted(accepted - stored)
    not_mailed = sorted((accepted & stored) - mailed)
    return {
        "accepted": len(accepted),
        "not_stored": len(not_stored),
        "not_mailed": len(not_mailed),
        "lost": len(not_stored) + len(not_mailed),
        "examples": (not_stored + not_mailed)[:5],
    }


def emails_twice(mails: Iterable[Mail]) -> dict[str, Any]:
    """Emails that arrived more than once: the same Message-ID twice, or one recipient sent the
    same kind (subject) twice."""
    mails = list(mails)
    by_id = Counter(m.message_id for m in mails if m.message_id)
    by_kind = Counter((m.recipient.lower(), m.subject) for m in mails)
    same_id = sorted(k for k, n in by_id.items() if n > 1)
    same_kind = sorted(f"{r}: {s}" for (r, s), n in by_kind.items() if n > 1)
    return {
        "arrived": len(mails),
        "same_message_id": len(same_id),
        "same_recipient_and_kind": len(same_kind),
        "examples": (same_id + same_kind)[:5],
    }


def cpu_per_request(cpu_seconds: float, requests: int) -> float | None:
    """Milliseconds of the web hosts' CPU per request, or None with no request."""
    return round(cpu_seconds * 1000 / requests, 2) if requests else None


def verdict(results: Mapping[str, Any]) -> list[str]:
    """What fails the run: anything accepted lost, any email twice, a count unlike its
    recount, a standby beat that never took over. Empty when all is well."""
    problems = []
    lost = results["lost"]
    if lost["lost"]:
        problems.append(
            f"{lost['lost']} accepted signatures lost ({lost['not_stored']} not stored, "
            f"{lost['not_mailed']} never mailed)"
        )
    if not lost["accepted"]:
        problems.append("no signature was accepted: the run proves nothing")
    twice = results["twice"]
    if twice["same_message_id"] or twice["same_recipient_and_kind"]:
        problems.append(
            f"emails sent twice: {twice['same_message_id']} by Message-ID, "
            f"{twice['same_recipient_and_kind']} by recipient and kind"
        )
    count = results["count"]
    if not count["ok"]:
        problems.append(
            f"count {count['stored']} (page {count['public']}) "
            f"is not the recount {count['recount']}"
        )
    if results["beat_takeover_s"] is None:
        problems.append("the standby beat never took over")
    return problems


def table(results: Mapping[str, Any]) -> str:
    """The summary printed at the end of a run."""
    lines = ["", "=== make scale: summary ===", f"network: {results['network']}", ""]
    lines.append(
        "| failover | requests | failed | failed by kind | first failure after | failing for "
        "| refused (4xx) |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for w in results["windows"]:
        first = "-" if w["first_failure_s"] is None else f"{w['first_failure_s']} s"
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(w["failed_by_kind"].items())) or "-"
        lines.append(
            f"| {w['event']} | {w['requests']} | {w['failed']} | {kinds} | {first} "
            f"| {w['failing_for_s']} s | {w['refused']} |"
        )
    lost, twice, count = results["lost"], results["twice"], results["count"]
    takeover = results["beat_takeover_s"]
    lines += [
        "",
        f"accepted signatures: {lost['accepted']}; lost: {lost['lost']} "
        f"(not stored {lost['not_stored']}, never mailed {lost['not_mailed']})",
        f"emails: {twice['arrived']} arrived; twice by Message-ID: {twice['same_message_id']}, "
        f"by recipient and kind: {twice['same_recipient_and_kind']}",
        f"count: petition {count['stored']}, page {count['public']}, recount {count['recount']}"
        f" -> {'equal' if count['ok'] else 'DIFFERENT'}",
        "standby beat took over "
        + (f"{takeover} s after the active one was killed" if takeover is not None else "NEVER"),
        "",
        "| hosts | reads/s | web CPU ms per read | signatures/s | web CPU ms per signature |",
        "|---|---|---|---|---|",
    ]
    for row in results["throughput"]:
        lines.append(
            f"| {row['hosts']} | {row['reads_per_s']} | {row['read_cpu_ms']} "
            f"| {row['signs_per_s']} | {row['sign_cpu_ms']} |"
        )
    lines += ["", HONESTY]
    problems = results.get("problems") or []
    lines.append("")
    lines.append("INTEGRITY: FAILED: " + "; ".join(problems) if problems else "INTEGRITY: ok")
    return "\n".join(lines)
