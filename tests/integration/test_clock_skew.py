"""Clocks that disagree (issue 15): a sign form shown by one app server and sent to another whose
clock runs two seconds behind, both real gunicorn processes on the test database and Redis.

libfaketime (Debian's faketime package, which `make test` installs) sets the second server's wall
clock back. The person takes the minimum fill time, by the clock of the server that showed the
form; the server behind measures two seconds less. With the allowance the signature is stored as
any other; without it, it is held as "sent too fast".
"""

from __future__ import annotations

import os
import time
import uuid
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from django.core import signing

from mechanisms.abuse.forms import STARTED_FIELD
from mechanisms.abuse.proof_of_work import _STARTED_SALT
from mechanisms.models import AbuseFlag
from petitions.models import Signature
from tests.factories import PetitionFactory
from tests.integration.web_client import Browser, hidden_fields
from tests.services import app_server

pytestmark = pytest.mark.integration

SKEW_SECONDS = 2
MIN_FILL_SECONDS = 3
# Debian installs it under the architecture's library folder.
LIBFAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))), None)


def _clock_behind(seconds: int) -> dict[str, str]:
    """The environment that runs a server with its wall clock `seconds` behind.

    libfaketime preloaded, rather than the `faketime` command: that command runs the program in
    a child and does not pass on the SIGTERM that stops the server, which would outlive the test.
    """
    if LIBFAKETIME is None:
        pytest.fail("No libfaketime: `make test` installs Debian's faketime package.")
    preload = " ".join(filter(None, [str(LIBFAKETIME), os.environ.get("LD_PRELOAD", "")]))
    # The monotonic clock moves back too, by the same constant, so gunicorn's timers measure
    # what they did. (FAKETIME_DONT_FAKE_MONOTONIC=1 would spare it, but with libfaketime 0.9.10
    # every time.sleep() then fails with EINVAL, and gunicorn's arbiter dies.)
    return {"LD_PRELOAD": preload, "FAKETIME": f"-{seconds}s"}


def _server_time(browser: Browser, url: str) -> float:
    """The wall clock of the worker that answered, from its Date header (whole seconds)."""
    return parsedate_to_datetime(browser.get(f"{url}/healthz").headers["Date"]).timestamp()


def _signed_across_clocks(
    tmp_path: Path, *, smtp_port: int, allowance: int, email: str
) -> Signature:
    """Show the sign form on a server whose clock is right, take the minimum fill time, and send
    it to a server whose clock is SKEW_SECONDS behind; the signature as stored."""
    petition = PetitionFactory()
    env = {
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "ABUSE_MIN_FILL_SECONDS": str(MIN_FILL_SECONDS),
        "CLOCK_SKEW_ALLOWANCE_SECONDS": str(allowance),
        # Rate limits and bursts of this case alone: no other test's signatures count here.
        "CACHE_KEY_PREFIX": f"cosign-skew-{uuid.uuid4().hex}",
    }
    sign = f"/en/p/{petition.slug}/sign/"
    browser = Browser()
    with (
        app_server(tmp_path, name=f"on-time-{allowance}", env=env) as on_time,
        app_server(
            tmp_path, name=f"behind-{allowance}", env=env | _clock_behind(SKEW_SECONDS)
        ) as behind,
    ):
        # libfaketime sets back the clock Python reads in the workers of that server alone.
        assert time.time() - _server_time(browser, behind.url) >= SKEW_SECONDS
        assert time.time() - _server_time(browser, on_time.url) < SKEW_SECONDS

        page = browser.get(f"{on_time.url}/en/p/{petition.slug}/")
        assert page.status == 200
        fields = hidden_fields(page.body, action=sign)
        shown_at = signing.loads(fields[STARTED_FIELD], salt=_STARTED_SALT)
        # The minimum and half a second more, by the clock of the server that showed the form
        # (this machine's): the server behind measures 1.5 s.
        time.sleep(max(0.0, shown_at + MIN_FILL_SECONDS + 0.5 - time.time()))
        answer = browser.post(
            f"{behind.url}{sign}",
            fields
            | {
                "name": "Ada Ferri",
                "email": email,
                "postal_code": "94612",
                "country": "US",
                "display": "short",
            },
        )
    # Held or not, the signer is told the same.
    assert (answer.status, answer.location) == (302, f"/en/p/{petition.slug}/check-your-inbox/")
    return Signature.objects.get(petition=petition)


def test_a_form_sent_to_a_server_whose_clock_is_behind_is_not_held_for_it(
    transactional_db, smtp_server, tmp_path
) -> None:
    _, smtp_port = smtp_server
    with_allowance = _signed_across_clocks(
        tmp_path, smtp_port=smtp_port, allowance=SKEW_SECONDS, email="on-time@example.org"
    )
    assert (with_allowance.held, with_allowance.flags) == (False, "")

    # The same, with no allowance: the server behind holds the signature for its own clock.
    without = _signed_across_clocks(
        tmp_path, smtp_port=smtp_port, allowance=0, email="held@example.org"
    )
    assert without.held
    assert AbuseFlag.TOO_FAST in without.flags.split()
