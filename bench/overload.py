"""The overload scenario: four times as many signing connections as the site serves at once
(workers x threads, bench/serving.py), each POSTing the real form back to back, for the whole
load; one reader beside them.

What must hold (README "Benchmarks"): nothing answers 5xx but a deliberate 503, every 503 says
when to come back (Retry-After) and gives the signer their form back as typed, accepted signers
are answered within a second at the 99th percentile, and nothing accepted is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench import checks
from bench.config import PAGE_PATH
from bench.serving import Serving

if TYPE_CHECKING:
    from bench.run import Bench

SCENARIO = 99
TAG = "overload"
# sign.lua keeps loads apart for up to 256 wrk threads, one per connection here.
MOST_CONNECTIONS = 255


def run(bench: Bench, model: Serving, seconds: int) -> dict[str, Any]:
    connections = min(MOST_CONNECTIONS, 4 * model.capacity)
    bench.event(
        f"overload: {connections} signing connections (4 x {model.capacity} served at once) "
        f"and 1 reader, {seconds} s"
    )
    cpu = bench.cpu()
    bench.sign("overload", TAG, SCENARIO, seconds, connections=connections, timed=True)
    bench.wrk_start("overload-reading", "read.lua", [PAGE_PATH], 1, seconds)
    load = bench.wrk_result("overload")
    reader = bench.wrk_result("overload-reading")
    cpu_figures = bench.cpu_figures(cpu, load)
    integrity = checks.integrity(TAG, load, connections=connections)
    bench.drain(TAG, bench.cfg.drain_timeout)

    statuses = {int(code): n for code, n in load.statuses.items()}
    unexpected = sum(n for code, n in statuses.items() if code >= 500 and code != 503)
    busy = load.tallies.get("busy", 0)
    result = {
        "connections": connections,
        "load": load.as_dict(),
        "statuses": statuses,
        "unexpected_5xx": unexpected,
        "busy": busy,
        "busy_without_retry_after": busy - load.tallies.get("busy_retry_after", 0),
        "busy_without_typing": busy - load.tallies.get("busy_kept_typing", 0),
        "accepted_p50_ms": load.accepted_latency_ms(50),
        "accepted_p99_ms": load.accepted_latency_ms(99),
        "accepted_max_ms": load.accepted_latency_ms(100),
        "reader": reader.as_dict(),
        "integrity": integrity,
        "email": checks.emails(bench.sink, TAG),
        **cpu_figures,
    }
    bench.event(
        f"overload: {load.accepted} accepted ({load.rate:.0f}/s), {busy} answered 503 "
        f"({result['busy_without_retry_after']} without Retry-After, "
        f"{result['busy_without_typing']} without the typing), {unexpected} other 5xx, "
        f"{load.socket_errors} socket errors; accepted p99 {result['accepted_p99_ms']:.0f} ms; "
        f"statuses {statuses}"
    )
    return result
