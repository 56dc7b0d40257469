"""`make bench`: the sign flow under load on this machine, against a baseline measured in the same
run, with integrity checks after each scenario and faults injected into one of them.

Run from the checkout with `python -m bench.run` (the Makefile does). Everything it starts (its own
PostgreSQL database, its own Redis, gunicorn, a Celery worker and beat, an SMTP sink, wrk) is
stopped and dropped at the end, on failure and on Ctrl-C too. Figures land in bench/results.json;
README "Benchmarks" explains them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

from bench import checks, infra, options, overload, people, report, serving
from bench.config import (
    API_COUNT_PATH,
    BASELINE_PATH,
    BIN,
    EMBED_PATH,
    FILL_WAIT_SECONDS,
    LETTER_SLUG,
    LUA,
    PAGE_PATH,
    RESULTS,
    ROOT,
    SIDE_NAMES,
    SIDE_PACE_SECONDS,
    SIGN_PATH,
    SLUG,
    TOKEN_POOL,
    Config,
    Load,
    celery_loglevel,
    percentile,
    profile_stacks,
)


class Interrupted(Exception):
    pass


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


class Bench:
    def __init__(self, cfg: Config, procs: infra.Processes, sink: infra.MailSink, work: Path):
        self.cfg = cfg
        self.procs = procs
        self.sink = sink
        self.work = work
        self.port = infra.free_port()
        self.redis_port = (
            cfg.redis_port if not infra.port_open(cfg.redis_port) else infra.free_port()
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "DATABASE_URL": cfg.database_url,
            # Persistent connections, as in production (the settings' default, said explicitly).
            "CONN_MAX_AGE": "60",
            # DB 14 of a Redis of our own: we kill it, and other processes use the shared one.
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/14",
            # All load comes from 127.0.0.1, which plays the proxy: each request claims its own
            # client address in X-Forwarded-For, as production sees many signers behind one proxy.
            "TRUSTED_PROXIES": "127.0.0.1",
            "BENCH_STATIC_ROOT": str(work / "static"),
            # The fault run registers an organization every SIDE_PACE_SECONDS (each from its own
            # address, so the per-address limit stays production's): a longer BENCH_DURATION
            # would pass the site-wide 60 a minute, a flood stop, not something measured here.
            "RATE_LIMIT_JOIN_GLOBAL": "600/m,10000/h",
            # The readers all come from 127.0.0.1 without a forwarded address: the API's limit per
            # address would measure itself, not the API. (Signers keep theirs.)
            "RATE_LIMIT_API_PER_IP": "",
            "LOG_LEVEL": "WARNING",
        }
        self.events: list[dict[str, Any]] = []
        self.t0 = time.time()
        # The wrk loads started so far, by name: their CPU is the load's, not the site's.
        self.wrk_names: set[str] = set()
        self.stack: serving.Stack | None = None

    # --- Setting up -------------------------------------------------------------------------

    def manage(self, *args: str) -> None:
        self.procs.manage(*args, python=BIN / "python", env=self.env)

    def start_redis(self) -> None:
        self.procs.redis_start(port=self.redis_port, env=self.env)

    def start_worker(self) -> None:
        argv = [str(BIN / "celery"), "-A", "config", "worker", f"--loglevel={celery_loglevel()}"]
        self.procs.start(
            "worker", [*argv, "--hostname", f"bench{int(time.time())}@%h"], env=self.env
        )

    def start_services(self) -> None:
        """Everything but the web server: Redis, the Celery worker and beat."""
        self.start_redis()
        self.start_worker()
        beat = [str(BIN / "celery"), "-A", "config", "beat", f"--loglevel={celery_loglevel()}"]
        self.procs.start(
            "beat", [*beat, "--schedule", str(self.work / "beat-schedule")], env=self.env
        )

    def web_start(self, model: serving.Serving) -> None:
        """Serve the site with `model` on the bench's port (stopping whatever served it)."""
        self.web_stop()
        self.stack = serving.Stack(
            model, procs=self.procs, env=self.env, work=self.work, port=self.port
        )
        self.stack.start()
        for _ in range(model.capacity):
            infra.fetch(self.port, "GET", EMBED_PATH)

    def web_stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()
            self.stack = None

    def main_serving(self) -> serving.Serving:
        """The rounds' serving model: BENCH_SERVING, sized by BENCH_WORKERS and BENCH_THREADS
        when given (otherwise as the production file or the option says)."""
        model = serving.options(os.cpu_count() or 2)[self.cfg.serving]
        if self.cfg.workers is None and self.cfg.threads is None:
            return model
        pool = serving.Pool(
            workers=self.cfg.workers or model.pages.workers,
            threads=self.cfg.threads if self.cfg.threads is not None else model.pages.threads,
        )
        return serving.Serving(f"{model.name} (resized)", pool, model.forms)

    # --- Load ---------------------------------------------------------------------------------

    def wrk_start(
        self,
        name: str,
        script: str,
        args: list[str],
        connections: int,
        seconds: int,
        *,
        threads: int = 1,
    ) -> None:
        argv = [infra.tool("wrk"), f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
        argv += ["--timeout", "10s", "-s", str(LUA / script), f"http://127.0.0.1:{self.port}"]
        self.procs.start(name, [*argv, "--", *args], env=self.env)
        self.wrk_names.add(name)

    def wrk_result(self, name: str) -> Load:
        self.procs.wait(name, timeout=self.cfg.duration * 3 + 60)
        output = (self.work / f"{name}.log").read_text()
        # The log is appended to by every load of this name (one per round): the last line is ours.
        line = next((x for x in reversed(output.splitlines()) if x.startswith("BENCH_JSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk {name} printed no result:\n{output}")
        data = json.loads(line.removeprefix("BENCH_JSON "))
        errors = data["errors"]
        return Load(
            name=name,
            requests=data["requests"],
            accepted=data["accepted"],
            seconds=data["duration_us"] / 1e6,
            p50_ms=data["latency_us"]["p50"] / 1000,
            p90_ms=data["latency_us"]["p90"] / 1000,
            p99_ms=data["latency_us"]["p99"] / 1000,
            max_ms=data["latency_us"]["max"] / 1000,
            statuses=data["statuses"],
            paths=data["paths"],
            socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
            tallies=data.get("tallies", {}),
            accepted_ms=data.get("accepted_ms", {}),
        )

    def form_tokens(self) -> Path:
        """CSRF cookie/token pairs and form-start stamps from real page views, for sign.lua."""
        rows = []
        for _ in range(TOKEN_POOL):
            page = infra.fetch(self.port, "GET", PAGE_PATH)
            token = infra.hidden_input(page.body, "csrfmiddlewaretoken")
            started = infra.hidden_input(page.body, "form_started")
            rows.append(
                f"{{cookie={json.dumps(page.cookies['csrftoken'])}, "
                f"token={json.dumps(token)}, started={json.dumps(started)}}}"
            )
        path = self.work / "tokens.lua"
        path.write_text("return {\n  " + ",\n  ".join(rows) + "\n}\n")
        self.tokens_ready = time.monotonic() + FILL_WAIT_SECONDS
        return path

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each part; wrk and other finished children are reaped into
        this process's own children's times."""
        groups = {name: proc.pid for name, proc in self.procs.running.items()}
        found = infra.cpu_seconds(groups, by_name=("postgres",))
        times = os.times()
        used = {"wrk": times.children_user + times.children_system, "gunicorn": 0.0}
        for name, seconds in found.items():
            # Every web pool is "gunicorn"; every load, running or reaped, is "wrk".
            part = "wrk" if name in self.wrk_names else name
            part = "gunicorn" if part.startswith("gunicorn") else part
            used[part] = used.get(part, 0.0) + seconds
        # The driver runs the SMTP sink and the probes: the load's side, like wrk.
        used["bench driver"] = times.user + times.system
        used["machine"] = infra.machine_busy_seconds()
        return used

    def cpu_used(self, before: dict[str, float]) -> dict[str, float]:
        """CPU seconds each part used since `before`; "kernel and the rest" is what the machine
        was busy with beyond every process counted (the network stack's interrupts, mostly)."""
        after = self.cpu()
        used = {name: after.get(name, 0.0) - spent for name, spent in before.items()}
        for name in after.keys() - before.keys():
            used[name] = after[name]
        machine = used.pop("machine")
        used["kernel and the rest"] = max(0.0, machine - sum(used.values()))
        return used

    def cpu_since(self, before: dict[str, float], seconds: float) -> dict[str, float]:
        """Cores each part kept busy since `before` (2.0 is all of this machine)."""
        return {name: round(used / seconds, 2) for name, used in self.cpu_used(before).items()}

    def sign(
        self,
        name: str,
        tag: str,
        scenario: int,
        seconds: int,
        connections: int = 0,
        *,
        timed: bool = False,
    ) -> None:
        """Signers through the real form. `scenario` (below 200) must differ between loads: it
        makes the names and client addresses of one load unlike any other's. `timed` gives each
        connection a wrk thread of its own, so that the accepted answers' latency is measured
        apart from the refused ones' (bench/lua/sign.lua)."""
        # Tokens younger than the minimum fill time would flag every signature `too_fast`.
        time.sleep(max(0.0, self.tokens_ready - time.monotonic()))
        connections = connections or self.cfg.connections
        args = [str(self.tokens), tag, str(scenario), SIGN_PATH, *(["timed"] if timed else [])]
        threads = connections if timed else 1
        self.wrk_start(name, "sign.lua", args, connections, seconds, threads=threads)

    def event(self, what: str) -> None:
        print(f"  [{time.time() - self.t0:6.1f} s] {what}", flush=True)
        self.events.append({"at": round(time.time() - self.t0, 2), "what": what})

    def drain(self, tag: str, timeout: int) -> None:
        """Wait until every stored signature of `tag` has mail in the sink, or the timeout."""
        self.drain_to(tag, {email for email, _, _ in checks.stored(tag)}, timeout)

    def drain_to(self, what: str, addresses: Collection[str], timeout: int) -> None:
        """Wait until every one of `addresses` has mail in the sink, or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.sink.by_recipient()
            missing = sum(1 for email in addresses if email not in mails)
            if not missing:
                return
            time.sleep(1)
        self.event(f"{what}: stopped waiting for mail after {timeout} s")

    # --- Scenarios ----------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        d = self.cfg.duration
        results: dict[str, Any] = {"config": asdict(self.cfg), "events": self.events}
        models = serving.options(os.cpu_count() or 2)
        # The serving models compared first, each started and stopped in turn; the rounds then
        # run on the chosen one.
        compared = [models[name] for name in self.cfg.serving_options]
        results["serving_options"] = options.compare(self, compared) if compared else None
        main = self.main_serving()
        self.event(f"serving the rounds: {main.describe()}")
        self.web_start(main)
        results["serving"] = {"name": main.name, "describe": main.describe()}
        self.tokens_once()
        # Every worker parses the public suffix list, compiles regexes and opens its Redis and
        # database connections on its first POST: not what a running site pays per signature.
        self.event("warming up: signing for 2 s (not measured)")
        self.sign("warm-up", "warm", 0, 2)
        self.wrk_result("warm-up")
        # The baseline sends no mail: its worker must not be busy mailing the warm-up's signers.
        self.drain("warm", self.cfg.drain_timeout)

        results["rounds"] = [self.round(r) for r in range(1, self.cfg.runs + 1)]
        # Scenarios (sign.lua's numbers, below 200): the warm-up is 0, the faults 1, round r's
        # loads 2r and 2r + 1, the overload 99, the serving options from 100.
        results["overload"] = overload.run(self, main, max(d, 10)) if self.cfg.overload else None
        results["faults"] = self.faults(max(d, 10)) if self.cfg.faults else None
        return results

    def tokens_once(self) -> None:
        """Form tokens for sign.lua, fetched once: any server of this run accepts them."""
        if not hasattr(self, "tokens"):
            self.tokens = self.form_tokens()

    def round(self, r: int) -> dict[str, Any]:
        """Every scenario once; run BENCH_RUNS times, so that the noise shows."""
        d = self.cfg.duration
        results: dict[str, Any] = {}
        of = f"round {r}/{self.cfg.runs}"
        self.event(f"{of}: baseline: bare insert view, {d} s")
        results["baseline"] = self.baseline(d)

        self.event(f"{of}: signing: the real form, {d} s")
        tag = f"sign{r}"
        profile = self.cfg.profile and r == 1
        results["signing"] = self.signing("signing", tag, 2 * r, d, profile=profile)
        if profile:
            results["profile"] = results["signing"].pop("profile")
        self.drain(tag, self.cfg.drain_timeout)
        results["signing"]["email"] = checks.emails(self.sink, tag)
        results["signing"]["count"] = checks.count_settled(self.port)

        self.event(f"{of}: reading: the petition page alone, {d} s")
        results["reading"] = self.reading("reading", [PAGE_PATH], d)
        self.event(f"{of}: reading: the public API's count alone, {d} s")
        results["api_count"] = self.reading("api_count", [API_COUNT_PATH], d)

        results["mixed"] = self.mixed(d, r, signed=tag)
        return results

    def baseline(self, seconds: int) -> dict[str, Any]:
        """The bare insert view for `seconds`: its rate, its CPU per insert, its rows checked
        and then deleted."""
        cpu = self.cpu()
        self.wrk_start("baseline", "baseline.lua", [BASELINE_PATH], self.cfg.connections, seconds)
        load = self.wrk_result("baseline")
        result = {
            **load.as_dict(),
            **self.cpu_figures(cpu, load),
            "integrity": self.baseline_integrity(load),
        }
        # The baseline's rows look like signatures never mailed. Left in place, the sweep (oldest
        # first, 1,000 a minute) would spend the fault run mailing thousands of them before any
        # confirmation the faults really lost, which a first version of this bench mistook for
        # lost mail.
        self.baseline_rows_delete()
        return result

    def signing(
        self, name: str, tag: str, scenario: int, seconds: int, *, profile: bool = False
    ) -> dict[str, Any]:
        """Signers through the real form for `seconds`: rate, latency, CPU per signature and
        integrity (the emails are the caller's: they need a drain first)."""
        cpu = self.cpu()
        self.sign(name, tag, scenario, seconds)
        spy = self.profile_start(seconds) if profile else None
        load = self.wrk_result(name)
        result = {
            **load.as_dict(),
            **self.cpu_figures(cpu, load),
            "integrity": self.integrity(tag, load),
        }
        if spy:
            result["profile"] = self.profile_read(spy)
        return result

    def reading(self, name: str, paths: list[str], seconds: int) -> dict[str, Any]:
        cpu = self.cpu()
        self.wrk_start(name, "read.lua", paths, self.cfg.read_connections, seconds)
        load = self.wrk_result(name)
        return {**load.as_dict(), "cpu": self.cpu_since(cpu, load.seconds)}

    def cpu_figures(self, before: dict[str, float], load: Load) -> dict[str, Any]:
        """Cores busy per part during `load`, and CPU milliseconds per accepted request."""
        used = self.cpu_used(before)
        return {
            "cpu": {name: round(spent / load.seconds, 2) for name, spent in used.items()},
            "cpu_ms": report.cpu_per_request(used, load.accepted),
        }

    def integrity(self, tag: str, load: Load) -> dict[str, Any]:
        return checks.integrity(tag, load, connections=self.cfg.connections)

    def baseline_rows_delete(self) -> None:
        from petitions.models import Signature

        deleted, _ = Signature.objects.filter(petition__slug="bench-baseline").delete()
        self.event(f"baseline: removed its {deleted} rows, so no sweep mails them")

    def baseline_integrity(self, load: Load) -> dict[str, Any]:
        from petitions.models import Signature

        stored = Signature.objects.filter(petition__slug="bench-baseline").count()
        in_flight = stored - load.accepted
        return {"accepted": load.accepted, "stored": stored, "ok": 0 <= in_flight <= 64}

    def mixed(self, d: int, r: int, *, signed: str) -> dict[str, Any]:
        """Signing and reading at once, while confirmations arrive: the count's freshness."""
        self.event(f"round {r}: 3 people sign with proof of work and wait for their links")
        probes = [people.sign_as_a_person(self.port, n) for n in range(10 * r + 1, 10 * r + 4)]
        self.drain("probe", 60)
        mails = self.sink.by_recipient()
        found = [mails[p][0].confirm_url() for p in probes if p in mails]
        # A few signatures from the load run too, those no signal held.
        for email, _, flags in checks.stored(signed)[:7]:
            if not flags and email in mails:
                found.append(mails[email][0].confirm_url())
        urls = [u for u in found if u]

        signers = self.cfg.mixed_sign_connections
        self.event(
            f"round {r}: {signers} signing + {self.cfg.read_connections} reading the page and the "
            f"widget for {d} s; confirming"
        )
        counted_before = people.public_count(self.port)
        cpu = self.cpu()
        tag = f"mixed{r}"
        self.sign("mixed-signing", tag, 2 * r + 1, d, connections=signers)
        self.wrk_start(
            "mixed-reading", "read.lua", [PAGE_PATH, EMBED_PATH], self.cfg.read_connections, d
        )
        seen: list[tuple[float, int]] = []
        stop = threading.Event()

        def watch() -> None:
            # What a reader sees: the public page, every 200 ms.
            while not stop.is_set():
                seen.append((time.time(), people.public_count(self.port)))
                time.sleep(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        confirmed_at = []
        for n, url in enumerate(urls, start=1):
            confirmed_at.append(people.confirm(self.port, url, 10 * r + n))
            time.sleep(max(0.2, (d - 1) / max(1, len(urls))))
        signing = self.wrk_result("mixed-signing")
        reading = self.wrk_result("mixed-reading")
        cpu_used = self.cpu_since(cpu, reading.seconds)
        try:
            infra.wait_for(
                lambda: bool(seen) and seen[-1][1] >= counted_before + len(confirmed_at),
                timeout=60,
                what="the count to include every confirmation",
            )
        except RuntimeError as exc:
            self.event(str(exc))
        stop.set()
        watcher.join()
        # The counter adds everything confirmed before it runs, in one go, so the i-th
        # confirmation is in the count once the count reaches i.
        freshness = []
        for i, at in enumerate(confirmed_at, start=1):
            shown = next((t for t, count in seen if t >= at and count >= counted_before + i), None)
            freshness.append(shown - at if shown else float("inf"))
        self.drain(tag, self.cfg.drain_timeout)
        return {
            "signing": {
                **signing.as_dict(),
                "integrity": self.integrity(tag, signing),
            },
            "reading": reading.as_dict(),
            "cpu": cpu_used,
            "email": checks.emails(self.sink, tag),
            "freshness": {
                "confirmations": len(confirmed_at),
                "p50_s": percentile(freshness, 50),
                "max_s": max(freshness, default=0.0),
            },
            "count": checks.count_settled(self.port),
        }

    def faults(self, d: int) -> dict[str, Any]:
        self.event(f"faults: signing for {d} s; kill -9 the worker, then restart Redis")
        self.sign("fault-signing", "fault", 1, d)
        # Beside the load, from its start until Redis is back: people signing the open letter
        # and registering organizations, whose emails the same faults must neither lose nor
        # send twice.
        self.event(
            f"faults: a letter signer and an organization registration every "
            f"{SIDE_PACE_SECONDS} s, through their forms, until Redis is back"
        )
        side_stop = threading.Event()
        side_answers: dict[str, dict[str, Any]] = {}
        side = threading.Thread(
            target=lambda: side_answers.update(people.side_streams(self.port, side_stop)),
            daemon=True,
        )
        side.start()
        time.sleep(d * 0.2)
        self.procs.kill("worker")
        self.event("killed the Celery worker (SIGKILL to it and its pool)")
        time.sleep(d * 0.2)
        self.start_worker()
        self.event("started a new Celery worker")
        time.sleep(d * 0.2)
        self.procs.kill("redis")
        self.event("killed Redis (SIGKILL; nothing saved: queued tasks and counters lost)")
        # Redis stays down a while: the site must keep serving pages and taking signatures.
        outage = self.redis_outage(max(3.0, d * 0.3))
        self.start_redis()
        self.event("started Redis again, empty")
        side_stop.set()
        side.join()
        signing = self.wrk_result("fault-signing")
        for name, stream in side_answers.items():
            self.event(
                f"faults: {SIDE_NAMES[name]}: {stream['attempts']} tried, "
                f"{len(stream['accepted'])} accepted, {stream['refused']} refused, "
                f"{stream['errors']} errors (5xx or no answer)"
            )
        recovery = self.recovery_timeout()
        self.event(f"faults: waiting up to {recovery} s for every confirmation")
        self.drain("fault", recovery)
        self.drain("outage", recovery)
        for name, stream in side_answers.items():
            self.drain_to(SIDE_NAMES[name], checks.side_owed(name, stream), recovery)
        # A late duplicate (a redelivered task) would arrive after the first copy: give it time.
        time.sleep(5)
        email = checks.emails(self.sink, "fault")
        outage["email"] = checks.emails(self.sink, "outage")
        self.event(
            f"faults: {email['sent']} signatures mailed, {email['missing']} missing, "
            f"{email['more_than_once']} mailed more than once; "
            f"{email['resent_same_message']} copies of one message taken twice by the server"
        )
        streams = {
            name: checks.side_stream(self.sink, name, stream)
            for name, stream in side_answers.items()
        }
        for name, verdict in streams.items():
            self.event(
                f"faults: {SIDE_NAMES[name]}: {verdict['sent']} mailed, {verdict['missing']} "
                f"missing, {verdict['more_than_once']} mailed more than once "
                f"({verdict['resent_same_message']} copies of one message taken twice), "
                f"{verdict['lost']} accepted but not stored -> "
                f"{'ok' if verdict['ok'] else 'FAILED'}"
            )
        integrity = self.integrity("fault", signing)
        outage_ok = (
            outage["page_errors"] == 0
            and outage["sign_errors"] == 0
            and outage["email"]["missing"] == 0
            and outage["email"]["more_than_once"] == 0
        )
        return {
            "signing": {**signing.as_dict(), "integrity": integrity},
            "email": email,
            "redis_outage": outage,
            "side_streams": streams,
            "ok": integrity["ok"]
            and email["missing"] == 0
            and email["more_than_once"] == 0
            and outage_ok
            and all(verdict["ok"] for verdict in streams.values()),
        }

    def recovery_timeout(self) -> int:
        """How long the faults may take to heal: an email the killed worker had claimed waits
        for its lease to run out and then for the next sweep, so never less than that."""
        from django.conf import settings

        healing = settings.OUTBOX_LEASE_SECONDS + 2 * settings.OUTBOX_SWEEP_SECONDS
        return max(self.cfg.recovery_timeout, healing)

    def redis_outage(self, seconds: float) -> dict[str, Any]:
        """Redis down for `seconds`, while the bench reads the page and signs, one request at a
        time, beside the load: every error a person would see is counted."""
        stop = threading.Event()
        counts: dict[str, Any] = {}
        probe = threading.Thread(
            target=lambda: counts.update(people.outage_probe(self.port, stop)), daemon=True
        )
        probe.start()
        time.sleep(seconds)
        stop.set()
        probe.join()
        counts["seconds"] = round(seconds, 1)
        self.event(
            f"faults: while Redis was down ({seconds:.0f} s): {counts['page']} page reads, "
            f"{counts['page_errors']} errors; {counts['sign']} signatures, "
            f"{counts['sign_errors']} errors"
        )
        return counts

    # --- Profile ------------------------------------------------------------------------------

    # The processes BENCH_PROFILE samples: the web workers that answer the signers, and the
    # Celery worker that sends their emails.
    PROFILED = ("gunicorn", "worker")

    def profile_start(self, seconds: int) -> dict[str, Path]:
        outs = {}
        for part in self.PROFILED:
            out = outs[part] = self.work / f"profile-{part}.txt"
            argv = [str(BIN / "py-spy"), "record", "--pid", str(self.procs.pid(part))]
            # --gil: only the samples of a thread holding the interpreter lock, where the CPU
            # goes, not the threads waiting on PostgreSQL, Redis or a socket.
            argv += ["--subprocesses", "--gil", "--rate", "100", "--duration", str(seconds)]
            argv += ["--format", "raw", "--output", str(out)]
            self.procs.start(f"py-spy-{part}", argv, env=self.env)
        return outs

    def profile_read(self, outs: dict[str, Path]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for part, out in outs.items():
            self.procs.wait(f"py-spy-{part}", timeout=60)
            if not out.exists():
                found[part] = {"error": f"py-spy wrote nothing; see {self.work}/py-spy-{part}.log"}
                continue
            # Whole stacks, to read or to draw as a flame graph (flamegraph.pl takes them as
            # they are).
            shutil.copyfile(out, profile_stacks(part))
            found[part] = report.profile_summary(out.read_text())
        return found


def main() -> int:
    cfg = Config.from_env()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    # Explicitly: a shell starting us in the background would otherwise leave Ctrl-C ignored.
    signal.signal(signal.SIGINT, _terminate)
    # Logs and the beat schedule; kept when the run fails, to read.
    work = Path(tempfile.mkdtemp(prefix="cosign-bench-"))
    procs = infra.Processes(work)
    sink = infra.MailSink()
    failed = True
    try:
        bench = Bench(cfg, procs, sink, work)
        os.environ.update(bench.env)
        print(f"Cosign bench: logs in {work}", flush=True)
        database_prepare(database_url=cfg.database_url, manage=bench.manage)
        sink.start()
        bench.start_services()
        results = bench.run()
        results["targets"] = report.targets(results)
        RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
        report.print_table(results)
        print(f"\nWritten to {RESULTS.relative_to(ROOT)}")
        failed = not report.integrity_ok(results)
        return 1 if failed else 0
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"\nInterrupted ({exc or 'Ctrl-C'}); cleaning up", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        sink.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 (Django may not be set up yet; the drop forces anyway)
            pass
        infra.database_drop(cfg.database_url)
        if failed:
            print(f"Logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def database_prepare(*, database_url: str, manage: Callable[..., None]) -> None:
    """A new database with the schema, static files and the demo campaigns the loads use; Django
    set up in this process to read it."""
    infra.database_recreate(database_url)
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    import django

    django.setup()
    _seed()


def _seed() -> None:
    from letters.models import OpenLetter
    from petitions.models import Petition

    Petition.objects.create(
        slug=SLUG,
        title="Bench petition",
        summary="A petition that the bench signs thousands of times.",
        body="Signed by `make bench`.",
        demand="Keep signing fast.",
        status=Petition.Status.OPEN,
    )
    # A draft: nobody sees it; the baseline view writes to it without asking.
    Petition.objects.create(
        slug="bench-baseline", title="Baseline", summary="The baseline's rows.", status="draft"
    )
    # Open to anyone's signature: the fault run's letter signers sign it.
    OpenLetter.objects.create(
        slug=LETTER_SLUG,
        title="Bench letter",
        summary="An open letter people sign while the bench breaks things.",
        body="Signed by `make bench`.",
        addressed_to="Whoever reads benchmarks",
        ask="Keep every signer's email, once.",
        status=OpenLetter.Status.OPEN,
        individuals_may_sign=True,
    )


if __name__ == "__main__":
    sys.exit(main())
