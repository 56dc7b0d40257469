"""Anonymous readers share a cached copy of a petition page: no database work on a hit, but
their own CSRF token and form time, and never a copy of someone else's page."""

from __future__ import annotations

import re
import threading
from unittest import mock

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from mechanisms import page_cache
from mechanisms.abuse.forms import STARTED_FIELD
from mechanisms.abuse.proof_of_work import form_started_token
from tests.factories import PetitionFactory, UserFactory

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STARTED = re.compile(rf'name="{STARTED_FIELD}" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PETITION_PAGE_CACHE_SECONDS = 2
    # Each worker keeps its copies in memory too: no test may see another's.
    page_cache._local.clear()
    page_cache._shared_paths.clear()
    yield
    page_cache._local.clear()
    page_cache._shared_paths.clear()


@pytest.fixture
def bucket():
    """The cache's clock: its copies are keyed by the time bucket they were made in."""
    clock = mock.Mock(return_value=1_800_000_000.0)
    with mock.patch.object(page_cache, "_clock", clock):
        yield clock


def _url(petition) -> str:
    return reverse("petitions:detail", kwargs={"slug": petition.slug})


def test_a_second_reader_gets_the_copy_without_touching_the_database(
    bucket, django_assert_num_queries
) -> None:
    petition = PetitionFactory(signature_count=41)
    assert "41" in Client().get(_url(petition)).content.decode()

    with django_assert_num_queries(0):
        response = Client().get(_url(petition))

    assert response.status_code == 200
    assert "41" in response.content.decode()
    assert "private" in response["Cache-Control"]
    assert "max-age=2" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_the_count_is_no_older_than_the_copy(bucket) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))
    petition.signature_count = 42
    petition.save(update_fields=["signature_count"])

    assert 'id="signature-count">41<' in Client().get(_url(petition)).content.decode()
    bucket.return_value += 2  # the next bucket: the copy has expired
    assert 'id="signature-count">42<' in Client().get(_url(petition)).content.decode()


def test_each_reader_gets_their_own_csrf_token_and_form_time_and_can_sign(bucket, settings) -> None:
    petition = PetitionFactory()
    first = Client(enforce_csrf_checks=True)
    first.get(_url(petition))
    later = form_started_token(now=1_800_000_060.0)
    second = Client(enforce_csrf_checks=True)
    with (
        mock.patch.object(page_cache, "form_started_token", return_value=later),
        mock.patch("petitions.views._detail", side_effect=AssertionError("not a hit")),
    ):
        html = second.get(_url(petition)).content.decode()
    token = CSRF.search(html).group(1)
    started = STARTED.search(html).group(1)
    assert "\x00" not in html
    # The second reader's page carries its own render time, not the first reader's.
    assert started == later

    response = second.post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}),
        {
            "csrfmiddlewaretoken": token,
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "display": "full",
            STARTED_FIELD: started,
        },
    )
    assert response.status_code == 302
    assert petition.signatures.filter(email="ada@example.com").exists()


@pytest.mark.parametrize(
    "cookies",
    [{"sessionid": "x"}, {"messages": "x"}],
    ids=["a session", "pending messages"],
)
def test_readers_with_something_of_their_own_are_not_served_the_copy(bucket, cookies) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))
    petition.signature_count = 42
    petition.save(update_fields=["signature_count"])

    reader = Client()
    for name, value in cookies.items():
        reader.cookies[name] = value
    assert 'id="signature-count">42<' in reader.get(_url(petition)).content.decode()


def test_staff_previewing_a_draft_never_leave_a_copy_for_the_public(bucket, client) -> None:
    draft = PetitionFactory(status="draft")
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(_url(draft)).status_code == 200

    assert Client().get(_url(draft)).status_code == 404


def test_a_query_string_is_rendered_not_served_from_the_copy(bucket) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))
    petition.signature_count = 42
    petition.save(update_fields=["signature_count"])

    html = Client().get(_url(petition) + "?ref=newsletter").content.decode()
    assert 'id="signature-count">42<' in html


def test_each_language_has_its_own_copy(bucket) -> None:
    petition = PetitionFactory()
    Client().get(_url(petition))
    italian = Client().get(f"/it/p/{petition.slug}/").content.decode()
    assert 'lang="it"' in italian


def test_a_cache_that_is_down_still_serves_the_page(bucket) -> None:
    petition = PetitionFactory(signature_count=41)
    with mock.patch.object(page_cache, "cache") as broken:
        broken.get.side_effect = ConnectionError("redis is down")
        broken.set.side_effect = ConnectionError("redis is down")
        response = Client().get(_url(petition))
    assert response.status_code == 200
    assert 'id="signature-count">41<' in response.content.decode()


def test_the_embedded_widget_is_shared_too(bucket, django_assert_num_queries) -> None:
    petition = PetitionFactory(signature_count=41)
    url = reverse("petitions:embed", kwargs={"slug": petition.slug})
    Client().get(url)
    with django_assert_num_queries(0):
        response = Client().get(url)
    assert "41" in response.content.decode()
    # Still framable by any site, and only this page.
    assert "X-Frame-Options" not in response


def _headers(response) -> dict[str, str]:
    # Each answer has its own length and its own request id (mechanisms.request_ids).
    own = {"content-length", "x-request-id"}
    return {k.lower(): v for k, v in response.items() if k.lower() not in own}


def test_a_copy_carries_the_headers_a_rendered_page_has(bucket) -> None:
    petition = PetitionFactory()
    rendered = Client().get(_url(petition))
    with mock.patch("petitions.views._detail", side_effect=AssertionError("not a hit")):
        copy = Client().get(_url(petition))
    assert _headers(copy) == _headers(rendered)
    assert copy["X-Request-ID"] != rendered["X-Request-ID"]
    for header in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
        assert copy[header] == rendered[header]
    assert copy["Content-Length"] == str(len(copy.content))


def test_a_reader_keeps_their_own_csrf_cookie_and_a_bad_one_is_replaced(bucket) -> None:
    petition = PetitionFactory()
    Client().get(_url(petition))

    returning = Client(enforce_csrf_checks=True)
    first = returning.get(f"/it/p/{petition.slug}/")  # another page: sets their cookie
    secret = first.cookies["csrftoken"].value
    Client().get(_url(petition))
    hit = returning.get(_url(petition))
    assert hit.cookies["csrftoken"].value == secret

    broken = Client()
    broken.cookies["csrftoken"] = "not-a-token!"
    replaced = broken.get(_url(petition))
    assert replaced.status_code == 200
    assert replaced.cookies["csrftoken"].value not in ("", "not-a-token!")


def test_each_worker_keeps_the_copy_and_a_fresh_worker_takes_it_from_redis(
    bucket, django_assert_num_queries
) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))

    # This worker answers from its own memory: not even Redis is asked.
    with mock.patch.object(page_cache.cache, "get", side_effect=AssertionError("asked Redis")):
        assert 'id="signature-count">41<' in Client().get(_url(petition)).content.decode()

    # In the next bucket this worker's memory is empty; it knows the page is shared and takes
    # another worker's copy from Redis: still no database work.
    page_cache._local.clear()
    with django_assert_num_queries(0):
        html = Client().get(_url(petition)).content.decode()
    assert 'id="signature-count">41<' in html
    # Copies of the last STALE_BUCKETS buckets are kept beside the newest (served while a thread
    # makes a new one); older ones are dropped.
    for _ in range(page_cache.STALE_BUCKETS + 2):
        bucket.return_value += 2
        Client().get(_url(petition))
    assert len(page_cache._local) == page_cache.STALE_BUCKETS + 1
    assert _bucket_key(petition, bucket) in page_cache._local


def test_a_host_that_is_not_allowed_gets_djangos_refusal_not_a_copy(bucket) -> None:
    petition = PetitionFactory()
    Client().get(_url(petition))
    assert Client().get(_url(petition), HTTP_HOST="evil.example").status_code == 400


def test_a_page_that_sets_a_cookie_of_its_own_is_not_shared(bucket, rf) -> None:
    def view(request):
        response = page_cache.page_cached(request, render=lambda: HttpResponse("<p>page</p>"))
        if request.path.endswith("/session/"):
            response.set_cookie("sessionid", "someone-elses")
        return response

    middleware = page_cache.PageCacheMiddleware(view)
    middleware(rf.get("/en/p/x/session/"))
    assert page_cache._local == {}
    middleware(rf.get("/en/p/x/"))
    assert list(page_cache._local) == ["page:testserver:/en/p/x/:900000000"]


# --- The turn of a bucket: one reader renders, the others get the previous copy ----------------


def _bucket_key(petition, bucket) -> str:
    seconds = 2  # PETITION_PAGE_CACHE_SECONDS in these tests
    return f"page:testserver:{_url(petition)}:{int(bucket.return_value // seconds)}"


def _count_shown(response) -> str:
    found = re.search(r'id="signature-count">([^<]+)<', response.content.decode())
    assert found, "no count on the page"
    return found.group(1)


def _recount(petition, count: int) -> None:
    petition.signature_count = count
    petition.save(update_fields=["signature_count"])


@pytest.mark.django_db(transaction=True)
# One bucket on; or as many as may pass unread, or while a render slower than a bucket runs.
@pytest.mark.parametrize("buckets_on", [1, page_cache.STALE_BUCKETS])
def test_while_one_thread_renders_the_new_bucket_the_others_get_the_previous_copy(
    bucket, django_assert_num_queries, buckets_on
) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))
    _recount(petition, 42)
    bucket.return_value += 2 * buckets_on

    from petitions import views

    rendering, release = threading.Event(), threading.Event()
    real_detail = views._detail

    def slow_detail(*args, **kwargs):
        rendering.set()
        assert release.wait(10)
        return real_detail(*args, **kwargs)

    answers: list = []
    with mock.patch.object(views, "_detail", slow_detail):

        def read() -> None:
            try:
                answers.append(Client().get(_url(petition)))
            finally:
                connection.close()  # this thread's own, or the test database stays in use

        first = threading.Thread(target=read)
        first.start()
        assert rendering.wait(10)
        # The others neither wait for it nor render: the previous copy, at once.
        with django_assert_num_queries(0):
            meanwhile = [Client().get(_url(petition)) for _ in range(3)]
        release.set()
        first.join(10)

    assert [_count_shown(r) for r in meanwhile] == ["41", "41", "41"]
    assert [_count_shown(r) for r in answers] == ["42"]
    # Once made, everyone gets the new copy; and readers of the stale one still got their own
    # CSRF token.
    assert _count_shown(Client().get(_url(petition))) == "42"
    tokens = {CSRF.search(r.content.decode()).group(1) for r in meanwhile}
    assert len(tokens) == 3


def test_while_another_worker_renders_the_new_bucket_this_one_serves_the_previous_copy(
    bucket, django_assert_num_queries
) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))
    _recount(petition, 42)
    bucket.return_value += 2
    # Another worker holds the lock on making this bucket's copy.
    assert page_cache.cache.add(page_cache._rendering_key(_bucket_key(petition, bucket)), 1, 2)

    with django_assert_num_queries(0):
        assert _count_shown(Client().get(_url(petition))) == "41"
    assert page_cache._refreshing == set()

    # Its copy lands in the cache: this worker takes it, still without rendering.
    page_cache.cache.set(
        _bucket_key(petition, bucket),
        page_cache._local[f"page:testserver:{_url(petition)}:{int(bucket.return_value // 2) - 1}"],
        2,
    )
    with django_assert_num_queries(0):
        Client().get(_url(petition))
    assert _bucket_key(petition, bucket) in page_cache._local


def test_a_copy_older_than_the_stale_buckets_is_never_served(bucket) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))
    _recount(petition, 42)
    bucket.return_value += 2 * (page_cache.STALE_BUCKETS + 1)
    # Even with another worker said to be rendering, this one renders rather than serve it.
    assert page_cache.cache.add(page_cache._rendering_key(_bucket_key(petition, bucket)), 1, 2)
    assert _count_shown(Client().get(_url(petition))) == "42"


def test_a_render_that_fails_lets_the_next_reader_try_again(bucket) -> None:
    petition = PetitionFactory(signature_count=41)
    Client().get(_url(petition))
    _recount(petition, 42)
    bucket.return_value += 2

    from petitions import views

    client = Client(raise_request_exception=False)
    with mock.patch.object(views, "_detail", side_effect=RuntimeError("template broke")):
        assert client.get(_url(petition)).status_code == 500
    # Nobody is left marked as making the copy, in this worker or in the cache: the next
    # reader renders it, rather than every reader getting the old one until the bucket ends.
    assert page_cache._refreshing == set()
    assert page_cache.cache.get(page_cache._rendering_key(_bucket_key(petition, bucket))) is None
    assert _count_shown(Client().get(_url(petition))) == "42"


# --- The sign POST reads its petition once per bucket ----------------------------------------


@pytest.fixture
def signing_clock():
    from petitions import selectors

    selectors._for_signing.clear()
    clock = mock.Mock(return_value=1_800_000_000.0)
    with mock.patch.object(selectors, "_clock", clock):
        yield clock
    selectors._for_signing.clear()


def _sign(petition, n: int):
    return Client().post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}),
        {"name": f"Signer {'abcdefgh'[n]}", "email": f"s{n}@example.org", "display": "full"},
    )


def test_signers_in_one_bucket_share_one_read_of_the_petition(signing_clock) -> None:
    petition = PetitionFactory()
    assert _sign(petition, 0).status_code == 302
    with mock.patch(
        "petitions.selectors.petition_get_public", side_effect=AssertionError("read again")
    ):
        assert _sign(petition, 1).status_code == 302
    assert petition.signatures.count() == 2


def test_a_closed_petition_refuses_signers_once_the_bucket_ends(signing_clock) -> None:
    petition = PetitionFactory()
    assert _sign(petition, 0).status_code == 302
    petition.status = "closed"
    petition.save(update_fields=["status"])

    signing_clock.return_value += 2
    assert _sign(petition, 1).status_code == 409
    assert petition.signatures.count() == 1


def test_a_page_never_shared_costs_no_cache_lookup(bucket) -> None:
    petition = PetitionFactory()
    with mock.patch.object(page_cache.cache, "get", side_effect=AssertionError("asked Redis")):
        assert Client().get("/en/privacy/").status_code == 200
        # The first reader of a shareable page renders it without asking Redis either...
        assert Client().get(_url(petition)).status_code == 200
    # ...and from then on the worker knows it is shared.
    assert page_cache._shared_paths == {f"page:testserver:{_url(petition)}"}
