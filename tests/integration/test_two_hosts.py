"""Two app hosts (issue 15): two real gunicorn servers sharing the test database and Redis, as
two hosts behind a load balancer. A sign form shown by one is taken by the other; a petition a
moderator closes in one's admin is refused by the other within 2 s (each worker keeps the
petition it signs on for PETITION_PAGE_CACHE_SECONDS).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core import signing

from accounts.models import User
from mechanisms.abuse.forms import STARTED_FIELD
from mechanisms.abuse.proof_of_work import _STARTED_SALT
from petitions.models import Petition, Signature
from tests.admin_forms import form_data
from tests.factories import PetitionFactory
from tests.integration.web_client import Answer, Browser, hidden_fields
from tests.services import app_server

pytestmark = pytest.mark.integration

STAFF_EMAIL = "moderator@cosign.test"
STAFF_PASSWORD = "a-long-password-for-tests"
# The bound the issue sets: a petition closed on one host is refused by every other within it.
CLOSED_EVERYWHERE_WITHIN = 2.0
MIN_FILL_SECONDS = 1


def _env(smtp_port: int) -> dict[str, str]:
    return {
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        # Rate limits and bursts of this test alone: no other test's signatures count here.
        "CACHE_KEY_PREFIX": f"cosign-two-hosts-{uuid.uuid4().hex}",
        # The test signs every few tens of milliseconds from one address until a host refuses.
        "RATE_LIMIT_SIGN_PER_IP": "1000/m",
        # The form's signed start time is checked by the host that did not sign it, on a clock
        # that agrees: no allowance is needed, and a short minimum keeps the test short.
        "ABUSE_MIN_FILL_SECONDS": str(MIN_FILL_SECONDS),
        "CLOCK_SKEW_ALLOWANCE_SECONDS": "0",
    }


def _sign(browser: Browser, url: str, slug: str, fields: dict[str, str], email: str) -> Answer:
    return browser.post(
        f"{url}/en/p/{slug}/sign/",
        fields
        | {
            "name": "Lena Moretti",
            "email": email,
            "postal_code": "94612",
            "country": "US",
            "display": "short",
        },
    )


def _admin_login(browser: Browser, url: str) -> None:
    page = browser.get(f"{url}/admin/login/")
    fields = hidden_fields(page.body, action="/admin/login/")
    answer = browser.post(
        f"{url}/admin/login/",
        fields | {"username": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": "/admin/"},
    )
    assert (answer.status, answer.location) == (302, "/admin/"), answer.body[:500]


def _admin_close(browser: Browser, url: str, petition: Petition) -> None:
    """Set the petition's status to closed in its admin change form, every other field as the
    page shows it, as a moderator would."""
    change = f"{url}/admin/petitions/petition/{petition.pk}/change/"
    page = browser.get(change)
    assert page.status == 200, page.body[:500]
    data = form_data(SimpleNamespace(content=page.body.encode()), "petition")
    answer = browser.post(change, data | {"status": [Petition.Status.CLOSED], "_save": ["Save"]})
    assert answer.status == 302, answer.body[:2000]


def _at_once(count: int, request: Callable[[int], Answer]) -> list[Answer]:
    """`count` requests sent together: while one worker of a host is busy, another takes the
    next, so every worker of the host answers some (one at a time, one worker might answer all)."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(request, range(count)))


@pytest.fixture
def hosts(transactional_db, smtp_server, tmp_path: Path):
    _, smtp_port = smtp_server
    env = _env(smtp_port)
    with (
        app_server(tmp_path, name="host-a", env=env) as a,
        app_server(tmp_path, name="host-b", env=env) as b,
    ):
        yield a, b


def test_a_form_shown_by_one_host_is_signed_on_the_other(hosts) -> None:
    a, b = hosts
    petition = PetitionFactory()
    browser = Browser()
    page = browser.get(f"{a.url}/en/p/{petition.slug}/")
    assert page.status == 200
    # The CSRF token and the form's signed start time were made by host A.
    fields = hidden_fields(page.body, action=f"/en/p/{petition.slug}/sign/")
    shown_at = signing.loads(fields[STARTED_FIELD], salt=_STARTED_SALT)
    time.sleep(max(0.0, shown_at + MIN_FILL_SECONDS + 0.1 - time.time()))

    answer = _sign(browser, b.url, petition.slug, fields, "across@example.org")

    assert (answer.status, answer.location) == (302, f"/en/p/{petition.slug}/check-your-inbox/")
    signature = Signature.objects.get(petition=petition)
    assert (signature.email, signature.status, signature.held) == (
        "across@example.org",
        Signature.Status.PENDING,
        False,
    )


def test_a_petition_closed_on_one_host_is_refused_by_the_other_within_two_seconds(
    hosts,
) -> None:
    a, b = hosts
    User.objects.create_superuser(STAFF_EMAIL, STAFF_PASSWORD)
    petition = PetitionFactory()
    moderator = Browser()
    _admin_login(moderator, a.url)
    signer = Browser()
    page = signer.get(f"{b.url}/en/p/{petition.slug}/")
    fields = hidden_fields(page.body, action=f"/en/p/{petition.slug}/sign/")
    # Host B's workers take signatures first, so each holds the petition, open.
    opened = _at_once(
        8, lambda n: _sign(signer, b.url, petition.slug, fields, f"before-{n}@example.org")
    )
    assert [answer.status for answer in opened] == [302] * 8

    _admin_close(moderator, a.url, petition)
    closed_at = time.monotonic()
    assert Petition.objects.get(pk=petition.pk).status == Petition.Status.CLOSED

    attempt = 0
    while True:
        attempt += 1
        sent_at = time.monotonic()
        assert sent_at - closed_at < CLOSED_EVERYWHERE_WITHIN, (
            f"host B still took signatures {CLOSED_EVERYWHERE_WITHIN:.0f} s after the close"
        )
        answer = _sign(signer, b.url, petition.slug, fields, f"after-{attempt}@example.org")
        if answer.status == 409:
            break
        assert answer.status == 302, answer.body[:500]
        time.sleep(0.05)

    # And from then on, whichever of its workers answers: each has had its time to forget.
    time.sleep(max(0.0, closed_at + CLOSED_EVERYWHERE_WITHIN - time.monotonic()))
    later = _at_once(
        8, lambda n: _sign(signer, b.url, petition.slug, fields, f"later-{n}@example.org")
    )
    assert [answer.status for answer in later] == [409] * 8
    assert "This petition is closed and no longer takes signatures." in later[0].body
    assert "This petition is closed" in signer.get(f"{b.url}/en/p/{petition.slug}/").body
