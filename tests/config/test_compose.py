"""compose.yaml and .env.example against what Cosign reads from its environment.

No container runs here (this machine has no container daemon), so the file is checked as data:
every variable it hands Cosign's processes is one Cosign reads (a misspelt name would be silently
ignored), and web, worker and beat get every variable the settings require in production, which is
proven by loading the settings, DEBUG off, with exactly the environment each service would get.

Which names Cosign reads is found out, not listed: the settings module and gunicorn's
configuration are run with os.environ replaced by a mapping that notes every name looked up (so
names built at run time, like RATE_LIMIT_<ACTION>_PER_IP, count), the entrypoint's own settings
likewise, and the rest of the code is searched for literal os.environ reads (the demo commands'
DEMO_ADMIN_PASSWORD...). A variable added to the settings later is seen without changing this test.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from config.entrypoint import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
PACKAGES = ("config", "mechanisms", "accounts", "petitions", "letters")
# The services that run Cosign's image, and those of them that must start in production.
PROCESSES = ("web", "worker", "beat")

# Runs in a fresh interpreter: notes every name the settings, gunicorn's configuration and the
# entrypoint look up in os.environ (directly or through django-environ; not what Celery or the
# standard library look up for themselves while they are imported), and prints them as JSON.
TRACKER = """
import json, os, runpy, sys
from pathlib import Path

import environ

ROOT = Path.cwd().resolve()
# Frames between Cosign's code and the lookup: os.environ's own and its Mapping methods (frozen
# modules), and django-environ's Env.
PASSING = (
    os.__file__, "<frozen os>", "<frozen _collections_abc>", str(Path(environ.__file__).parent)
)
seen = set()


def _by_cosign():
    frame = sys._getframe(2)
    while frame and frame.f_code.co_filename.startswith(PASSING):
        frame = frame.f_back
    if frame is None or not os.path.isabs(frame.f_code.co_filename):
        return False  # a frozen module of the standard library
    path = Path(frame.f_code.co_filename).resolve()
    return ROOT in path.parents and ".venv" not in path.parts


class Noting(type(os.environ)):
    def __getitem__(self, key):
        if _by_cosign():
            seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        if _by_cosign():
            seen.add(key)
        return super().__contains__(key)


os.environ.__class__ = Noting
import config.settings  # noqa
runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
entrypoint = runpy.run_path(str(ROOT / "config" / "entrypoint.py"))
# An unknown subcommand: it reads its settings, then stops before any database or exec.
assert entrypoint["main"](["no-such-subcommand"]) == 2
print(json.dumps(sorted(seen)))
"""


def _clean_env(**env: str) -> dict[str, str]:
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    clean.update(env)
    return clean


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def env_file_parse(path: Path) -> dict[str, str]:
    """NAME=value lines, as compose reads an env_file: comments and blank lines skipped."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition("=")
        assert separator, f"{path.name}: {line!r} is not NAME=value"
        values[name.strip()] = value.strip()
    return values


@cache
def env_example() -> dict[str, str]:
    return env_file_parse(ENV_EXAMPLE)


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def cosign_services() -> dict[str, dict]:
    """The services built from this repository's Dockerfile."""
    return {name: s for name, s in compose()["services"].items() if "build" in s}


INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolated_names() -> set[str]:
    """The variables compose itself reads from .env to write this file (${POSTGRES_PASSWORD})."""
    return {match["name"] for match in INTERPOLATION.finditer(COMPOSE.read_text())}


def interpolate(value: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        found = variables.get(match["name"], "")
        if match["op"] in (":?", "?") and not found:
            raise AssertionError(f"compose would refuse to start: {match['arg']}")
        if match["op"] in (":-", "-") and not found:
            return match["arg"]
        return found

    return INTERPOLATION.sub(replace, value).replace("$$", "$")


def service_environment(service: dict, dotenv: dict[str, str]) -> dict[str, str]:
    """What one service's processes find in their environment: the env_file, then `environment:`
    over it (compose's order), interpolated from .env."""
    assert service.get("env_file") == ".env"
    environment = dict(dotenv)
    for name, value in (service.get("environment") or {}).items():
        environment[name] = interpolate(str(value), dotenv)
    return environment


@cache
def names_read_at_run_time() -> frozenset[str]:
    """Every name looked up with a development environment (nothing set) and with a production
    one (.env.example, DEBUG off, S3 storage on, so the branches they guard run too)."""
    production = {
        **env_example(),
        "DEBUG": "0",
        "MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": "cosign-media",
    }
    names: set[str] = set()
    for env in ({}, production):
        result = _python(TRACKER, _clean_env(**env))
        assert result.returncode == 0, result.stderr
        names.update(json.loads(result.stdout.strip().splitlines()[-1]))
    return frozenset(names)


def _literal_environ_reads(tree: ast.AST) -> set[str]:
    """os.environ.get("X"), os.getenv("X"), os.environ["X"], os.environ.setdefault("X", ...)."""
    names = set()
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and node.args:
            function = ast.unparse(node.func)
            if function in ("os.environ.get", "os.getenv", "os.environ.setdefault"):
                target = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            target = node.slice
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            names.add(target.value)
    return names


@cache
def names_read_in_code() -> frozenset[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names |= _literal_environ_reads(ast.parse(path.read_text(), str(path)))
    return frozenset(names)


def names_cosign_reads() -> frozenset[str]:
    return names_read_at_run_time() | names_read_in_code()


def test_the_tracker_sees_names_read_every_way_the_settings_read_them() -> None:
    # A plain os.environ read, environ.Env (DATABASE_URL), a helper (env_int), a name built at run
    # time, a branch only production takes, gunicorn's configuration, and the entrypoint.
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "EMAIL_URL",
        "COUNTER_INTERVAL_SECONDS",
        "RATE_LIMIT_API_TOKEN_GLOBAL",
        "AWS_S3_ENDPOINT_URL",
        "GUNICORN_THREADS",
        "WAIT_FOR_DB_SECONDS",
        "MIGRATE_ON_START",
    ):
        assert name in names_read_at_run_time(), name
    assert "DEMO_ADMIN_PASSWORD" in names_read_in_code()
    assert "NO_SUCH_SETTING" not in names_cosign_reads()
    # Celery's own lookups while the settings import it are not Cosign's.
    assert "CELERY_LOADER" not in names_read_at_run_time()


@pytest.mark.parametrize("service", sorted(cosign_services()))
def test_every_variable_compose_sets_is_one_cosign_reads(service) -> None:
    unread = set(cosign_services()[service].get("environment") or {}) - names_cosign_reads()
    assert not unread, f"{service}: compose.yaml sets {sorted(unread)}, which nothing reads"


def test_every_variable_in_env_example_is_read_by_cosign_or_by_compose() -> None:
    # .env is both Cosign's env_file and where compose finds ${POSTGRES_PASSWORD} and the like.
    unread = set(env_example()) - names_cosign_reads() - interpolated_names()
    assert not unread, f".env.example sets {sorted(unread)}, which nothing reads"


def test_env_example_documents_every_variable_the_settings_read() -> None:
    text = ENV_EXAMPLE.read_text()
    # The rate limits are documented as one pattern, RATE_LIMIT_<ACTION>_PER_IP (_PER_CAMPAIGN,
    # _GLOBAL), in a comment that lists the actions, rather than in thirty lines.
    start = text.index("# Rate limits per action")
    rates_comment = text[start : text.index("\nR", start)]
    rate = re.compile(r"RATE_LIMIT_(?P<action>\w+?)_(?:PER_IP|PER_CAMPAIGN|GLOBAL)")
    missing = set()
    # Which settings module to load is the image's, wsgi.py's and the Celery app's business.
    for name in names_read_at_run_time() - {"DJANGO_SETTINGS_MODULE"}:
        match = rate.fullmatch(name)
        if match and re.search(rf"\b{match['action']}\b", rates_comment):
            continue
        if not re.search(rf"\b{name}\b", text):
            missing.add(name)
    assert not missing, f".env.example never mentions {sorted(missing)}"


@cache
def required_in_production() -> tuple[str, ...]:
    """The names the settings refuse to start without when DEBUG is off, found by asking them:
    start with DEBUG=0 alone, and add each name the settings say must be set, with
    .env.example's value, until they load."""
    env = {"DEBUG": "0"}
    required: list[str] = []
    for _ in range(20):
        result = _python("import config.settings", _clean_env(**env))
        if result.returncode == 0:
            return tuple(required)
        found = re.search(r"ImproperlyConfigured: (\w+) must be set", result.stderr)
        assert found, result.stderr
        name = found[1]
        assert name in env_example(), f"{name} is required but .env.example has no value for it"
        required.append(name)
        env[name] = env_example()[name]
    raise AssertionError(f"the settings still refuse to load with {sorted(env)}")


def test_the_required_production_variables_are_found_by_asking_the_settings() -> None:
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "EMAIL_URL"} <= set(required_in_production())


@pytest.mark.parametrize("service", PROCESSES)
def test_each_process_gets_every_variable_production_requires(service) -> None:
    environment = service_environment(cosign_services()[service], env_example())
    assert environment["DEBUG"] == "0"
    unset = [name for name in required_in_production() if not environment.get(name, "").strip()]
    assert not unset, f"{service} would start without {unset}"


@pytest.mark.parametrize("service", sorted(cosign_services()))
def test_the_settings_load_in_production_with_what_compose_gives_each_service(
    service, tmp_path
) -> None:
    environment = service_environment(cosign_services()[service], env_example())
    # A folder the container gets from a volume (settings check that it exists): here, a new one.
    mounts = {volume.split(":", 1)[1] for volume in cosign_services()[service].get("volumes", [])}
    assert environment["PROMETHEUS_MULTIPROC_DIR"] in mounts
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    show = (
        "from django.conf import settings as s; import json; print(json.dumps({'debug': s.DEBUG,"
        " 'db': s.DATABASES['default']['HOST'], 'broker': s.CELERY_BROKER_URL,"
        " 'media': str(s.MEDIA_ROOT)}))"
    )
    result = _python(show, _clean_env(DJANGO_SETTINGS_MODULE="config.settings", **environment))
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    # The compose network's database and Redis, not .env.example's host install.
    assert loaded == {
        "debug": False,
        "db": "db",
        "broker": "redis://redis:6379/0",
        "media": "/var/lib/cosign/media",
    }


def test_every_long_running_service_has_a_healthcheck_and_waits_for_what_it_needs() -> None:
    services = compose()["services"]
    assert {"web", "worker", "beat", "db", "redis", "migrate"} <= set(services)
    one_off = {
        name
        for service in services.values()
        for name, need in (service.get("depends_on") or {}).items()
        if need["condition"] == "service_completed_successfully"
    }
    # The migrations run once, in one container, before any process that needs the schema.
    assert one_off == {"migrate"}
    assert services["migrate"]["command"] == ["migrate"]
    for name, service in services.items():
        if name not in one_off:
            test = service["healthcheck"]["test"]
            assert test and test[0] in ("CMD", "CMD-SHELL"), name
        for need in (service.get("depends_on") or {}).values():
            assert need["condition"] in ("service_healthy", "service_completed_successfully")
    for name in PROCESSES:
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"
        assert needs["db"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_processes_run_the_entrypoints_subcommands_from_one_image() -> None:
    services = cosign_services()
    assert len({s["image"] for s in services.values()}) == 1
    for name in PROCESSES:
        assert services[name]["command"] == [name]
        assert services[name]["command"][0] in SUBCOMMANDS
    # Only one beat: two would send every periodic task twice.
    assert "deploy" not in services["beat"] and "scale" not in services["beat"]


def test_web_publishes_the_port_gunicorn_binds_and_the_image_exposes() -> None:
    web = cosign_services()["web"]
    bind = service_environment(web, env_example())["GUNICORN_BIND"]
    host, port = bind.rsplit(":", 1)
    assert host == "0.0.0.0"  # noqa: S104 (inside the container: the published port reaches it)
    published = [interpolate(p, {}) for p in web["ports"]]
    assert published == [f"8000:{port}"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(rf"^EXPOSE {port}$", dockerfile, re.MULTILINE)
    assert f"127.0.0.1:{port}/healthz" in dockerfile


def test_the_database_and_media_live_on_named_volumes_and_images_are_pinned() -> None:
    data = compose()
    assert {"db", "media"} <= set(data["volumes"])
    assert "db:/var/lib/postgresql/data" in data["services"]["db"]["volumes"]
    assert data["services"]["db"]["image"] == "postgres:15"
    assert data["services"]["redis"]["image"] == "redis:7"
    for name in PROCESSES:
        assert "media:/var/lib/cosign/media" in data["services"][name]["volumes"]
