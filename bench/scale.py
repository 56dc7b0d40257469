"""`make scale`: two app hosts, two Celery workers and an active and a standby beat behind
HAProxy, on this machine; one of each killed with SIGKILL under signing and reading load, and
nothing accepted may be lost or sent twice.

Run from the checkout with `python -m bench.scale` (the Makefile does). It starts:
- two app "hosts", each a network namespace of its own (`ip netns`, a veth pair to the root
  namespace, 10.231.<n>.2) running the production serving model (`gunicorn -c
  config/gunicorn.conf.py`); where namespaces cannot be made, two loopback addresses (127.0.0.2
  and 127.0.0.3), and the output says so. From a namespace the hosts reach PostgreSQL and Redis
  through HAProxy's TCP relays on their veth's far end (the machine's PostgreSQL listens on
  127.0.0.1 only, and its configuration is not ours to change);
- two Celery workers, and two beats with the advisory-lock scheduler (mechanisms.beat);
- HAProxy in front, health-checking /readyz (README "Health checks and load balancers");
- a fresh PostgreSQL database, a Redis of its own and an SMTP sink, as `make bench` does.

Then: throughput and the web hosts' CPU per request with two hosts and with one (wrk); then
signers, readers and confirmers through HAProxy while it kills every process of one host, then a
worker, then the active beat; then the integrity checks (bench/scale_report.py), which make the
command exit non-zero if anything accepted was lost or sent twice or the count is not its
recount. Everything it starts is stopped, and the namespaces and the database removed, at the
end, on failure and on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import email.policy
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import checks, infra, scale_report
from bench.config import (
    BIN,
    FILL_WAIT_SECONDS,
    LUA,
    PAGE_PATH,
    SIGN_PATH,
    TOKEN_POOL,
    letters,
)
from bench.scale_network import (
    APP_PORT,
    HAPROXY,
    Host,
    haproxy_command,
    haproxy_config,
    haproxy_states,
    network_make,
    network_remove,
    say,
)
from bench.scale_report import Event, Request
from bench.serving import GUNICORN_CONF

DATABASE_URL = os.environ.get("SCALE_DATABASE_URL", "postgres://localhost/cosign_bench_scale")
# Seconds of each measured load and of each failover's window.
SECONDS = int(os.environ.get("SCALE_SECONDS") or 8)
SIGNERS = int(os.environ.get("SCALE_SIGNERS") or 3)
READERS = int(os.environ.get("SCALE_READERS") or 2)
# The outbox heals faster than in production, so a run fits in minutes: a killed worker's claim
# on an email lapses after OUTBOX_LEASE_SECONDS and the sweep queues it again. A dispatcher tick
# sends for at most 2 s (OUTBOX_DISPATCH_RUN_SECONDS), well inside the lease.
OUTBOX_LEASE_SECONDS = 30
OUTBOX_SWEEP_SECONDS = 5


class Interrupted(Exception):
    pass


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


# --- The run --------------------------------------------------------------------------------------


@dataclass
class Load:
    """What the failover load saw: every request, and the signers told to check their inbox."""

    requests: list[Request] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    confirmed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request, *, accepted: str | None = None) -> None:
        with self.lock:
            self.requests.append(request)
            if accepted:
                self.accepted.append(accepted)


class Scale:
    def __init__(self, procs: infra.Processes, sink: infra.MailSink, work: Path) -> None:
        self.procs = procs
        self.sink = sink
        self.work = work
        self.port = infra.free_port()
        self.redis_port = infra.free_port()
        self.stats = str(work / "haproxy.sock")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "DATABASE_URL": DATABASE_URL,
            "CONN_MAX_AGE": "60",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/14",
            "CELERY_QUEUE": "cosign-scale",
            # HAProxy connects from 127.0.0.1 (loopback hosts) or the veth's far end, and appends
            # the address it saw to the signer's X-Forwarded-For.
            "TRUSTED_PROXIES": "127.0.0.1,10.231.0.0/16",
            "BENCH_STATIC_ROOT": str(work / "static"),
            "LOG_LEVEL": "WARNING",
            "OUTBOX_LEASE_SECONDS": str(OUTBOX_LEASE_SECONDS),
            "OUTBOX_SWEEP_SECONDS": str(OUTBOX_SWEEP_SECONDS),
            "OUTBOX_SWEEP_AGE_SECONDS": str(2 * OUTBOX_SWEEP_SECONDS),
            "BEAT_STANDBY_SECONDS": "2",
            "CELERY_WORKER_CONCURRENCY": "3",
            # Each thread keeps a database connection: 2 hosts x 3 processes x 6 threads, plus
            # the workers, stay under this machine's max_connections (100), shared with others.
            "GUNICORN_THREADS": "6",
        }
        self.hosts: list[Host] = []
        self.network = ""

    # --- Starting ---------------------------------------------------------------------------

    def manage(self, *args: str) -> None:
        self.procs.manage(*args, python=BIN / "python", env=self.env)

    def start(self) -> None:
        self.procs.redis_start(port=self.redis_port, env=self.env)

        self.hosts, self.network = network_make()
        say(f"network: {self.network}")
        config = self.work / "haproxy.cfg"
        pg_port = urlsplit(DATABASE_URL).port or 5432
        config.write_text(
            haproxy_config(
                port=self.port,
                stats=self.stats,
                hosts=self.hosts,
                redis_port=self.redis_port,
                pg_port=pg_port,
            )
        )
        self.procs.start("haproxy", [HAPROXY, "-db", "-f", str(config)], env=self.env)
        infra.wait_for(lambda: os.path.exists(self.stats), timeout=10, what="haproxy")

        name = urlsplit(DATABASE_URL).path
        for host in self.hosts:
            env = {
                **self.env,
                "GUNICORN_BIND": f"{host.address}:{APP_PORT}",
                "DATABASE_URL": f"postgres://{host.gateway}:{pg_port}{name}",
                "REDIS_URL": f"redis://{host.gateway}:{self.redis_port}/14",
            }
            argv = [*host.prefix(), str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF)]
            self.procs.start(host.name, argv, env=env)
            say(f"{host.name}: gunicorn -c config/gunicorn.conf.py on {host.address}:{APP_PORT}")
        infra.wait_for(
            lambda: set(haproxy_states(self.stats).values()) == {"UP"} or self.died(),
            timeout=90,
            what="both hosts passing HAProxy's /readyz check",
        )
        say("HAProxy: both hosts UP (health check GET /readyz)")

        for i in (1, 2):
            argv = [str(BIN / "celery"), "-A", "config", "worker", "--loglevel=INFO"]
            argv += ["--hostname", f"scale{i}@%h", "--without-gossip", "--without-mingle"]
            self.procs.start(f"worker-{i}", argv, env=self.env)
        for name in ("beat-a", "beat-b"):
            argv = [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=INFO"]
            self.procs.start(name, [*argv, f"--schedule={self.work / name}"], env=self.env)
            # The first leads; the second, started once it does, stands by.
            marker = b"holding the beat lock" if name == "beat-a" else b"beat: standby"
            self.wait_log(name, marker)
        for i in (1, 2):
            self.wait_log(f"worker-{i}", b" ready.")
        say("two workers ready; beat-a active, beat-b standby")

    def died(self) -> bool:
        """Raise if a process the run started has ended (naming its log); False otherwise."""
        self.procs.check_alive()
        return False

    def wait_log(self, name: str, marker: bytes) -> None:
        infra.wait_for(
            lambda: marker in self.log(name) or self.died(), timeout=60, what=f"{name}: {marker!r}"
        )

    def log(self, name: str) -> bytes:
        path = self.work / f"{name}.log"
        return path.read_bytes() if path.exists() else b""

    # --- Form tokens -------------------------------------------------------------------------

    def tokens(self) -> list[dict[str, str]]:
        """CSRF cookie/token pairs and form-start stamps from real page views through HAProxy
        (either host's are good on the other: one SECRET_KEY)."""
        found = []
        for _ in range(TOKEN_POOL):
            page = infra.fetch(self.port, "GET", PAGE_PATH)
            found.append(
                {
                    "cookie": page.cookies["csrftoken"],
                    "token": infra.hidden_input(page.body, "csrfmiddlewaretoken"),
                    "started": infra.hidden_input(page.body, "form_started"),
                }
            )
        rows = [
            f"{{cookie={json.dumps(t['cookie'])}, token={json.dumps(t['token'])}, "
            f"started={json.dumps(t['started'])}}}"
            for t in found
        ]
        self.tokens_lua = self.work / "tokens.lua"
        self.tokens_lua.write_text("return {\n  " + ",\n  ".join(rows) + "\n}\n")
        # Younger tokens would flag every signature as filled in too fast.
        time.sleep(FILL_WAIT_SECONDS)
        return found

    # --- Throughput with two hosts and with one ------------------------------------------

    def wrk(
        self, name: str, script: str, args: list[str], connections: int, *, seconds: int = SECONDS
    ) -> dict[str, Any]:
        argv = [infra.tool("wrk"), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
        argv += ["-s", str(LUA / script), f"http://127.0.0.1:{self.port}", "--", *args]
        groups = {
            h.name: self.procs.pid(h.name) for h in self.hosts if h.name in self.procs.running
        }
        before = infra.cpu_seconds(groups)
        self.procs.start(name, argv, env=self.env)
        self.procs.wait(name, timeout=SECONDS * 3 + 60)
        used = sum(infra.cpu_seconds(groups).values()) - sum(before.values())
        line = next(
            x for x in reversed(self.log(name).decode().splitlines()) if x.startswith("BENCH_JSON ")
        )
        data = json.loads(line.removeprefix("BENCH_JSON "))
        seconds = data["duration_us"] / 1e6
        return {
            "per_s": round(data["accepted"] / seconds, 1),
            "cpu_ms": scale_report.cpu_per_request(used, data["accepted"]),
            "errors": sum(data["errors"].values()),
        }

    def throughput(self) -> list[dict[str, Any]]:
        # Every thread of every host opens its database and Redis connections on its first
        # requests: paid here, not in the first measured load.
        self.wrk("warm-read", "read.lua", [PAGE_PATH], 8, seconds=3)
        self.wrk(
            "warm-sign", "sign.lua", [str(self.tokens_lua), "warm", "9", SIGN_PATH], 4, seconds=3
        )
        rows = []
        for hosts in (2, 1):
            if hosts == 1:
                haproxy_command(self.stats, f"disable server cosign/{self.hosts[1].name}")
            reads = self.wrk(f"read-{hosts}", "read.lua", [PAGE_PATH], 8)
            signs = self.wrk(
                f"sign-{hosts}",
                "sign.lua",
                [str(self.tokens_lua), f"tp{hosts}", str(hosts), SIGN_PATH],
                4,
            )
            say(
                f"{hosts} host(s): {reads['per_s']} reads/s at {reads['cpu_ms']} ms web CPU each; "
                f"{signs['per_s']} signatures/s at {signs['cpu_ms']} ms each"
            )
            rows.append(
                {
                    "hosts": hosts,
                    "reads_per_s": reads["per_s"],
                    "read_cpu_ms": reads["cpu_ms"],
                    "signs_per_s": signs["per_s"],
                    "sign_cpu_ms": signs["cpu_ms"],
                }
            )
        haproxy_command(self.stats, f"enable server cosign/{self.hosts[1].name}")
        infra.wait_for(
            lambda: haproxy_states(self.stats).get(self.hosts[1].name) == "UP",
            timeout=30,
            what="host-b back in rotation",
        )
        return rows

    # --- Failover under load ----------------------------------------------------------------

    def reader(self, load: Load, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.time()
            try:
                status: int | None = infra.fetch(self.port, "GET", PAGE_PATH).status
            except OSError:
                status = None
            failed = status is None or status >= 500
            load.record(Request("read", started, time.time(), failed, status))
            stop.wait(0.02)

    def signer(
        self, i: int, tokens: list[dict[str, str]], load: Load, stop: threading.Event
    ) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            token = tokens[(i * 7 + n) % len(tokens)]
            address = f"scale.{i}.{n}@scale-{i}-{n}.test"
            body = urlencode(
                {
                    "csrfmiddlewaretoken": token["token"],
                    "form_started": token["started"],
                    "name": f"Scale {letters(i * 1_000_000 + n)}",
                    "email": address,
                    "display": "short",
                    "ref_code": "",
                    "altcha": "",
                }
            )
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token['cookie']}",
                # One /64 per signature (the unit the per-address limits key on), as sign.lua.
                "X-Forwarded-For": f"2001:db8:{0x5C00 + i:x}:{n % 65536:x}::1",
            }
            started = time.time()
            try:
                reply = infra.fetch(self.port, "POST", SIGN_PATH, body=body, headers=headers)
                status: int | None = reply.status
                ok = status == 302 and "check-your-inbox" in reply.headers.get("location", "")
            except OSError:
                status, ok = None, False
            failed = status is None or status >= 500
            load.record(
                Request("sign", started, time.time(), failed, status),
                accepted=address if ok else None,
            )
            stop.wait(0.1)

    def confirmer(self, load: Load, stop: threading.Event) -> None:
        """Signers following their link: GET the confirmation page, POST its button."""
        n = 0
        while not stop.is_set():
            with load.lock:
                waiting = [a for a in load.accepted if a not in load.confirmed]
            mails = self.sink.by_recipient()
            for address in waiting[:5]:
                url = next((m.confirm_url() for m in mails.get(address, [])), None)
                if not url:
                    continue
                n += 1
                path = urlsplit(url).path
                started = time.time()
                status: int | None = None
                try:
                    page = infra.fetch(self.port, "GET", path)
                    status = page.status
                    if status == 200:
                        reply = infra.fetch(
                            self.port,
                            "POST",
                            path,
                            body=urlencode(
                                {
                                    "csrfmiddlewaretoken": infra.hidden_input(
                                        page.body, "csrfmiddlewaretoken"
                                    ),
                                    "name": f"Confirmer {letters(n)}",
                                    "display": "short",
                                }
                            ),
                            headers={
                                "Content-Type": "application/x-www-form-urlencoded",
                                "Cookie": f"csrftoken={page.cookies['csrftoken']}",
                            },
                        )
                        status = reply.status
                except (OSError, RuntimeError, KeyError):
                    status = None
                failed = status is None or status >= 500
                load.record(Request("confirm", started, time.time(), failed, status))
                if status == 200:
                    load.confirmed.add(address)
            stop.wait(0.3)

    def kill_host(self, host: Host) -> int:
        """SIGKILL every process of `host`: all of its namespace's, or its gunicorn's session."""
        pids = set()
        if host.namespace:
            out = subprocess.run(  # noqa: S603
                ["ip", "netns", "pids", host.namespace],  # noqa: S607
                capture_output=True,
                text=True,
            ).stdout
            pids = {int(p) for p in out.split()}
        for pid in pids:
            # One may have ended on its own since it was listed.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.procs.kill(host.name)
        return len(pids)

    def failover(self, tokens: list[dict[str, str]]) -> dict[str, Any]:
        load = Load()
        stop = threading.Event()
        threads = [threading.Thread(target=self.reader, args=(load, stop)) for _ in range(READERS)]
        threads += [
            threading.Thread(target=self.signer, args=(i, tokens, load, stop))
            for i in range(1, SIGNERS + 1)
        ]
        threads.append(threading.Thread(target=self.confirmer, args=(load, stop)))
        for thread in threads:
            thread.start()
        events: list[Event] = []
        takeover: float | None = None
        try:
            say(
                f"load: {SIGNERS} signers, {READERS} readers, a confirmer; "
                f"then a kill every {SECONDS} s"
            )
            time.sleep(SECONDS / 2)
            events.append(Event("baseline (nothing killed)", time.time() - SECONDS / 2))
            host = self.hosts[1]
            events.append(Event(f"kill -9 {host.name}", time.time()))
            killed = self.kill_host(host)
            say(f"killed every process of {host.name} ({killed or 'its'} processes)")
            time.sleep(SECONDS)
            events.append(Event("kill -9 worker-1", time.time()))
            self.procs.kill("worker-1")
            say("killed worker-1 (its pool too)")
            time.sleep(SECONDS)
            events.append(Event("kill -9 active beat", time.time()))
            killed_at = time.time()
            self.procs.kill("beat-a")
            say("killed beat-a, the active beat")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if b"Sending due task" in self.log("beat-b"):
                    takeover = round(time.time() - killed_at, 1)
                    break
                time.sleep(0.05)
            say(f"beat-b took over after {takeover} s" if takeover else "beat-b did NOT take over")
            time.sleep(SECONDS / 2)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        end = time.time()
        # The baseline window is the one before the first kill.
        events.sort(key=lambda e: e.at)
        return {"load": load, "events": events, "end": end, "takeover": takeover}

    def drain(self, accepted: list[str]) -> None:
        """Wait until every accepted signer has mail, or the outbox's healing time has passed."""
        timeout = OUTBOX_LEASE_SECONDS + 3 * OUTBOX_SWEEP_SECONDS + 30
        say(f"waiting up to {timeout} s for every accepted signer's email")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.sink.by_recipient()
            if all(a in mails for a in accepted):
                return
            time.sleep(1)


def sink_mails(sink: infra.MailSink) -> list[scale_report.Mail]:
    found = []
    for mail in sink.snapshot():
        message = message_from_bytes(mail.raw, policy=email.policy.default)
        for recipient in mail.recipients:
            found.append(
                scale_report.Mail(
                    recipient=recipient,
                    message_id=str(message.get("Message-ID", "")),
                    subject=str(message.get("Subject", "")),
                )
            )
    return found


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    if os.geteuid() != 0:
        say("not root: ip netns needs root, so the hosts will be loopback addresses")
    work = Path(tempfile.mkdtemp(prefix="cosign-scale-"))
    procs = infra.Processes(work)
    sink = infra.MailSink()
    failed = True
    try:
        run = Scale(procs, sink, work)
        os.environ.update(run.env)
        say(f"Cosign scale-out run; logs in {work}")
        from bench.run import database_prepare

        database_prepare(database_url=DATABASE_URL, manage=run.manage)
        sink.start()
        run.start()
        tokens = run.tokens()
        say(f"throughput: wrk for {SECONDS} s each, reads then signatures, two hosts then one")
        throughput = run.throughput()
        say("failover under load")
        seen = run.failover(tokens)
        load: Load = seen["load"]
        checks.settle("scale")
        run.drain(load.accepted)
        stored = [email for email, _, _ in checks.stored("scale")]
        say("waiting for the counter to count every confirmed signature")
        results: dict[str, Any] = {
            "network": run.network,
            "windows": scale_report.failover_windows(
                seen["events"], load.requests, end=seen["end"]
            ),
            "lost": scale_report.signatures_lost(
                accepted=load.accepted, stored=stored, mailed=sink.by_recipient()
            ),
            "twice": scale_report.emails_twice(sink_mails(sink)),
            "count": checks.count_settled(run.port),
            "beat_takeover_s": seen["takeover"],
            "throughput": throughput,
            "confirmed": len(load.confirmed),
            # Time from each signature's row to its email at the sink: a killed worker's claimed
            # emails wait for their lease (OUTBOX_LEASE_SECONDS) and the next sweep.
            "email": checks.emails(sink, "scale"),
        }
        results["problems"] = scale_report.verdict(results)
        print(scale_report.table(results), flush=True)
        mail = results["email"]
        print(
            f"confirmation emails: p50 {mail['p50_s']:.1f} s, p95 {mail['p95_s']:.1f} s, "
            f"max {mail['max_s']:.1f} s after the signature (outbox lease shortened to "
            f"{OUTBOX_LEASE_SECONDS} s for the run); {len(load.confirmed)} signers confirmed "
            "through the page during the failovers"
        )
        failed = bool(results["problems"])
        return 1 if failed else 0
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"\nInterrupted ({exc or 'Ctrl-C'}); cleaning up", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        sink.stop()
        network_remove()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 (Django may not be set up yet; the drop forces anyway)
            pass
        infra.database_drop(DATABASE_URL)
        if failed:
            print(f"Logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
