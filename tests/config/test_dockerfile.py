"""The Dockerfile, linted and read. No image is built here (this machine has no container
daemon); hadolint runs in `make lint` too, and here so that `make test` catches a regression."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from config.entrypoint import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
# The dev extra installs it into the venv beside this interpreter.
HADOLINT = Path(sys.executable).parent / "hadolint"


def _hadolint(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", "-"], input=text, capture_output=True, text=True
    )


def _stages() -> list[str]:
    return re.split(r"^FROM ", DOCKERFILE.read_text(), flags=re.MULTILINE)[1:]


def test_the_dockerfile_passes_hadolint() -> None:
    result = _hadolint(DOCKERFILE.read_text())
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_fail_a_dockerfile_with_the_usual_mistakes() -> None:
    result = _hadolint("FROM python\nRUN apt-get update && apt-get install -y gettext\n")
    assert result.returncode != 0
    # No tag on the image, apt lists left in the image, no --no-install-recommends.
    for rule in ("DL3006", "DL3009", "DL3015"):
        assert rule in result.stdout


def test_every_lint_exception_says_why() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert lines[number - 1].startswith("#") and "hadolint" not in lines[number - 1]


def test_two_stages_on_one_pinned_base_and_the_runtime_runs_as_a_user_without_privileges() -> None:
    builder, runtime = _stages()
    bases = {stage.split()[0] for stage in (builder, runtime)}
    # One base, so the venv's links to its python are valid in the runtime stage.
    assert bases == {"python:3.11-slim-bookworm"}
    # The builder prepares; the runtime only copies from it and installs nothing.
    assert "msgfmt" in builder and "collectstatic" in builder and "pip install" in builder
    assert "apt-get" not in runtime and "pip install" not in runtime
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    user = re.findall(r"^USER (\S+)$", runtime, re.MULTILINE)
    assert len(user) == 1 and user[0].split(":")[0] not in ("root", "0")


def test_static_files_are_collected_with_the_settings_production_loads() -> None:
    builder = _stages()[0]
    run = re.search(r"^RUN (DEBUG=0 .*?)python manage.py collectstatic", builder, re.M | re.S)
    assert run, "collectstatic runs with DEBUG=0"
    assignments = dict(re.findall(r"(\w+)=(\S+)", run[1]))
    # Loaded with exactly the build's values: they satisfy the settings, and DEBUG off picks
    # WhiteNoise's manifest storage, whose staticfiles.json the running site looks names up in.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; print(s.STORAGES['staticfiles']['BACKEND'])",
        ],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **assignments,
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_the_default_command_is_the_entrypoints_web_and_the_healthcheck_asks_healthz() -> None:
    runtime = _stages()[1]
    assert 'ENTRYPOINT ["python", "/app/config/entrypoint.py"]' in runtime
    command = re.search(r'^CMD \["(\w+)"\]$', runtime, re.MULTILINE)
    assert command and command[1] == "web" and "web" in SUBCOMMANDS
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", runtime, re.MULTILINE)


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "db.sqlite3", "staticfiles", "test-artifacts"} <= ignored
    # What the build needs stays in.
    assert not {"pyproject.toml", "README.md", "locale", "static", "config"} & ignored
