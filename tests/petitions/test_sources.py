"""Where a signature came from: each sponsoring organization's share link (/p/<petition>/from/
<organization>/) puts the organization in the sign form, and the signature keeps it (issue 18,
item 3). It is in the path and the form, never a cookie, the same for every reader of that link,
and a hidden field that cannot make the form fail."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from mechanisms import page_cache
from petitions.models import Petition, Signature
from tests.factories import OrganizationFactory, PetitionFactory

pytestmark = pytest.mark.django_db

TYPED = {
    "name": "Maria Rossi",
    "email": "maria@example.org",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
}
SOURCE_INPUT = re.compile(r'<input type="hidden" name="source"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')


@pytest.fixture
def sponsored() -> Petition:
    petition = PetitionFactory()
    petition.sponsors.add(
        OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy"),
        OrganizationFactory(name="Media Alliance", slug="media-alliance"),
    )
    OrganizationFactory(name="Not a Sponsor", slug="not-a-sponsor")
    return petition


def _from_url(petition: Petition, source: str) -> str:
    return reverse("petitions:detail_from", kwargs={"slug": petition.slug, "source": source})


def _sign(client, petition: Petition, **extra: str):
    return client.post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}), {**TYPED, **extra}
    )


def _source_on(html: str) -> str:
    """The source the page's sign form would send ("" for none)."""
    found = SOURCE_INPUT.search(html)
    assert found, "the sign form carries no source field"
    value = VALUE.search(found.group(0))
    return value.group(1) if value else ""


def test_a_sponsors_link_shows_the_petition_with_its_source_in_the_form(client, sponsored) -> None:
    for slug in ("oakland-privacy", "media-alliance"):
        response = client.get(_from_url(sponsored, slug))
        assert response.status_code == 200
        html = response.content.decode()
        assert sponsored.title in html
        assert _source_on(html) == slug
        # The page's own link, for sharing and search engines, stays the petition's.
        assert (
            f'<link rel="canonical" href="http://127.0.0.1:8000{sponsored.get_absolute_url()}"'
            in (html)
        )
        assert "source" not in "".join(response.cookies)
    assert _source_on(client.get(sponsored.get_absolute_url()).content.decode()) == ""


def test_signing_through_a_sponsors_link_records_that_sponsor(
    client, sponsored, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign(client, sponsored, source="media-alliance")
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.source is not None and signature.source.name == "Media Alliance"


@pytest.mark.parametrize(
    "source", ["not-a-sponsor", "no-such-organization", "<script>", "a" * 101, "media-alliance\n"]
)
def test_a_source_that_is_not_a_sponsor_is_dropped_and_never_an_error(
    client, sponsored, source, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign(client, sponsored, source=source)
    assert response.status_code == 302
    assert Signature.objects.get().source is None


def test_signing_again_through_another_link_keeps_the_first_source(
    client, sponsored, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _sign(client, sponsored, source="oakland-privacy")
        again = _sign(client, sponsored, source="media-alliance")
    assert again.status_code == 302
    assert Signature.objects.get().source.slug == "oakland-privacy"


def test_a_link_naming_no_sponsor_goes_to_the_petition(client, sponsored) -> None:
    for slug in ("not-a-sponsor", "nobody"):
        response = client.get(_from_url(sponsored, slug))
        assert response.status_code == 302
        assert response["Location"] == sponsored.get_absolute_url()
    draft = PetitionFactory(status=Petition.Status.DRAFT)
    draft.sponsors.add(sponsored.sponsors.first())
    assert client.get(_from_url(draft, "oakland-privacy")).status_code == 404


def test_a_source_in_the_query_string_is_sent_to_the_sponsors_link(client, sponsored) -> None:
    response = client.get(f"{sponsored.get_absolute_url()}?source=media-alliance&utm_medium=x")
    assert response.status_code == 302
    assert response["Location"] == _from_url(sponsored, "media-alliance")
    # Anything but a slug is not a source: the page as it is, uncached (it has a query string).
    odd = client.get(f"{sponsored.get_absolute_url()}?source=%3Cscript%3E")
    assert odd.status_code == 200
    assert _source_on(odd.content.decode()) == ""


def test_each_link_has_its_own_cached_copy(client, sponsored, settings) -> None:
    """Anonymous readers share a copy of each link's page: a reader of the petition's own link
    never gets a copy that counts their signature for a sponsor, and the reverse."""
    settings.PETITION_PAGE_CACHE_SECONDS = 60
    cache.clear()
    page_cache._local.clear()
    for _ in range(3):
        assert _source_on(client.get(_from_url(sponsored, "media-alliance")).content.decode()) == (
            "media-alliance"
        )
        assert _source_on(client.get(sponsored.get_absolute_url()).content.decode()) == ""
        assert _source_on(client.get(_from_url(sponsored, "oakland-privacy")).content.decode()) == (
            "oakland-privacy"
        )
    assert any("/from/media-alliance/" in key for key in page_cache._local)
