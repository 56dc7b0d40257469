"""The integrity checks a bench scenario ends with: what was stored against what was answered,
duplicates, the confirmation emails, and the public count against a fresh recount; for the fault
run's side streams (letter signers, organization registrations), the same questions."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from bench import infra, people
from bench.config import LETTER_SLUG, SIDE_DOMAIN, SLUG, Load, percentile


def stored(tag: str) -> list[tuple[str, float, str]]:
    from petitions.models import Signature

    rows = Signature.objects.filter(email__startswith=f"{tag}.").values_list(
        "email", "created_at", "flags"
    )
    return [(email.lower(), created.timestamp(), flags) for email, created, flags in rows]


def _copies(got: list[infra.Mail]) -> tuple[int, int]:
    """(distinct emails, extra arrivals of one of them): see infra.Mail.message_id."""
    distinct = len({mail.message_id for mail in got})
    return distinct, len(got) - distinct


def emails(sink: infra.MailSink, tag: str) -> dict[str, Any]:
    """Time from each signature's INSERT to its confirmation email reaching the sink."""
    from petitions.models import Signature

    mails = sink.by_recipient()
    latencies = []
    missing = 0
    twice = 0
    resent = 0
    unmailed = []
    for email, created, _ in stored(tag):
        got = mails.get(email, [])
        if not got:
            missing += 1
            unmailed.append(email)
            continue
        distinct, extra = _copies(got)
        twice += distinct > 1
        resent += extra
        latencies.append(min(m.arrived for m in got) - created)
    return {
        "sent": len(latencies),
        "missing": missing,
        "more_than_once": twice,
        "resent_same_message": resent,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies, default=0.0),
        "within_5s": sum(x <= 5 for x in latencies) / len(latencies) if latencies else 0,
        "within_30s": sum(x <= 30 for x in latencies) / len(latencies) if latencies else 0,
        "missing_outbox": outbox_rows(
            kinds="petition_",
            ref="signature",
            ids=Signature.objects.filter(email__in=unmailed[:MISSING_SHOWN]).values_list(
                "pk", flat=True
            ),
        ),
    }


# How many missing emails a result describes by their outbox rows.
MISSING_SHOWN = 5


def outbox_rows(*, kinds: str, ref: str, ids: Iterable[int]) -> list[dict[str, Any]]:
    """What the outbox says of emails that never arrived (kinds starting with `kinds`, about
    the rows `ids` named by `ref`): no row, a row still pending or held under a dead worker's
    lease, dropped, failed. Read after the wait, before the database is dropped."""
    from django.utils import timezone

    from mechanisms.models import OutboundEmail

    ids = list(ids)
    rows = OutboundEmail.objects.filter(kind__startswith=kinds, **{f"ref__{ref}__in": ids})
    now = timezone.now()
    found = [
        {
            ref: row.ref.get(ref),
            "kind": row.kind,
            "state": row.state,
            "attempts": row.attempts,
            "age_s": round((now - row.created_at).total_seconds(), 1),
            "lease_left_s": round((row.claimed_until - now).total_seconds(), 1)
            if row.claimed_until
            else None,
            "last_error": row.last_error[:200],
        }
        for row in rows
    ]
    seen = {row[ref] for row in found}
    return found + [{ref: pk, "state": "no outbox row"} for pk in ids if pk not in seen]


def settle(tag: str, *, quiet: float = 1.0, timeout: float = 30.0) -> None:
    """Wait until no row of `tag` has been written for `quiet` seconds. A threaded server
    still runs the requests it had read when wrk stopped and closed their connections: their
    rows land after the load, and a check (or a wait for their emails) made sooner misses them."""
    from petitions.models import Signature

    rows = Signature.objects.filter(email__startswith=f"{tag}.")
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = rows.count()
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)


def integrity(tag: str, load: Load, *, connections: int) -> dict[str, Any]:
    from django.db.models import Count

    from petitions.models import Signature

    settle(tag)
    rows = stored(tag)
    duplicates = (
        Signature.objects.values("petition", "canonical_email")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    flags = Counter(code for _, _, f in rows for code in f.split())
    # wrk stops on time with requests in flight: the server may have stored up to one row per
    # connection whose answer wrk never read. Fewer rows than answers would be a loss.
    in_flight = len(rows) - load.accepted
    return {
        "accepted": load.accepted,
        "stored": len(rows),
        "lost": max(0, -in_flight),
        "unanswered_at_stop": max(0, in_flight),
        "duplicates": duplicates,
        "held": sum(1 for _, _, f in rows if f),
        "flags": dict(flags),
        "ok": 0 <= in_flight <= connections and duplicates == 0,
    }


def count_settled(port: int) -> dict[str, Any]:
    """Once the batched counter has run, the public count equals a fresh recount."""
    from petitions.models import Petition, Signature

    confirmed = Signature.objects.filter(
        petition__slug=SLUG, status=Signature.Status.CONFIRMED, held=False
    )
    infra.wait_for(
        lambda: not confirmed.filter(counted=False).exists(), timeout=60, what="the counter"
    )
    stored = Petition.objects.get(slug=SLUG).signature_count
    recount = confirmed.count()
    public = people.public_count(port)
    return {
        "public": public,
        "stored": stored,
        "recount": recount,
        "ok": public == stored == recount,
    }


def letter_signers_stored() -> dict[str, float]:
    """The bench letter's signers: address -> when the row was written."""
    from letters.models import IndividualSignature

    rows = IndividualSignature.objects.filter(letter__slug=LETTER_SLUG).values_list(
        "email", "created_at"
    )
    return {email.lower(): created.timestamp() for email, created in rows}


def letter_signers_outbox(addresses: list[str]) -> list[dict[str, Any]]:
    from letters.models import IndividualSignature

    ids = IndividualSignature.objects.filter(
        letter__slug=LETTER_SLUG, email__in=addresses
    ).values_list("pk", flat=True)
    return outbox_rows(kinds="letter_", ref="signature", ids=ids)


def organizations_stored() -> dict[str, float]:
    """The organizations the side stream registered: contact address -> when written."""
    from accounts.models import Organization

    rows = Organization.objects.filter(contact_email__iendswith=f".{SIDE_DOMAIN}").values_list(
        "contact_email", "created_at"
    )
    return {email.lower(): created.timestamp() for email, created in rows}


def organizations_outbox(addresses: list[str]) -> list[dict[str, Any]]:
    from accounts.models import Organization

    ids = Organization.objects.filter(contact_email__in=addresses).values_list("pk", flat=True)
    return outbox_rows(kinds="organization_", ref="organization", ids=ids)


# Per side stream (bench.people.side_streams): what it stored, and what the outbox says of
# addresses never mailed.
SIDE_STREAMS: dict[
    str, tuple[Callable[[], dict[str, float]], Callable[[list[str]], list[dict[str, Any]]]]
] = {
    "letter_signers": (letter_signers_stored, letter_signers_outbox),
    "organizations": (organizations_stored, organizations_outbox),
}


def side_owed(name: str, stream: dict[str, Any]) -> set[str]:
    """Who side stream `name` owes one email: everyone answered with check-your-inbox, and
    everyone stored whose answer was lost (a request cut off after its commit owes the email all
    the same)."""
    stored, _ = SIDE_STREAMS[name]
    return set(stream["accepted"]) | set(stored())


def side_stream(sink: infra.MailSink, name: str, stream: dict[str, Any]) -> dict[str, Any]:
    """Side stream `name`'s verdict: every accepted request stored (none lost), every owed
    address mailed exactly once (its stream's one kind: the letter's confirmation link, the
    organization contact's), and no 5xx or unanswered request at any step. A stream with
    nothing accepted proves nothing, so it fails too."""
    stored_now, explain = SIDE_STREAMS[name]
    stored = stored_now()
    mails = sink.by_recipient()
    accepted = set(stream["accepted"])
    latencies = []
    sent = 0
    missing = 0
    twice = 0
    resent = 0
    unmailed = []
    for address in sorted(accepted | set(stored)):
        got = mails.get(address, [])
        if not got:
            missing += 1
            unmailed.append(address)
            continue
        sent += 1
        distinct, extra = _copies(got)
        twice += distinct > 1
        resent += extra
        if address in stored:
            latencies.append(min(m.arrived for m in got) - stored[address])
    lost = len(accepted - stored.keys())
    return {
        "attempts": stream["attempts"],
        "accepted": len(accepted),
        "refused": stream["refused"],
        "errors": stream["errors"],
        "answers": stream["answers"],
        "stored": len(stored),
        "lost": lost,
        "sent": sent,
        "missing": missing,
        "more_than_once": twice,
        "resent_same_message": resent,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies, default=0.0),
        "within_30s": sum(x <= 30 for x in latencies) / len(latencies) if latencies else 0,
        "missing_outbox": explain(unmailed[:MISSING_SHOWN]),
        "ok": bool(accepted)
        and stream["errors"] == 0
        and lost == 0
        and missing == 0
        and twice == 0,
    }
