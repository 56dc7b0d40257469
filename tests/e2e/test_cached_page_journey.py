"""A supporter who is served the shared copy of a petition page can still sign it, in a real
browser.

PageCacheMiddleware answers anonymous readers from a copy of the page that another reader's visit
rendered, putting in each reader's own CSRF token and form time. The unit tests
(tests/petitions/test_page_cache.py) check this with Django's test client; only a browser checks
what the cache must get right for a person: the CSRF cookie the copy sets and the token in its
form agree, so the sign form is accepted (no 403) and the fill-time check sees this reader's own
render time. Test settings switch the copy off (PETITION_PAGE_CACHE_SECONDS = 0), so every other
journey renders its pages; here it is on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from unittest import mock

import pytest
from django.core import signing
from django.core.cache import cache
from playwright.sync_api import Page, expect

from mechanisms import page_cache
from mechanisms.abuse.forms import STARTED_FIELD
from mechanisms.abuse.proof_of_work import _STARTED_SALT
from petitions.models import Petition, Signature
from tests.e2e.helpers import fill_sign_form, last_mail_to, public_count, visit
from tests.factories import PetitionFactory

pytestmark = pytest.mark.e2e

TITLE = "Cancel the doorbell camera partnership in Oakland"


@pytest.fixture
def page_cache_on(settings) -> Iterator[None]:
    """The copy on, with its clock stopped: copies are keyed by a time bucket aligned on the
    wall clock, so even a long lifetime could roll over between the two visits."""
    settings.PETITION_PAGE_CACHE_SECONDS = 60
    # The live server runs in this process: its copies are in this module's memory (and Redis).
    page_cache._local.clear()
    page_cache._shared_paths.clear()
    with mock.patch.object(page_cache, "_clock", return_value=time.time()):
        yield
    for key in list(page_cache._local):
        cache.delete(key)
    page_cache._local.clear()
    page_cache._shared_paths.clear()


@pytest.fixture
def fill_time_on(settings) -> int:
    """Test settings switch the fill-time check off; on here, the form time the copy carries
    must be this reader's own and valid, or the signature would be held as too fast."""
    settings.ABUSE_MIN_FILL_SECONDS = 1
    return settings.ABUSE_MIN_FILL_SECONDS


@pytest.fixture
def petition(transactional_db) -> Petition:
    return PetitionFactory(title=TITLE, signature_count=41)


def _csrf_cookie(page: Page) -> str:
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "csrftoken"]
    return cookie["value"]


def _form_started(page: Page) -> int:
    """The render time the sign form carries (signed, whole seconds)."""
    token = page.locator(f'#sign form input[name="{STARTED_FIELD}"]').input_value()
    return signing.loads(token, salt=_STARTED_SALT)


def _wait_for_next_second() -> None:
    time.sleep(1 - time.time() % 1 + 0.05)


def test_a_reader_served_the_copy_signs_with_their_own_csrf_token_and_form_time(
    browse, page_cache_on, fill_time_on: int, petition: Petition
) -> None:
    url = petition.get_absolute_url()
    first = browse()
    visit(first, url)
    assert public_count(first) == "41"
    first_started = _form_started(first)
    assert len(page_cache._local) == 1, "the first visit did not store a copy"

    # A copy rendered now would show 42: the second reader seeing 41 was served the copy.
    Petition.objects.filter(pk=petition.pk).update(signature_count=42)
    # Form times are whole seconds: a second apart, the second reader's own time is told apart.
    _wait_for_next_second()

    second = browse()
    assert second.context.cookies() == []
    html = visit(second, url).text()
    # No marker left in the page (a browser would show a NUL in an attribute as U+FFFD).
    assert "\x00" not in html
    assert public_count(second) == "41"
    expect(second.get_by_role("heading", level=1)).to_have_text(TITLE)
    second_started = _form_started(second)
    assert second_started > first_started, "the copy carried the first reader's form time"
    # Each browser was given a CSRF secret of its own; the copy never hands out the first's.
    assert _csrf_cookie(second) != _csrf_cookie(first)

    fill_sign_form(second, name="Maria Rossi", email="maria@example.org", display="My full name")
    # A person takes longer than the fill-time minimum; wait until it has passed.
    time.sleep(max(0.0, second_started + fill_time_on + 0.1 - time.time()))
    response_of_post: list[int] = []
    second.on(
        "response",
        lambda r: response_of_post.append(r.status) if r.request.method == "POST" else None,
    )
    second.locator("#sign form").get_by_role("button", name="Sign the petition").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert response_of_post == [302]

    signature = Signature.objects.get(petition=petition)
    assert (signature.email, signature.name) == ("maria@example.org", "Maria Rossi")
    # Not held as too fast (nor for anything else): the form time was valid and this reader's.
    assert (signature.flags, signature.held) == ("", False)
    assert last_mail_to("maria@example.org").subject == f"Confirm your signature: {TITLE}"
