"""The bench's verdicts and its printed table, from the results bench/run.py gathered."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from typing import Any

from bench.config import SIDE_NAMES

# ../shared/DESIGN.md, "Performance targets".
SIGNING_RATIO = 0.3
SIGNING_RATIO_AIM = 0.5
SIGNING_P99_MS = 250
PAGE_RPS = 2000
COUNT_STALE_S = 5
EMAIL_P95_S = 5
CPU_PER_SIGNATURE_MS = 4
OVERLOAD_P99_MS = 1000

# The load's own CPU, reported beside the site's but never in its total.
LOAD_PARTS = ("wrk", "bench driver")

NOTES = (
    "Each request claims its own client address (X-Forwarded-For, believed because the load "
    "comes from 127.0.0.1, listed in TRUSTED_PROXIES): "
    "that is how production sees many signers behind one proxy; per-IP limits stay at their "
    "production settings.",
    "Form tokens (CSRF, form start) come from real page views more than 3 s before use, so the "
    "fill-time check passes, as it does for a person.",
    "The load sends no proof of work (a browser without JavaScript does the same): a missing "
    "proof is only a soft signal, and the cost of verifying one is not in these figures. The "
    "three probe signers solve it honestly at the configured difficulty.",
    "Signing rates count only accepted signatures (302 to check-your-inbox); a signer's page view "
    "and challenge fetch are not in them.",
    "CPU per signature is the machine's CPU during the signing load (the site's parts, the "
    "kernel included; wrk and the bench driver apart) over the signatures accepted in it; the "
    "worker's share is the emails it sent meanwhile.",
)


def cpu_per_request(used: dict[str, float], accepted: int) -> dict[str, Any]:
    """CPU milliseconds per accepted request, by part: the site's parts and their total, and
    the load's (wrk, the bench driver with its SMTP sink) apart."""
    n = max(1, accepted)
    site = {
        name: round(seconds * 1000 / n, 2)
        for name, seconds in used.items()
        if name not in LOAD_PARTS and seconds > 0
    }
    return {
        "total": round(sum(site.values()), 2),
        "parts": site,
        "load": {name: round(used.get(name, 0.0) * 1000 / n, 2) for name in LOAD_PARTS},
    }


def _page_rate(reading: dict[str, Any]) -> float:
    total = sum(reading["paths"].values()) or 1
    return reading["rate"] * reading["paths"].get("1", 0) / total


def _spread(values: list[float]) -> tuple[float, float, float]:
    """Min, median and max over the rounds."""
    ordered = sorted(values)
    return ordered[0], statistics.median(ordered), ordered[-1]


def _ratio(round_: dict[str, Any], section: dict[str, Any]) -> float:
    # Against the baseline of the same round: the machine's drift between rounds cancels out.
    return section["rate"] / (round_["baseline"]["rate"] or 1)


# The figures every round measures: (key, label, how to read it from a round).
FIGURES: tuple[tuple[str, str, Any], ...] = (
    ("baseline_rate", "baseline: bare INSERT, per s", lambda r: r["baseline"]["rate"]),
    ("signing_rate", "signing (real form), per s", lambda r: r["signing"]["rate"]),
    ("signing_ratio", "signing x baseline", lambda r: _ratio(r, r["signing"])),
    ("signing_p50_ms", "signing p50, ms", lambda r: r["signing"]["p50_ms"]),
    ("signing_p99_ms", "signing p99, ms", lambda r: r["signing"]["p99_ms"]),
    (
        "signing_cpu_ms",
        "CPU per signature, ms",
        lambda r: r["signing"]["cpu_ms"]["total"],
    ),
    (
        "baseline_cpu_ms",
        "CPU per bare INSERT, ms",
        lambda r: r["baseline"]["cpu_ms"]["total"],
    ),
    ("page_alone_rate", "page read alone, per s", lambda r: _page_rate(r["reading"])),
    ("api_count_rate", "API count read alone, per s", lambda r: r["api_count"]["rate"]),
    (
        "page_mixed_rate",
        "page while 2 connections sign, per s",
        lambda r: _page_rate(r["mixed"]["reading"]),
    ),
    (
        "mixed_signing_rate",
        "... those 2 connections sign, per s",
        lambda r: r["mixed"]["signing"]["rate"],
    ),
    ("email_p95_s", "email p95 at full signing speed, s", lambda r: r["signing"]["email"]["p95_s"]),
    ("freshness_max_s", "count staleness, worst, s", lambda r: r["mixed"]["freshness"]["max_s"]),
)


def summary(results: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    """Every figure as min, median and max over the rounds; the targets judge the median (or
    the worst round, where they say so)."""
    rounds = results["rounds"]
    return {key: _spread([pick(r) for r in rounds]) for key, _, pick in FIGURES}


def targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    checks = _round_targets(results) if results["rounds"] else {}
    checks.update(_other_targets(results))
    return {name: {"value": value, "met": met} for name, (value, met) in checks.items()}


def _round_targets(results: dict[str, Any]) -> dict[str, tuple[Any, bool]]:
    fig = summary(results)
    emails_all_sent = all(not r["signing"]["email"]["missing"] for r in results["rounds"])
    ratio = fig["signing_ratio"][1]
    return {
        f"signing >= {SIGNING_RATIO} x baseline, aim {SIGNING_RATIO_AIM} (median)": (
            f"{ratio:.2f}{'' if ratio >= SIGNING_RATIO_AIM else ', below the aim'}",
            ratio >= SIGNING_RATIO,
        ),
        f"signing p99 < {SIGNING_P99_MS} ms (median)": (
            round(fig["signing_p99_ms"][1]),
            fig["signing_p99_ms"][1] < SIGNING_P99_MS,
        ),
        f"CPU per signature <= {CPU_PER_SIGNATURE_MS} ms (median)": (
            f"{fig['signing_cpu_ms'][1]:.1f} ms; bare INSERT {fig['baseline_cpu_ms'][1]:.1f} ms",
            fig["signing_cpu_ms"][1] <= CPU_PER_SIGNATURE_MS,
        ),
        "petition page >= 2,000 reads/s, read alone (median)": (
            round(fig["page_alone_rate"][1]),
            fig["page_alone_rate"][1] >= PAGE_RPS,
        ),
        "petition page >= 2,000 reads/s while two connections sign (median)": (
            round(fig["page_mixed_rate"][1]),
            fig["page_mixed_rate"][1] >= PAGE_RPS,
        ),
        f"count at most {COUNT_STALE_S} s stale (worst round)": (
            round(fig["freshness_max_s"][2], 1),
            fig["freshness_max_s"][2] <= COUNT_STALE_S,
        ),
        f"95% of emails within {EMAIL_P95_S} s, signing at full speed (worst round)": (
            round(fig["email_p95_s"][2], 1),
            fig["email_p95_s"][2] <= EMAIL_P95_S and emails_all_sent,
        ),
        "nothing lost or duplicated (every round)": (None, integrity_ok(results)),
    }


def _other_targets(results: dict[str, Any]) -> dict[str, tuple[Any, bool]]:
    faults = results["faults"]
    over = results.get("overload")
    skipped_faults = "skipped (BENCH_FAULTS=0)"
    skipped_overload = "skipped (BENCH_OVERLOAD=0)"
    return {
        "faults: every signature mailed exactly once": (
            skipped_faults if faults is None else None,
            bool(faults and faults["ok"]),
        ),
        "faults: every letter signer and organization contact mailed exactly once, no 5xx": (
            skipped_faults
            if faults is None
            else "; ".join(
                f"{name}: {s['accepted']} accepted, {s['missing']} missing, "
                f"{s['more_than_once']} twice, {s['errors']} errors"
                for name, s in _side_streams(faults)
            ),
            bool(faults and all(s["ok"] for _, s in _side_streams(faults))),
        ),
        "faults: no page or signing error while Redis is down": (
            skipped_faults
            if faults is None
            else f"{faults['redis_outage']['page_errors']} + "
            f"{faults['redis_outage']['sign_errors']} errors",
            bool(
                faults
                and faults["redis_outage"]["page_errors"] == 0
                and faults["redis_outage"]["sign_errors"] == 0
            ),
        ),
        "overload: no 5xx but 503, no connection failing": (
            skipped_overload
            if over is None
            else f"{over['unexpected_5xx']} other 5xx, {over['load']['socket_errors']} "
            f"socket errors, {over['busy']} 503s",
            bool(over and over["unexpected_5xx"] == 0 and over["load"]["socket_errors"] == 0),
        ),
        "overload: every 503 carries Retry-After and the signer's typing": (
            skipped_overload
            if over is None
            else f"{over['busy_without_retry_after']} without Retry-After, "
            f"{over['busy_without_typing']} without the typing",
            bool(
                over and over["busy_without_retry_after"] == 0 and over["busy_without_typing"] == 0
            ),
        ),
        f"overload: accepted p99 < {OVERLOAD_P99_MS} ms": (
            skipped_overload
            if over is None
            else f"{over['accepted_p99_ms']:.0f} ms, {over['load']['accepted']} accepted",
            bool(over and over["load"]["accepted"] and over["accepted_p99_ms"] < OVERLOAD_P99_MS),
        ),
        "overload: nothing accepted lost": (
            skipped_overload if over is None else _integrity(over["integrity"]),
            bool(over and over["integrity"]["ok"]),
        ),
    }


def integrity_ok(results: dict[str, Any]) -> bool:
    per_round = (
        check
        for r in results["rounds"]
        for check in (
            r["baseline"]["integrity"]["ok"],
            r["signing"]["integrity"]["ok"],
            r["signing"]["count"]["ok"],
            r["mixed"]["signing"]["integrity"]["ok"],
            r["mixed"]["count"]["ok"],
        )
    )
    compared = (results.get("serving_options") or {}).get("models", {}).values()
    per_option = (
        check
        for option in compared
        for check in (
            option["baseline"]["integrity"]["ok"],
            option["signing"]["integrity"]["ok"],
            option["mixed"]["signing"]["integrity"]["ok"],
        )
    )
    over = results.get("overload")
    return (
        all(per_round)
        and all(per_option)
        and (over is None or over["integrity"]["ok"])
        and (results["faults"] is None or results["faults"]["ok"])
    )


def _cores(cpu: dict[str, float] | None) -> str:
    if not cpu:
        return "-"
    parts = sorted(cpu.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{part} {cores:.2f}" for part, cores in parts if cores >= 0.01)
    return f"total {sum(cpu.values()):.2f}: {shown}"


def _three(low: float, mid: float, high: float, digits: int) -> str:
    return f"{low:,.{digits}f} / {mid:,.{digits}f} / {high:,.{digits}f}"


def option_line(option: dict[str, Any]) -> str:
    """One serving option's figures, for the progress line."""
    ratio = option["signing"]["rate"] / (option["baseline"]["rate"] or 1)
    return (
        f"baseline {option['baseline']['rate']:.0f}/s; signing {option['signing']['rate']:.0f}/s "
        f"({ratio:.2f} x), p99 {option['signing']['p99_ms']:.0f} ms, "
        f"{option['signing']['cpu_ms']['total']:.1f} ms CPU each; page alone "
        f"{_page_rate(option['reading']):.0f}/s; page while 2 sign "
        f"{_page_rate(option['mixed']['reading']):.0f}/s "
        f"(p99 {option['mixed']['reading']['p99_ms']:.0f} ms), those 2 sign "
        f"{option['mixed']['signing']['rate']:.0f}/s"
    )


def print_options(compared: dict[str, Any]) -> None:
    models = compared["models"]
    print(
        f"\nserving options: one {compared['seconds']} s load each (a busy machine moves every "
        "figure; compare the large differences)"
    )
    head = (
        f"{'model':<14}{'at once':>8}{'base/s':>8}{'sign/s':>8}{'x base':>8}{'p99 ms':>8}"
        f"{'CPU ms':>8}{'page/s':>8}{'page/s, 2 sign':>16}{'read p99':>9}{'2 sign/s':>9}"
    )
    print(head)
    for name, o in models.items():
        mixed = o["mixed"]
        print(
            f"{name:<14}{o['capacity']:>8}{o['baseline']['rate']:>8.0f}{o['signing']['rate']:>8.0f}"
            f"{o['signing']['rate'] / (o['baseline']['rate'] or 1):>8.2f}"
            f"{o['signing']['p99_ms']:>8.0f}{o['signing']['cpu_ms']['total']:>8.1f}"
            f"{_page_rate(o['reading']):>8.0f}{_page_rate(mixed['reading']):>16.0f}"
            f"{mixed['reading']['p99_ms']:>9.0f}{mixed['signing']['rate']:>9.0f}"
        )
    for name, o in models.items():
        print(f"  {name}: {o['describe']}")
    print(
        "  at once: requests served at the same time (workers x threads); CPU ms: per accepted "
        "signature, the site's parts; read p99: the readers' p99 while 2 sign, ms"
    )


def print_cpu(rounds: list[dict[str, Any]]) -> None:
    """CPU milliseconds per accepted signature by part, beside the bare INSERT's."""
    parts = sorted(
        {part for r in rounds for part in r["signing"]["cpu_ms"]["parts"]}
        | {part for r in rounds for part in r["baseline"]["cpu_ms"]["parts"]},
        key=lambda part: (
            -statistics.median(r["signing"]["cpu_ms"]["parts"].get(part, 0.0) for r in rounds)
        ),
    )
    print("\nCPU per accepted signature, ms, by part (min / median / max over the rounds)")
    print(f"  {'part':<24}{'signing':>26}{'bare INSERT':>26}")

    def rows(cpu_ms: dict[str, Any]) -> dict[str, float]:
        load = {f"({part}, the load)": ms for part, ms in cpu_ms["load"].items()}
        return {**cpu_ms["parts"], "site total": cpu_ms["total"], **load}

    labels = [*parts, "site total", *(f"({part}, the load)" for part in LOAD_PARTS)]
    for label in labels:
        signing = _spread([rows(r["signing"]["cpu_ms"]).get(label, 0.0) for r in rounds])
        baseline = _spread([rows(r["baseline"]["cpu_ms"]).get(label, 0.0) for r in rounds])
        if max(*signing, *baseline) < 0.005:
            continue
        print(f"  {label:<24}{_three(*signing, 2):>26}{_three(*baseline, 2):>26}")


def print_overload(over: dict[str, Any]) -> None:
    load = over["load"]
    print(
        f"\noverload: {over['connections']} signing connections for {load['seconds']:.0f} s, "
        "each posting the form back to back"
    )
    print(
        f"  {load['accepted']} accepted ({load['rate']:.0f}/s), accepted p50 "
        f"{over['accepted_p50_ms']:.0f} ms, p99 {over['accepted_p99_ms']:.0f} ms, max "
        f"{over['accepted_max_ms']:.0f} ms; statuses {over['statuses']}, "
        f"{load['socket_errors']} socket errors"
    )
    print(
        f"  503s: {over['busy']}, {over['busy_without_retry_after']} without Retry-After, "
        f"{over['busy_without_typing']} without the typed name and address; other 5xx: "
        f"{over['unexpected_5xx']}"
    )
    reader = over["reader"]
    print(
        f"  one reader beside them: {reader['rate']:.0f} pages/s, p50 {reader['p50_ms']:.1f} ms, "
        f"p99 {reader['p99_ms']:.1f} ms, {reader['errors']} errors"
    )
    print(f"  CPU per accepted signature: {over['cpu_ms']['total']:.1f} ms; {_cores(over['cpu'])}")
    print(f"  email: {_email(over['email'])}")
    print(f"  integrity: {_integrity(over['integrity'])}")


def print_table(results: dict[str, Any]) -> None:
    rounds = results["rounds"]
    if results.get("serving_options"):
        print_options(results["serving_options"])
    if rounds:
        print_rounds(results)
    if results["faults"]:
        faults = results["faults"]
        f = faults["signing"]
        print(
            f"\nsigning with faults: {f['rate']:.0f}/s, p99 {f['p99_ms']:.0f} ms, "
            f"{f['errors']} errors"
        )
        emails = [
            ("with faults", faults["email"]),
            ("signed while Redis was down", faults["redis_outage"]["email"]),
            *((f"{name} with faults", stream) for name, stream in _side_streams(faults)),
        ]
        for name, email in emails:
            print(f"  email {name}: {_email(email)}")
            # Why, for the first few never mailed: what their outbox row said after the wait.
            for row in email.get("missing_outbox", []):
                print(f"    never mailed: {row}")
    if results.get("overload"):
        print_overload(results["overload"])
    print_integrity(results)
    print("\ntargets (../shared/DESIGN.md)")
    for name, verdict in results["targets"].items():
        value = "" if verdict["value"] is None else f" ({verdict['value']})"
        print(f"  {'met ' if verdict['met'] else 'MISS'}  {name}{value}")
    profiles = rounds[0].get("profile") if rounds else None
    for part, profile in (profiles or {}).items():
        print(
            f"\nprofile of {part} while signing (py-spy, share of the samples holding the "
            f"interpreter lock: {profile.get('samples', 0)})"
        )
        if "error" in profile:
            print(f"  {profile['error']}")
        for name, share in profile.get("own", [])[:12]:
            print(f"  {share:5.1%} own  {name}")
        for name, share in profile.get("inclusive", [])[:15]:
            print(f"  {share:5.1%} incl {name}")
    print()
    for note in NOTES:
        print(f"* {note}")


def print_rounds(results: dict[str, Any]) -> None:
    rounds = results["rounds"]
    n = len(rounds)
    serving = results.get("serving") or {}
    print(
        f"\n{n} round(s) on {serving.get('describe', '?')}; every figure as min / median / max "
        "over the rounds"
    )
    fig = summary(results)
    for key, label, _ in FIGURES:
        digits = 2 if key.endswith(("ratio", "cpu_ms")) else (1 if key.endswith("_s") else 0)
        print(f"  {label:<40}{_three(*fig[key], digits):>30}")
    errors = {
        name: sum(pick(r)["errors"] for r in rounds)
        for name, pick in (
            ("baseline", lambda r: r["baseline"]),
            ("signing", lambda r: r["signing"]),
            ("reading", lambda r: r["reading"]),
            ("mixed signing", lambda r: r["mixed"]["signing"]),
            ("mixed reading", lambda r: r["mixed"]["reading"]),
        )
    }
    print(
        "  errors (other statuses and socket errors, all rounds): "
        + ", ".join(f"{name} {count}" for name, count in errors.items())
    )
    print_cpu(rounds)

    print("\nemail: time from signing to the mail arriving")
    for i, r in enumerate(rounds, start=1):
        for name, email in (("signing", r["signing"]["email"]), ("mixed", r["mixed"]["email"])):
            print(f"  round {i}, {name}: {_email(email)}")
    print(
        "count freshness, worst confirmation per round: "
        + ", ".join(f"{r['mixed']['freshness']['max_s']:.1f} s" for r in rounds)
        + f" (p50 of round 1: {rounds[0]['mixed']['freshness']['p50_s']:.1f} s)"
    )

    print("\ncores busy per part during the load, round 1 (2.0 = the whole machine)")
    for name, key in (("baseline", "baseline"), ("signing", "signing"), ("reading", "reading")):
        print(f"  {name}: {_cores(rounds[0][key].get('cpu'))}")
    print(f"  mixed: {_cores(rounds[0]['mixed'].get('cpu'))}")


def print_integrity(results: dict[str, Any]) -> None:
    rounds = results["rounds"]
    print("\nintegrity")
    for i, r in enumerate(rounds, start=1):
        for name, section in (("signing", r["signing"]), ("mixed", r["mixed"]["signing"])):
            print(f"  round {i}, {name}: {_integrity(section['integrity'])}")
        for name, count in (("signing", r["signing"]["count"]), ("mixed", r["mixed"]["count"])):
            print(
                f"  round {i}, count after {name}: public {count['public']}, stored "
                f"{count['stored']}, recount {count['recount']} -> "
                f"{'ok' if count['ok'] else 'FAILED'}"
            )
    for name, option in ((results.get("serving_options") or {}).get("models") or {}).items():
        for load, section in (
            ("signing", option["signing"]),
            ("mixed", option["mixed"]["signing"]),
        ):
            print(f"  serving option {name}, {load}: {_integrity(section['integrity'])}")
    if results["faults"]:
        print(f"  with faults: {_integrity(results['faults']['signing']['integrity'])}")
        for name, stream in _side_streams(results["faults"]):
            print(f"  {name} with faults: {_side_integrity(stream)}")
        print("\nfaults injected")
        for event in results["events"]:
            if any(word in event["what"] for word in ("kill", "started", "faults:")):
                print(f"  {event['at']:>6.1f} s  {event['what']}")


def _email(email: dict[str, Any]) -> str:
    return (
        f"p50 {email['p50_s']:.1f} s, p95 {email['p95_s']:.1f} s, max {email['max_s']:.1f} s, "
        f"within 5 s {email.get('within_5s', 0):.0%}, missing {email['missing']}, "
        f"sent twice {email['more_than_once']}, "
        f"one message taken twice {email.get('resent_same_message', 0)}"
    )


def _side_streams(faults: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    streams = faults.get("side_streams") or {}
    return [(SIDE_NAMES.get(key, key), stream) for key, stream in streams.items()]


def _side_integrity(s: dict[str, Any]) -> str:
    return (
        f"{s['attempts']} tried, {s['accepted']} accepted, {s['refused']} refused, "
        f"{s['errors']} errors (5xx or no answer); {s['stored']} stored, {s['lost']} lost; "
        f"{s['sent']} mailed, {s['missing']} missing, {s['more_than_once']} mailed more than "
        f"once -> {'ok' if s['ok'] else 'FAILED'}"
    )


def _integrity(i: dict[str, Any]) -> str:
    return (
        f"{i['accepted']} accepted, {i['stored']} stored ({i['unanswered_at_stop']} unanswered "
        f"at stop, {i['lost']} lost), {i['duplicates']} duplicates, {i['held']} held "
        f"{i['flags'] or ''} -> {'ok' if i['ok'] else 'FAILED'}"
    )


_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")
_OURS = ("accounts/", "petitions/", "letters/", "mechanisms/", "config/", "bench/")


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
