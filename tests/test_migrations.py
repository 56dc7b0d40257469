import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


# What `make run` does on a fresh machine, on its embedded database (SQLite, no Redis): the
# migrations, the demo, and a signature with an opt-in through the demo petition's sponsor link.
_EMBEDDED_SMOKE = """
from django.test import Client
from petitions.models import SponsorOptIn, Signature
client = Client(HTTP_HOST="127.0.0.1")
page = client.get("/en/p/cancel-police-doorbell-partnerships/from/oakland-privacy/")
assert page.status_code == 200, page.status_code
oakland = Signature._meta.get_field("source").related_model.objects.get(slug="oakland-privacy")
answer = client.post("/en/p/cancel-police-doorbell-partnerships/sign/", {
    "name": "Ada Lovelace", "email": "ada@example.org", "postal_code": "94612",
    "country": "US", "display": "short", "comment": "",
    "sponsor_opt_ins": [str(oakland.pk)], "source": "oakland-privacy",
})
assert answer.status_code == 302, answer.status_code
signature = Signature.objects.get(email="ada@example.org")
assert signature.source == oakland
opt_in = SponsorOptIn.objects.get(signature=signature)
assert opt_in.wording.text.endswith(": Oakland Privacy"), opt_in.wording.text
client.login(username="organizer@oaklandprivacy.test", password="embedded-demo-password")
board = client.get(
    "/en/organizations/oakland-privacy/petitions/cancel-police-doorbell-partnerships/"
)
assert board.status_code == 200, board.status_code
print("embedded site works")
"""


def test_the_embedded_database_migrates_seeds_and_signs(tmp_path) -> None:
    root = Path(__file__).resolve().parent.parent
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEMO_ADMIN_PASSWORD": "embedded-demo-password",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        return done.stdout

    manage("migrate", "--verbosity", "0")
    assert "Demo data:" in manage("seed_demo")
    assert "embedded site works" in manage("shell", "-c", _EMBEDDED_SMOKE)
