"""The integrity checks a bench scenario ends with: what was stored against what was answered,
duplicates, the confirmation emails, and the public count against a fresh recount."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench import infra, people
from bench.config import SLUG, Load, percentile


def stored(tag: str) -> list[tuple[str, float, str]]:
    from petitions.models import Signature

    rows = Signature.objects.filter(email__startswith=f"{tag}.").values_list(
        "email", "created_at", "flags"
    )
    return [(email.lower(), created.timestamp(), flags) for email, created, flags in rows]


def emails(sink: infra.MailSink, tag: str) -> dict[str, Any]:
    """Time from each signature's INSERT to its confirmation email reaching the sink."""
    mails = sink.by_recipient()
    latencies = []
    missing = 0
    twice = 0
    for email, created, _ in stored(tag):
        got = mails.get(email, [])
        if not got:
            missing += 1
            continue
        twice += len(got) > 1
        latencies.append(min(m.arrived for m in got) - created)
    return {
        "sent": len(latencies),
        "missing": missing,
        "more_than_once": twice,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies, default=0.0),
        "within_30s": sum(x <= 30 for x in latencies) / len(latencies) if latencies else 0,
    }


def integrity(tag: str, load: Load, *, connections: int) -> dict[str, Any]:
    from django.db.models import Count

    from petitions.models import Signature

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
