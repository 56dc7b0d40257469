"""The serving-options scenario: the same short loads on each serving model (bench/serving.py) in
turn, so that the choice of the production command rests on figures measured side by side.

Per model: the bare baseline (so each model's signing has its own honest ratio), signing alone,
the page read alone, and two signing connections beside the readers of the page and the widget
(the figure readers care about: reads per second while people sign). One short run each, on a
machine that may be busy: read the table for its large differences, not its last digits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench import checks, report
from bench.config import EMBED_PATH, PAGE_PATH
from bench.serving import Serving

if TYPE_CHECKING:
    from bench.run import Bench

# sign.lua's scenario numbers of the first model; each model takes the next FIVE.
FIRST_SCENARIO = 100
FIVE = 5


def compare(bench: Bench, models: list[Serving]) -> dict[str, Any]:
    seconds = bench.cfg.serving_duration
    bench.event(
        f"serving options: {', '.join(m.name for m in models)}; {seconds} s per load, "
        f"four loads each"
    )
    found = {}
    for k, model in enumerate(models):
        found[model.name] = _measure(bench, model, FIRST_SCENARIO + FIVE * k, seconds)
    bench.web_stop()
    return {"seconds": seconds, "models": found}


def _measure(bench: Bench, model: Serving, scenario: int, seconds: int) -> dict[str, Any]:
    bench.event(f"serving option {model.name}: {model.describe()}")
    bench.web_start(model)
    bench.tokens_once()
    tag = f"opt{scenario}"
    # First POSTs per process pay for imports and connections (see Bench.run).
    bench.sign("warm-up", f"{tag}warm", scenario, 2, connections=model.sign_capacity)
    bench.wrk_result("warm-up")
    bench.drain(f"{tag}warm", 30)

    baseline = bench.baseline(seconds)
    signing = bench.signing("signing", f"{tag}sign", scenario + 1, seconds)
    reading = bench.reading("reading", [PAGE_PATH], seconds)

    cpu = bench.cpu()
    signers = bench.cfg.mixed_sign_connections
    bench.sign("mixed-signing", f"{tag}mixed", scenario + 2, seconds, connections=signers)
    bench.wrk_start(
        "mixed-reading", "read.lua", [PAGE_PATH, EMBED_PATH], bench.cfg.read_connections, seconds
    )
    mixed_signing = bench.wrk_result("mixed-signing")
    mixed_reading = bench.wrk_result("mixed-reading")
    mixed_cpu = bench.cpu_since(cpu, mixed_reading.seconds)

    # The next model starts with the worker idle, and the emails' delay is a figure too.
    bench.drain(f"{tag}sign", 60)
    bench.drain(f"{tag}mixed", 30)
    result = {
        "describe": model.describe(),
        "capacity": model.capacity,
        "baseline": baseline,
        "signing": {**signing, "email": checks.emails(bench.sink, f"{tag}sign")},
        "reading": reading,
        "mixed": {
            "signing": {
                **mixed_signing.as_dict(),
                "integrity": bench.integrity(f"{tag}mixed", mixed_signing),
            },
            "reading": mixed_reading.as_dict(),
            "cpu": mixed_cpu,
        },
    }
    bench.event(f"serving option {model.name}: {report.option_line(result)}")
    return result
