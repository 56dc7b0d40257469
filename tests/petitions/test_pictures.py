"""Where a petition's signatures come from, on its public page (petitions.pictures): a chart of
signatures so far and maps by country and by US state, each with a table of the same numbers as
the public API: an area given one by one only with 5 signatures or more and only when no smaller
count could be worked out by subtraction (petitions.open_data), the others alike and counted
together, and the grouped scans behind them kept across renders of the page."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petitions import pictures
from petitions.models import Petition
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def _sign(petition: Petition, n: int, *, country: str, region: str = "", days_ago: int = 0):
    when = timezone.now() - timedelta(days=days_ago)
    for _ in range(n):
        SignatureFactory(
            petition=petition, confirmed=True, confirmed_at=when, country=country, region=region
        )


@pytest.fixture
def signed() -> Petition:
    petition = PetitionFactory(slug="end-ring")
    _sign(petition, 7, country="US", region="CA", days_ago=3)
    _sign(petition, 5, country="US", region="NY", days_ago=1)
    _sign(petition, 2, country="US", region="OR", days_ago=1)
    _sign(petition, 6, country="FR")
    _sign(petition, 1, country="IT")
    # Neither a pending nor a held signature is counted anywhere.
    SignatureFactory(petition=petition, country="DE")
    SignatureFactory(petition=petition, confirmed=True, held=True, country="ES")
    # As the batched counter leaves it: the pictures wait for the public count.
    Petition.objects.filter(pk=petition.pk).update(signature_count=21)
    petition.refresh_from_db()
    return petition


def _section(html: str, id: str) -> str:
    found = re.search(rf'<figure class="picture" id="{id}">(.*?)</figure>', html, re.S)
    assert found, id
    return found.group(1)


def _table(section: str) -> list[tuple[str, ...]]:
    body = re.search(r"<tbody>(.*?)</tbody>", section, re.S)
    assert body
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        tuple(
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        )
        for row in rows
    ]


def test_a_petition_without_signatures_has_no_empty_chart(client) -> None:
    petition = PetitionFactory()
    SignatureFactory(petition=petition)  # pending: not yet a signature anyone counts
    html = client.get(petition.get_absolute_url()).content.decode()
    assert 'id="pictures"' not in html
    assert "Where the signatures come from" not in html


def test_a_new_petition_page_costs_no_scan_and_no_cache_lookup(client, signed) -> None:
    Petition.objects.filter(pk=signed.pk).update(signature_count=0)
    with (
        mock.patch.object(pictures.cache, "get", side_effect=AssertionError("asked Redis")),
        CaptureQueriesContext(connection) as queries,
    ):
        html = client.get(signed.get_absolute_url()).content.decode()
    assert 'id="pictures"' not in html
    assert not any("GROUP BY" in q["sql"] for q in queries.captured_queries)


def test_the_maps_shade_every_area_and_title_it(client, signed) -> None:
    html = client.get(signed.get_absolute_url()).content.decode()
    world = _section(html, "pictures-world")
    states = _section(html, "pictures-us-states")
    # Every area is shaded and titled here, its shape the path of its id in the static sprite.
    areas = re.findall(
        r'<g class="map-shade-\d" data-area="(\w+)"><title>[^<]+</title><use href="([^"]+)"/></g>',
        world,
    )
    assert len(areas) >= 170
    assert all(href == f"/static/maps/world.svg#{code}" for code, href in areas)
    areas = re.findall(
        r'<g class="map-shade-\d" data-area="(\w+)"><title>[^<]+</title><use href="([^"]+)"/></g>',
        states,
    )
    assert len(areas) == 51
    assert ("CA", "/static/maps/us-states.svg#CA") in areas
    # Pictures with a name a screen reader reads: the caption and a summary in words.
    assert re.search(
        r'<svg class="picture-map" viewBox="[^"]+" role="img" '
        r'aria-labelledby="pictures-world-caption pictures-world-summary"',
        world,
    )
    assert 'data-area="US"><title>United States of America: 14 signatures</title>' in world
    assert '<g class="map-shade-3" data-area="US">' in world  # 10 to 99
    # Italy (1) and Germany (none, a pending signature) look alike; France (6) is held back, or
    # the total (21) less the United States (14) and France would give Italy's 1.
    for code, country in [("FR", "France"), ("IT", "Italy"), ("DE", "Germany"), ("ES", "Spain")]:
        assert (
            f'<g class="map-shade-0" data-area="{code}"><title>{country}: not shown one by one'
            "</title>"
        ) in world
    assert 'data-area="CA"><title>California: 7 signatures</title>' in states
    # New York (5) is held back, or the United States (14) less California and New York would
    # give Oregon's 2.
    for code, state in [("NY", "New York"), ("OR", "Oregon"), ("TX", "Texas")]:
        assert (
            f'<g class="map-shade-0" data-area="{code}"><title>{state}: not shown one by one'
            "</title>"
        ) in states
    assert "1 place shown one by one; the most signatures from California (7)." in states
    # The legend says each shade in words; none and a few are one shade.
    assert "Not shown one by one</li>" in states and "5 to 9</li>" in states
    assert "Fewer than 5" not in states and "None</li>" not in states


def test_the_tables_give_the_same_numbers_as_the_api(client, signed) -> None:
    html = client.get(signed.get_absolute_url()).content.decode()
    api = client.get("/api/v1/petitions/end-ring/").json()
    countries = _table(_section(html, "pictures-world"))
    # Two levels of subtraction, the same on the page and in the API: the total (21) less the
    # countries given, and the United States (14) less the states given, each leave 7.
    assert countries == [("United States of America", "14"), ("Everywhere else, or not given", "7")]
    by_country = {row["country"]: row["signatures"] for row in api["by_country"]}
    assert by_country == {"US": 14}
    assert api["signature_count"] - sum(by_country.values()) == 7
    states = _table(_section(html, "pictures-us-states"))
    assert states == [("California", "7"), ("Everywhere else, or not given", "7")]
    by_region = {row["region"]: row["signatures"] for row in api["by_region"]}
    assert by_region == {"CA": 7}


def test_small_counts_appear_nowhere_on_the_page_exactly(client, signed) -> None:
    html = client.get(signed.get_absolute_url()).content.decode()
    pictures = html[html.index('id="pictures"') :]
    pictures = pictures[: pictures.index("</section>")]
    # Oregon (2) and Italy (1), nor New York (5) and France (6) that would give them away, are
    # given anywhere: not in a title, nor in a table row.
    assert not re.search(r"(Oregon|Italy|New York|France)\W{0,40}\d", pictures)
    assert "Oregon</th>" not in pictures and "Italy</th>" not in pictures
    assert pictures.count("not shown one by one") >= 2 * 50  # every other state and country


def test_the_timeline_counts_confirmed_signatures_day_by_day(client, signed) -> None:
    html = client.get(signed.get_absolute_url()).content.decode()
    timeline = _section(html, "pictures-timeline")
    assert re.search(r'role="img" aria-labelledby="pictures-timeline-caption', timeline)
    rows = _table(timeline)
    assert [row[1:] for row in rows] == [("7", "7"), ("7", "14"), ("7", "21")]
    assert "21 signatures from" in timeline
    # Axes labelled in the picture: counts up to a round 50, and the first and last days.
    assert re.findall(
        r'text-anchor="end" dominant-baseline="middle">([\d,]+)</text>', timeline
    ) == [
        "0",
        "25",
        "50",
    ]
    assert len(re.findall(r'<text class="picture-label"[^>]*>\d+/\d+/\d+</text>', timeline)) == 2


def test_the_pictures_need_no_inline_style_or_script(client, signed) -> None:
    response = client.get(signed.get_absolute_url())
    html = response.content.decode()
    pictures = html[
        html.index('id="pictures"') : html.index("</section>", html.index('id="pictures"'))
    ]
    assert " style=" not in pictures and "<style" not in pictures and "<script" not in pictures
    assert "style-src 'self'" in response["Content-Security-Policy"]
    assert "/static/css/pictures.css" in html


def test_country_names_follow_the_page_language(client, signed) -> None:
    # Four signers who gave no country make the rest 5 (Italy's 1 and theirs): France is given.
    _sign(signed, 4, country="")
    html = client.get(f"/it/p/{signed.slug}/").content.decode()
    world = _section(html, "pictures-world")
    assert ("Francia", "6") in _table(world)
    assert _table(world)[-1][1] == "5"  # everywhere else, together


def test_the_grouped_scans_are_kept_across_renders(client, signed) -> None:
    url = signed.get_absolute_url()
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with (
        CaptureQueriesContext(connection) as second,
        mock.patch.object(pictures, "choropleth_draw") as drawn,
    ):
        client.get(url)
    # Nor are the maps drawn again: the pictures' HTML is kept too.
    drawn.assert_not_called()
    again = {q["sql"] for q in second.captured_queries}
    only_first = [q["sql"] for q in first.captured_queries if q["sql"] not in again]
    # Places (countries and regions together) and days, scanned once; the rest of the page
    # reads what it read.
    assert len(only_first) == 2
    assert all("GROUP BY" in sql and '"petitions_signature"' in sql for sql in only_first)
    assert len(second.captured_queries) == len(first.captured_queries) - 2


def test_signatures_show_once_the_kept_numbers_expire(client, signed) -> None:
    url = signed.get_absolute_url()
    client.get(url)
    _sign(signed, 9, country="DE")
    # Kept: the new country is not drawn yet (the pictures show a trend, PICTURES_TTL_SECONDS old).
    assert "Germany: not shown one by one" in client.get(url).content.decode()
    cache.delete_many(
        [f"petitions:pictures:v2:{signed.pk}", f"petitions:pictures-html:v2:{signed.pk}:en"]
    )
    assert "Germany: 9 signatures" in client.get(url).content.decode()
