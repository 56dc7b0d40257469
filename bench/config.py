"""What every part of the bench shares: where things are, the petition it signs, the knobs read
from the environment, and what one wrk load measured."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "lua"
RESULTS = ROOT / "bench" / "results.json"


def profile_stacks(part: str) -> Path:
    """BENCH_PROFILE=1: where a part's sampled stacks while signing are kept, in py-spy's
    collapsed format."""
    return ROOT / "bench" / f"results-profile-{part}.txt"


SLUG = "bench-petition"
PAGE_PATH = f"/en/p/{SLUG}/"
# The public API's count (config.api): what a widget on another site polls.
API_COUNT_PATH = f"/api/v1/petitions/{SLUG}/count/"
EMBED_PATH = f"/en/p/{SLUG}/embed/"
SIGN_PATH = f"/en/p/{SLUG}/sign/"
BASELINE_PATH = "/bench/baseline/"
# The fault run's side streams: people signing an open letter and organizations registering,
# each through its real form, beside the petition's load.
LETTER_SLUG = "bench-letter"
LETTER_PATH = f"/en/letters/{LETTER_SLUG}/"
LETTER_SIGN_PATH = f"/en/letters/{LETTER_SLUG}/sign/"
JOIN_PATH = "/en/organizations/join/"
# Every side-stream address is at a subdomain of this one (letter-<n>.bench.test for signers,
# org-<n>.bench.test for organizations, each its own domain: one organization per domain).
SIDE_DOMAIN = "bench.test"
# One letter signer and one registration set off this often while the faults last.
SIDE_PACE_SECONDS = 0.5
# The side streams, as the progress lines and the table name them.
SIDE_NAMES = {"letter_signers": "letter signers", "organizations": "organization registrations"}
# The production default of ABUSE_MIN_FILL_SECONDS, plus a margin for the whole-second timestamp.
FILL_WAIT_SECONDS = 3.5
TOKEN_POOL = 32
# The serving models the serving-options scenario compares by default (bench/serving.py).
ALL_OPTIONS = "sync,gthread,gthread-2x16,gthread-6x4,gthread-switch,asgi,split,split-nice"


def celery_loglevel() -> str:
    # BENCH_LOGLEVEL=INFO keeps every task the worker received and beat sent in the logs, to
    # follow a fault's recovery; the default keeps them small.
    return os.environ.get("BENCH_LOGLEVEL", "WARNING")


@dataclass(frozen=True)
class Config:
    duration: int
    connections: int
    read_connections: int
    # The rounds' serving model (bench/serving.py), and sizes overriding the production file's.
    serving: str
    workers: int | None
    threads: int | None
    # The serving-options scenario: which models, and seconds per load (none: skipped).
    serving_options: tuple[str, ...]
    serving_duration: int
    overload: bool
    redis_port: int
    database_url: str
    profile: bool
    faults: bool
    runs: int
    mixed_sign_connections: int
    recovery_timeout: int
    drain_timeout: int

    @classmethod
    def from_env(cls) -> Config:
        def number(name: str, default: int) -> int:
            return int(os.environ.get(name) or default)

        def optional(name: str) -> int | None:
            return int(os.environ[name]) if os.environ.get(name) else None

        # BENCH_SERVING_OPTIONS=0 skips the comparison of serving models (about two minutes);
        # a comma-separated list of names runs only those.
        chosen = os.environ.get("BENCH_SERVING_OPTIONS", "1").strip()
        options = "" if chosen in ("", "0") else (ALL_OPTIONS if chosen == "1" else chosen)
        return cls(
            duration=number("BENCH_DURATION", 10),
            connections=number("BENCH_CONNECTIONS", 10),
            read_connections=number("BENCH_READ_CONNECTIONS", 10),
            # The production command (config/gunicorn.conf.py) unless told otherwise.
            serving=os.environ.get("BENCH_SERVING", "gthread"),
            workers=optional("BENCH_WORKERS"),
            threads=optional("BENCH_THREADS"),
            serving_options=tuple(name.strip() for name in options.split(",") if name.strip()),
            serving_duration=number("BENCH_SERVING_DURATION", 5),
            # BENCH_OVERLOAD=0 skips the overload scenario.
            overload=os.environ.get("BENCH_OVERLOAD", "1") not in ("", "0"),
            redis_port=number("BENCH_REDIS_PORT", 6390),
            database_url=os.environ.get("BENCH_DATABASE_URL", "postgres://localhost/cosign_bench"),
            profile=os.environ.get("BENCH_PROFILE", "0") not in ("", "0"),
            # BENCH_FAULTS=0 skips the fault run (and its wait of minutes) while tuning.
            faults=os.environ.get("BENCH_FAULTS", "1") not in ("", "0"),
            # Three rounds of every scenario, for the machine's noise: min, median and max.
            runs=number("BENCH_RUNS", 3),
            # Signers beside the readers in the mixed run: a viral petition has far more people
            # reading than signing, and sync workers answer readers only between signatures.
            mixed_sign_connections=number("BENCH_MIXED_SIGN_CONNECTIONS", 2),
            # The sweep resends a lost confirmation once it is 120 s old, every minute: recovery
            # after a fault takes a few minutes. The fault run waits at least a dead worker's
            # lease (OUTBOX_LEASE_SECONDS) and two sweeps more, whatever this says.
            recovery_timeout=number("BENCH_RECOVERY_TIMEOUT", 300),
            drain_timeout=number("BENCH_DRAIN_TIMEOUT", 120),
        )


@dataclass
class Load:
    """What one wrk run measured."""

    name: str
    requests: int
    accepted: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    paths: dict[str, int]
    socket_errors: int
    # Counters the script kept (bench/lua/sign.lua: 503s, with Retry-After, with the typing kept).
    tallies: dict[str, int] = field(default_factory=dict)
    # Accepted answers by whole milliseconds of latency, from a timed load (one connection per
    # wrk thread); empty otherwise.
    accepted_ms: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.requests - self.accepted + self.socket_errors

    def accepted_latency_ms(self, pct: float) -> float:
        """A percentile of the accepted answers' latency (a timed load only)."""
        histogram = sorted((int(ms), n) for ms, n in self.accepted_ms.items())
        total = sum(n for _, n in histogram)
        seen = 0
        for ms, n in histogram:
            seen += n
            if seen >= total * pct / 100:
                return float(ms)
        return 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("accepted_ms")
        if self.accepted_ms:
            data["accepted_latency_ms"] = {
                "p50": self.accepted_latency_ms(50),
                "p99": self.accepted_latency_ms(99),
                "max": self.accepted_latency_ms(100),
            }
        return {**data, "rate": round(self.rate, 1), "errors": self.errors}


def letters(k: int) -> str:
    """A number spelled in letters: a name's digits are ignored by the near-duplicate signal."""
    s = ""
    while True:
        s = chr(97 + k % 26) + s
        k //= 26
        if not k:
            return s.capitalize()


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]
