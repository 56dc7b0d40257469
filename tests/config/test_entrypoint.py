"""config/entrypoint.py, run for real as the container runs it: a fresh interpreter with only the
environment given, against this machine's PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from config.entrypoint import EntrypointError, command_resolve

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "config" / "entrypoint.py"
# The suite's PostgreSQL server; its maintenance database always exists, whatever the suite's own
# database is called (pytest-django creates that one under another name).
SERVER = os.environ.get("DATABASE_URL", "postgres://localhost/test").rsplit("/", 1)[0]
DATABASE = f"{SERVER}/postgres"


def _env(**env: str) -> dict[str, str]:
    # The venv's programs first, as the image's PATH has them; nothing of the caller's settings.
    clean = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(ROOT)),
    }
    clean.update(env)
    return clean


def _run(*argv: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ENTRYPOINT), *argv],
        cwd="/",
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"test_entrypoint_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_gives_up_with_a_clear_error_when_the_database_never_answers() -> None:
    port = _closed_port()
    result = _run(
        "python",
        "-c",
        "print('ran')",
        DATABASE_URL=f"postgres://cosign:hunter2@127.0.0.1:{port}/cosign",
        WAIT_FOR_DB_SECONDS="2",
    )
    assert result.returncode == 3
    assert "ran" not in result.stdout
    assert "waiting for the database cosign at 127.0.0.1" in result.stderr
    assert "did not answer within 2 s" in result.stderr
    assert "Connection refused" in result.stderr
    assert "WAIT_FOR_DB_SECONDS" in result.stderr
    # The password is never printed.
    assert "hunter2" not in result.stderr


class LateProxy:
    """A PostgreSQL address that refuses connections until opened, then forwards them to the
    real server: a database container still starting."""

    def __init__(self) -> None:
        self.port = _closed_port()
        self.upstream = ("127.0.0.1", 5432)
        self._listener: socket.socket | None = None

    def open(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def test_waits_for_a_database_that_comes_up_then_runs_the_command_with_its_exit_code() -> None:
    proxy = LateProxy()
    real = urlsplit(DATABASE)
    user = f"{real.netloc.rpartition('@')[0]}@" if "@" in real.netloc else ""
    proxy.upstream = (real.hostname or "localhost", real.port or 5432)
    process = subprocess.Popen(
        [
            sys.executable,
            str(ENTRYPOINT),
            "python",
            "-c",
            "import sys; print('the command ran'); sys.exit(7)",
        ],
        cwd="/",
        env=_env(
            DATABASE_URL=f"postgres://{user}127.0.0.1:{proxy.port}{real.path}",
            WAIT_FOR_DB_SECONDS="60",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Opened only once the entrypoint has been refused at least once.
        assert process.stderr is not None
        first = process.stderr.readline()
        assert "waiting for the database" in first
        proxy.open()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        proxy.close()
    assert "answers" in stderr
    assert stdout == "the command ran\n"
    assert process.returncode == 7


def test_runs_the_command_against_the_real_database_and_passes_its_exit_code_through() -> None:
    result = _run("python", "-c", "import sys; print('hello'); sys.exit(5)", DATABASE_URL=DATABASE)
    assert result.stdout == "hello\n"
    assert result.returncode == 5
    assert "answers" in result.stderr
    assert "applying migrations" not in result.stderr


def test_migrates_when_asked_once_even_when_two_containers_start_together(fresh_database) -> None:
    env = _env(DATABASE_URL=fresh_database, MIGRATE_ON_START="1")
    command = [sys.executable, str(ENTRYPOINT), "python", "-c", "print('started')"]
    both = [
        subprocess.Popen(command, cwd="/", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [(*(out.decode() for out in p.communicate(timeout=300)), p.returncode) for p in both]
    for stdout, stderr, code in results:
        assert code == 0, stderr
        assert stdout.endswith("started\n")
        assert "taking the migration lock" in stderr
    # One applied them; the other waited for the lock and found nothing left to do.
    outputs = sorted(stdout for stdout, _, _ in results)
    assert sum("Applying accounts.0001_initial... OK" in out for out in outputs) == 1
    assert sum("No migrations to apply." in out for out in outputs) == 1
    with psycopg.connect(fresh_database) as connection:
        count = connection.execute(
            "SELECT count(*) FROM django_migrations WHERE app = 'petitions'"
        ).fetchone()
    assert count is not None and count[0] > 0
    check = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env=_env(DATABASE_URL=fresh_database),
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_refuses_an_unknown_subcommand_before_waiting_for_anything() -> None:
    result = _run(
        "wbe", DATABASE_URL=f"postgres://127.0.0.1:{_closed_port()}/x", WAIT_FOR_DB_SECONDS="30"
    )
    assert result.returncode == 2
    assert "unknown subcommand 'wbe'" in result.stderr
    assert "web, worker, beat, migrate" in result.stderr
    assert "waiting for the database" not in result.stderr


def test_refuses_a_malformed_setting_of_its_own() -> None:
    result = _run("true", MIGRATE_ON_START="maybe")
    assert result.returncode == 2
    assert "MIGRATE_ON_START='maybe' is not a boolean" in result.stderr


def test_web_runs_gunicorn_with_the_production_configuration() -> None:
    # gunicorn loads config/gunicorn.conf.py and the application, checks them and exits.
    result = _run("web", "--check-config", WAIT_FOR_DB_SECONDS="0", GUNICORN_THREADS="0")
    assert result.returncode != 0
    assert "GUNICORN_THREADS" in result.stdout + result.stderr
    result = _run("web", "--check-config", WAIT_FOR_DB_SECONDS="0")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("subcommand", ["worker", "beat"])
def test_worker_and_beat_run_celery_with_the_project_app(subcommand) -> None:
    # Started from "/": the entrypoint moves to the project, where `-A config` is found (celery
    # loads the app before it answers --help, and stops with an error when it cannot).
    result = _run(subcommand, "--help", WAIT_FOR_DB_SECONDS="0")
    assert result.returncode == 0, result.stderr
    assert f"Usage: celery {subcommand} [OPTIONS]" in result.stdout


def test_arguments_after_a_subcommand_are_added_to_its_command_line() -> None:
    assert command_resolve(argv=["web", "--workers", "2"]) == [
        "gunicorn",
        "-c",
        str(ROOT / "config" / "gunicorn.conf.py"),
        "--workers",
        "2",
    ]
    assert command_resolve(argv=["beat"])[-2:] == [
        "--schedule=/tmp/celerybeat-schedule",
        "--loglevel=INFO",
    ]
    # Anything else runs as given, found on PATH or by its path.
    assert command_resolve(argv=["sh", "-c", "exit 0"]) == ["sh", "-c", "exit 0"]
    assert command_resolve(argv=["/bin/echo", "x"]) == ["/bin/echo", "x"]
    with pytest.raises(EntrypointError, match="no command given"):
        command_resolve(argv=[])


def test_a_stop_signal_while_waiting_ends_it_with_a_message() -> None:
    # As PID 1 of a container, the process would ignore SIGTERM without a handler of its own.
    process = subprocess.Popen(
        [sys.executable, str(ENTRYPOINT), "python", "-c", "print('ran')"],
        cwd="/",
        env=_env(
            DATABASE_URL=f"postgres://127.0.0.1:{_closed_port()}/x", WAIT_FOR_DB_SECONDS="600"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert "waiting for the database" in process.stderr.readline()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM
    assert "stopped by signal 15 before the command started" in stderr
    assert stdout == ""


def test_worker_and_beat_log_at_log_level(monkeypatch) -> None:
    # Celery would otherwise set the root logger to its own --loglevel over settings.LOGGING's.
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert "--loglevel=DEBUG" in command_resolve(argv=["worker", "--concurrency", "2"])
    assert command_resolve(argv=["beat"])[-1] == "--loglevel=DEBUG"
