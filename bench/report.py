"""The bench's verdicts and its printed table, from the results bench/run.py gathered."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

# ../shared/DESIGN.md, "Performance targets".
SIGNING_RATIO = 0.5
SIGNING_P99_MS = 250
PAGE_RPS = 2000
COUNT_STALE_S = 5
EMAIL_P95_S = 30

NOTES = (
    "Each request claims its own client address (X-Forwarded-For, gunicorn with NUM_PROXIES=1): "
    "that is how production sees many signers behind one proxy; per-IP limits stay at their "
    "production settings.",
    "Form tokens (CSRF, form start) come from real page views more than 3 s before use, so the "
    "fill-time check passes, as it does for a person.",
    "The load sends no proof of work (a browser without JavaScript does the same): a missing "
    "proof is only a soft signal, and the cost of verifying one is not in these figures. The "
    "three probe signers solve it honestly at the configured difficulty.",
    "Signing rates count only accepted signatures (302 to check-your-inbox); a signer's page view "
    "and challenge fetch are not in them.",
)


def _page_rate(reading: dict[str, Any]) -> float:
    total = sum(reading["paths"].values()) or 1
    return reading["rate"] * reading["paths"].get("1", 0) / total


def targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    base = results["baseline"]["rate"] or 1
    signing = results["signing"]
    mixed = results["mixed"]
    faults = results["faults"]
    checks = {
        "signing throughput >= 0.5 x baseline": (
            round(signing["rate"] / base, 2),
            signing["rate"] / base >= SIGNING_RATIO,
        ),
        "signing p99 < 250 ms": (signing["p99_ms"], signing["p99_ms"] < SIGNING_P99_MS),
        "petition page >= 2,000 req/s (reading alone)": (
            round(_page_rate(results["reading"])),
            _page_rate(results["reading"]) >= PAGE_RPS,
        ),
        "petition page >= 2,000 req/s (while signing runs)": (
            round(_page_rate(mixed["reading"])),
            _page_rate(mixed["reading"]) >= PAGE_RPS,
        ),
        "count at most 5 s stale": (
            round(mixed["freshness"]["max_s"], 1),
            mixed["freshness"]["max_s"] <= COUNT_STALE_S,
        ),
        "95% of emails within 30 s (signing at full speed)": (
            round(signing["email"]["p95_s"], 1),
            signing["email"]["p95_s"] <= EMAIL_P95_S and not signing["email"]["missing"],
        ),
        "nothing lost or duplicated": (None, integrity_ok(results)),
        "faults: every signature mailed exactly once": (
            "skipped (BENCH_FAULTS=0)" if faults is None else None,
            bool(faults and faults["ok"]),
        ),
    }
    return {name: {"value": value, "met": met} for name, (value, met) in checks.items()}


def integrity_ok(results: dict[str, Any]) -> bool:
    return all(
        (
            results["baseline"]["integrity"]["ok"],
            results["signing"]["integrity"]["ok"],
            results["signing"]["count"]["ok"],
            results["mixed"]["signing"]["integrity"]["ok"],
            results["mixed"]["count"]["ok"],
            results["faults"] is None or results["faults"]["ok"],
        )
    )


def print_table(results: dict[str, Any]) -> None:
    base = results["baseline"]["rate"] or 1
    rows = [
        ("baseline: bare INSERT view", results["baseline"]),
        ("signing (real form)", results["signing"]),
        ("signing, with readers", results["mixed"]["signing"]),
        ("reading: the page alone", results["reading"]),
        ("reading page + widget", results["mixed"]["reading"]),
    ]
    if results["faults"]:
        rows.append(("signing, with faults", results["faults"]["signing"]))
    print(f"\n{'scenario':<30}{'ok/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'x base':>8}")
    for name, row in rows:
        ratio = f"{row['rate'] / base:.2f}" if "reading" not in name else "-"
        print(
            f"{name:<30}{row['rate']:>9.1f}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
            f"{row['errors']:>8}{ratio:>8}"
        )
    reading = results["mixed"]["reading"]
    print(f"  (reading: petition page {_page_rate(reading):.0f}/s, the rest the widget)")
    for name, email in (
        ("signing", results["signing"]["email"]),
        ("signing with readers", results["mixed"]["email"]),
        ("signing with faults", (results["faults"] or {}).get("email")),
    ):
        if email is None:
            continue
        print(
            f"email, {name}: p50 {email['p50_s']:.1f} s, p95 {email['p95_s']:.1f} s, "
            f"max {email['max_s']:.1f} s, within 30 s {email['within_30s']:.0%}, "
            f"missing {email['missing']}, sent twice {email['more_than_once']}"
        )
    print("\ncores busy per part during the load (2.0 = the whole machine)")
    for name, cpu in (
        ("baseline", results["baseline"].get("cpu")),
        ("signing", results["signing"].get("cpu")),
        ("reading", results["reading"].get("cpu")),
        ("signing + reading", results["mixed"].get("cpu")),
    ):
        if cpu:
            parts = sorted(cpu.items(), key=lambda kv: -kv[1])
            shown = ", ".join(f"{part} {cores:.2f}" for part, cores in parts if cores >= 0.01)
            print(f"  {name}: total {sum(cpu.values()):.2f}: {shown}")
    fresh = results["mixed"]["freshness"]
    print(
        f"count freshness: p50 {fresh['p50_s']:.1f} s, max {fresh['max_s']:.1f} s "
        f"over {fresh['confirmations']} confirmations"
    )
    print("\nintegrity")
    for name, section in (
        ("signing", results["signing"]),
        ("with readers", results["mixed"]["signing"]),
        ("with faults", (results["faults"] or {}).get("signing")),
    ):
        if section is None:
            continue
        i = section["integrity"]
        print(
            f"  {name}: {i['accepted']} accepted, {i['stored']} stored "
            f"({i['unanswered_at_stop']} unanswered at stop, {i['lost']} lost), "
            f"{i['duplicates']} duplicates, {i['held']} held {i['flags'] or ''}"
            f" -> {'ok' if i['ok'] else 'FAILED'}"
        )
    for name, count in (
        ("after signing", results["signing"]["count"]),
        ("after readers", results["mixed"]["count"]),
    ):
        print(
            f"  count {name}: public {count['public']}, stored {count['stored']}, "
            f"recount {count['recount']} -> {'ok' if count['ok'] else 'FAILED'}"
        )
    print("\nfaults injected")
    for event in results["events"]:
        if any(word in event["what"] for word in ("kill", "started", "faults:")):
            print(f"  {event['at']:>6.1f} s  {event['what']}")
    print("\ntargets (../shared/DESIGN.md)")
    for name, verdict in results["targets"].items():
        value = "" if verdict["value"] is None else f" ({verdict['value']})"
        print(f"  {'met ' if verdict['met'] else 'MISS'}  {name}{value}")
    if "profile" in results:
        print("\nprofile of the gunicorn workers while signing (py-spy, share of samples)")
        for name, share in results["profile"].get("own", [])[:12]:
            print(f"  {share:5.1%} own  {name}")
        for name, share in results["profile"].get("inclusive", [])[:12]:
            print(f"  {share:5.1%} incl {name}")
    print()
    for note in NOTES:
        print(f"* {note}")


_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")
_OURS = ("accounts/", "petitions/", "letters/", "config/", "bench/")


def profile_summary(raw: str) -> dict[str, Any]:
    """py-spy's raw (collapsed) stacks, as the functions taking the most samples: on their own
    (where the time goes) and with what they call, for our code (what to fix)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_name(frame) for frame in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            if any(part in frame for part in _OURS) and "site-packages" not in frame:
                inclusive[frame] += samples
    total = total or 1
    return {
        "samples": total,
        "own": [(name, n / total) for name, n in own.most_common(20)],
        "inclusive": [(name, n / total) for name, n in inclusive.most_common(20)],
    }


def _name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"
