"""The serving models the bench can put the site behind, and starting and stopping one.

Every model runs gunicorn from the production file, config/gunicorn.conf.py, with only the sizes
or the worker class changed on the command line (which overrides the file), so the model the
bench's rounds run is the documented production command itself. The serving-options scenario
(bench/options.py) measures each model in turn on the same front port.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import infra
from bench.config import BIN, PAGE_PATH, ROOT

GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
# What an ASGI process counts as serving at once, for the overload's 4 x and the warm-up: the
# event loop takes any number of connections and gives each request a thread for Django's
# synchronous code, so no number is built in; the gthread default's threads compare like with
# like.
ASGI_CONCURRENCY = 12


@dataclass(frozen=True)
class Pool:
    """One gunicorn: `threads` 0 means sync workers (one request at a time per process, and a
    closed connection after each); otherwise gthread with keep-alive. `None` sizes are the
    production file's own defaults."""

    workers: int | None = None
    threads: int | None = None
    # ASGI: uvicorn's event loop in each gunicorn process, serving config.asgi. Django runs the
    # (synchronous) middleware and views through asgiref, in a thread per request.
    asgi: bool = False
    # Run at this niceness: the kernel gives the pool's processes a core only when others at
    # the default priority leave one free.
    nice: int = 0
    # GUNICORN_SWITCH_INTERVAL_MS (config/gunicorn.conf.py): how long a thread running Python
    # keeps the interpreter lock while another thread of its process waits for it.
    switch_ms: float | None = None

    def argv(self, port: int) -> list[str]:
        argv = ["nice", "-n", str(self.nice)] if self.nice else []
        argv += [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}"]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        if self.asgi:
            # The positional application overrides the file's wsgi_app.
            argv += ["--worker-class", "uvicorn_worker.UvicornWorker", "config.asgi:application"]
        elif self.threads == 0:
            # More than one thread would make gunicorn pick gthread whatever the class says.
            argv += ["--worker-class", "sync", "--threads", "1"]
        elif self.threads is not None:
            argv += ["--threads", str(self.threads)]
        return argv

    def env(self) -> dict[str, str]:
        """What the pool's processes get in their environment beyond the bench's own."""
        return (
            {} if self.switch_ms is None else {"GUNICORN_SWITCH_INTERVAL_MS": str(self.switch_ms)}
        )

    def sizes(self) -> tuple[int, int]:
        """(processes, requests each serves at once), the production file's defaults filled in."""
        workers = self.workers or (os.cpu_count() or 1) + 1
        if self.asgi:
            # Admission lets at most this many sign POSTs run at once per process; more wait.
            return workers, ASGI_CONCURRENCY
        if self.threads == 0:
            return workers, 1
        return workers, self.threads or _conf_default_threads()

    def describe(self) -> str:
        workers, threads = self.sizes()
        if self.asgi:
            return f"{workers} uvicorn (ASGI) workers"
        if self.threads == 0:
            described = f"{workers} sync workers"
        else:
            described = f"{workers} gthread workers x {threads} threads"
        if self.switch_ms is not None:
            described += f", lock switched every {self.switch_ms:g} ms"
        return described + (f", at nice {self.nice}" if self.nice else "")


def _conf_default_threads() -> int:
    """GUNICORN_THREADS as the production file reads it."""
    scope: dict[str, object] = {}
    exec(compile(GUNICORN_CONF.read_text(), str(GUNICORN_CONF), "exec"), scope)  # noqa: S102
    threads = scope["threads"]
    assert isinstance(threads, int)
    return threads


@dataclass(frozen=True)
class Serving:
    """A serving model: one gunicorn `pages` taking every request; or, with `forms`, HAProxy on
    the front port sending GET and HEAD (the page, the widget) to `pages` and everything else
    (the sign POSTs) to `forms`, so signers and readers never share a process."""

    name: str
    pages: Pool
    forms: Pool | None = None

    @property
    def capacity(self) -> int:
        """Requests the site serves at once: workers x threads, over its pools."""
        pools = [self.pages, *([self.forms] if self.forms else [])]
        return sum(w * t for w, t in (pool.sizes() for pool in pools))

    @property
    def sign_capacity(self) -> int:
        """Sign POSTs served at once: the pool that takes them."""
        workers, threads = (self.forms or self.pages).sizes()
        return workers * threads

    def describe(self) -> str:
        if self.forms is None:
            return f"gunicorn, {self.pages.describe()}"
        return (
            f"HAProxy; GET to gunicorn {self.pages.describe()}, "
            f"POST to gunicorn {self.forms.describe()}"
        )


def options(cores: int) -> dict[str, Serving]:
    """The models the serving-options scenario compares, sized for `cores`."""
    return {
        # What Cosign ran before: gunicorn's advice for sync workers, 2 x cores + 1.
        "sync": Serving("sync", Pool(workers=2 * cores + 1, threads=0)),
        # The production file as it stands.
        "gthread": Serving("gthread", Pool()),
        # Fewer processes, more threads each: less memory and fewer database connections, more
        # threads taking turns at one interpreter lock.
        "gthread-2x16": Serving("gthread-2x16", Pool(workers=cores, threads=16)),
        # An ASGI server: uvicorn's event loop per process, the site's views run through asgiref.
        "asgi": Serving("asgi", Pool(asgi=True)),
        # Readers and signers in processes of their own (production would put this routing in
        # its own proxy): a reader never waits for a signer's interpreter lock, only for a core.
        "split": Serving(
            "split",
            Pool(workers=max(1, cores // 2) + 1, threads=8),
            forms=Pool(workers=cores, threads=12),
        ),
        # The production file, with each process's interpreter lock handed over every half
        # millisecond instead of Python's 5: a reader's thread waits less behind a signer's.
        "gthread-switch": Serving("gthread-switch", Pool(switch_ms=0.5)),
        # Many processes of few threads: a keep-alive connection stays with one process, so
        # most readers share no interpreter lock with a signer.
        "gthread-6x4": Serving("gthread-6x4", Pool(workers=3 * cores, threads=4)),
        "gthread-6x4-switch": Serving(
            "gthread-6x4-switch", Pool(workers=3 * cores, threads=4, switch_ms=0.5)
        ),
        # Split pools, the signers' at a lower priority: readers take a core first.
        "split-nice": Serving(
            "split-nice",
            Pool(workers=max(1, cores // 2) + 1, threads=8),
            forms=Pool(workers=cores, threads=12, nice=10),
        ),
    }


class Stack:
    """The processes of one serving model, started on `port` and stopped again."""

    def __init__(
        self,
        serving: Serving,
        *,
        procs: infra.Processes,
        env: Mapping[str, str],
        work: Path,
        port: int,
    ) -> None:
        self.serving = serving
        self.procs = procs
        self.env = env
        self.work = work
        self.port = port
        self.names: list[str] = []

    def start(self) -> None:
        if self.serving.forms is None:
            self._start("gunicorn", self.serving.pages.argv(self.port), self.serving.pages.env())
        else:
            pages, forms = infra.free_port(), infra.free_port()
            self._start("gunicorn", self.serving.pages.argv(pages), self.serving.pages.env())
            self._start("gunicorn-forms", self.serving.forms.argv(forms), self.serving.forms.env())
            config = self.work / f"haproxy-{self.serving.name}.cfg"
            config.write_text(_haproxy_config(self.port, pages=pages, forms=forms))
            self._start("haproxy", [infra.tool("haproxy"), "-db", "-f", str(config)])
        infra.wait_for(self._healthy, timeout=60, what=f"{self.serving.name}: /healthz")
        # Each process loads templates, URL patterns and the IP hash key on first use.
        for _ in range(self.serving.capacity + 8):
            infra.fetch(self.port, "GET", PAGE_PATH)

    def stop(self) -> None:
        for name in reversed(self.names):
            self.procs.kill(name, signal.SIGTERM)
        self.names.clear()
        # gunicorn lets go of the port as it exits; the next model binds the same one.
        infra.wait_for(lambda: not infra.port_open(self.port), timeout=30, what="the port free")

    def _start(self, name: str, argv: list[str], extra: Mapping[str, str] | None = None) -> None:
        self.procs.start(name, argv, env={**self.env, **(extra or {})})
        self.names.append(name)

    def _healthy(self) -> bool:
        self.procs.check_alive()
        try:
            return infra.fetch(self.port, "GET", "/healthz").status == 200
        except OSError:
            return False


def _haproxy_config(port: int, *, pages: int, forms: int) -> str:
    # One thread: the proxy must not take a core from the pools it feeds. X-Forwarded-For passes
    # through untouched: the load plays the client-facing proxy (bench/run.py), and the site
    # trusts 127.0.0.1, where HAProxy connects from, as it trusted the load.
    return f"""\
global
    nbthread 1
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 5s
    option http-keep-alive
    http-reuse always

frontend cosign
    bind 127.0.0.1:{port}
    use_backend pages if METH_GET
    default_backend forms

backend pages
    server pages 127.0.0.1:{pages}

backend forms
    server forms 127.0.0.1:{forms}
"""
