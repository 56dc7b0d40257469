"""The container's entrypoint: wait for the database, migrate if asked, then become the command.

    python config/entrypoint.py web | worker | beat | migrate
    python config/entrypoint.py COMMAND [ARGUMENT...]     # any program on PATH, e.g. python

`web` runs the production serving model (gunicorn with config/gunicorn.conf.py, README "Choosing
the serving model"), `worker` and `beat` the Celery processes, `migrate` the migrations alone (a
one-off service, as compose.yaml runs it); anything else is run as given. Arguments after a
subcommand are added to its command line (`web --workers 2`).

From the environment:
- WAIT_FOR_DB_SECONDS (60): how long to keep trying the database before giving up with an error;
  0 skips the wait. A database container that is still starting refuses connections for a few
  seconds, and a process started then would crash-loop, or (Celery) start and fail later.
- MIGRATE_ON_START (0): 1 applies migrations before the command starts. Let one container do it
  (compose.yaml's `migrate` service, or a single web container): two started at once would
  race, so this script holds a PostgreSQL advisory lock while it migrates, and the second waits
  and finds nothing left to apply, but the order of start-up is still clearer with one.

The command replaces this process (exec): it becomes PID 1 of the container and receives the
stop signal itself, so gunicorn and Celery shut down gracefully, and its exit code is the
container's.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Run as a script, its own folder comes first on sys.path, where config/celery.py would hide the
# celery package: the project's root takes its place, so `config` is imported as a package.
if sys.path and Path(sys.path[0] or ".").resolve() == BASE_DIR / "config":
    sys.path[0] = str(BASE_DIR)

# `--schedule` in a writable place: the image's code is read-only to the user it runs as, and the
# file only remembers when each periodic task last ran.
BEAT_SCHEDULE = "/tmp/celerybeat-schedule"  # noqa: S108

SUBCOMMANDS: dict[str, list[str]] = {
    "web": ["gunicorn", "-c", str(BASE_DIR / "config" / "gunicorn.conf.py")],
    "worker": ["celery", "-A", "config", "worker"],
    "beat": ["celery", "-A", "config", "beat", f"--schedule={BEAT_SCHEDULE}"],
    "migrate": [sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--noinput"],
}

DEFAULT_WAIT_SECONDS = 60
# Any key will do as long as nothing else in Cosign takes this advisory lock.
MIGRATION_LOCK_KEY = 0x636F7369676E  # "cosign"
# Exit codes: 2 for a command line we do not understand, 3 for a database that never answered.
USAGE = 2
NO_DATABASE = 3


class EntrypointError(Exception):
    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


def command_resolve(*, argv: Sequence[str]) -> list[str]:
    """The command line to exec: a subcommand's, with any extra arguments, or a program on PATH."""
    if not argv:
        raise EntrypointError(_usage("no command given"), code=USAGE)
    name, *rest = argv
    if name in ("worker", "beat"):
        # Celery sets the root logger's level from --loglevel (WARNING by default) over the one
        # settings.LOGGING gives it, so the worker follows LOG_LEVEL only if told here.
        loglevel = os.environ.get("LOG_LEVEL") or "INFO"
        return [*SUBCOMMANDS[name], f"--loglevel={loglevel}", *rest]
    if name in SUBCOMMANDS:
        return [*SUBCOMMANDS[name], *rest]
    if "/" in name or shutil.which(name):
        return list(argv)
    raise EntrypointError(
        _usage(f"unknown subcommand {name!r}, and no program of that name on PATH"), code=USAGE
    )


def _usage(problem: str) -> str:
    return (
        f"entrypoint: {problem}. Use one of {', '.join(SUBCOMMANDS)}, or a command to run "
        "(e.g. python manage.py createsuperuser)."
    )


def env_seconds(*, name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise EntrypointError(
            f"entrypoint: {name}={raw!r} is not a whole number of seconds", code=USAGE
        )
    return int(raw)


def env_flag(*, name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise EntrypointError(f"entrypoint: {name}={raw!r} is not a boolean; use 1 or 0", code=USAGE)


def database_wait(*, seconds: int) -> None:
    """Connect the way the site will (Django's settings and DATABASE_URL) until it works or
    `seconds` have passed. Loading the settings here also stops a misconfigured container before
    its command starts, with the settings' own message."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.db import OperationalError, connection

    django.setup()
    where = _database_name(connection.settings_dict)
    deadline = time.monotonic() + seconds
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        if connection.vendor == "postgresql":
            # A host that drops packets would otherwise hold one attempt past the deadline.
            connection.settings_dict.setdefault("OPTIONS", {})["connect_timeout"] = max(
                1, min(5, int(remaining))
            )
        try:
            connection.ensure_connection()
        except OperationalError as error:
            connection.close()
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            if time.monotonic() + 1 > deadline:
                raise EntrypointError(
                    f"entrypoint: the database {where} did not answer within {seconds} s "
                    f"({attempt} attempts; last: {reason}). Check DATABASE_URL and that the "
                    "database is running, or raise WAIT_FOR_DB_SECONDS.",
                    code=NO_DATABASE,
                ) from None
            print(
                f"entrypoint: waiting for the database {where} ({reason})",
                file=sys.stderr,
                flush=True,
            )
            time.sleep(1)
            continue
        print(f"entrypoint: the database {where} answers", file=sys.stderr, flush=True)
        connection.close()
        return


def _database_name(settings_dict: dict[str, object]) -> str:
    """Host, port and name, never the password."""
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or ""
    return f"{settings_dict.get('NAME')} at {host}{':' if port else ''}{port}"


def migrations_apply() -> None:
    """`manage.py migrate` in a child process, under an advisory lock held by this one, so two
    containers told to migrate at once apply each migration once."""
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            print("entrypoint: taking the migration lock", file=sys.stderr, flush=True)
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    try:
        print("entrypoint: applying migrations", file=sys.stderr, flush=True)
        result = subprocess.run(SUBCOMMANDS["migrate"], check=False)  # noqa: S603
        if result.returncode != 0:
            raise EntrypointError(
                f"entrypoint: migrate failed with exit code {result.returncode}",
                code=result.returncode,
            )
    finally:
        if postgres:
            # Closing the session releases the lock, whatever happened above.
            connection.close()


def _stop(signum: int, frame: object) -> None:
    raise EntrypointError(
        f"entrypoint: stopped by signal {signum} before the command started", code=128 + signum
    )


def main(argv: Sequence[str]) -> int:
    # As a container's PID 1, a process that sets no handler ignores SIGTERM: `docker stop` would
    # wait out its timeout while this waits for the database. exec gives the command the defaults.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        wait_seconds = env_seconds(name="WAIT_FOR_DB_SECONDS", default=DEFAULT_WAIT_SECONDS)
        migrate = env_flag(name="MIGRATE_ON_START")
        command = command_resolve(argv=argv)
        if wait_seconds > 0 or migrate:
            database_wait(seconds=wait_seconds)
        if migrate and argv[0] != "migrate":
            migrations_apply()
    except EntrypointError as error:
        print(error, file=sys.stderr)
        return error.code
    sys.stdout.flush()
    sys.stderr.flush()
    if argv[0] in SUBCOMMANDS:
        # gunicorn and Celery import `config` from the working directory.
        os.chdir(BASE_DIR)
    os.execvp(command[0], command)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
