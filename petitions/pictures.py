"""Where a petition's signatures come from, as pictures on its public page: signatures so far by
day, and maps of the counts by country and by US state. The numbers are the open data's
(petitions.open_data, as the public API gives them): an area is given one by one only as open
data's rule allows (SMALL_COUNT signers or more, and never so that a smaller count could be
worked out by subtraction), and all the others are counted together, on the page exactly as in
the API; the drawing is the bottom layer's (mechanisms.charts, mechanisms.maps).

The page is the hot read path: its copy is rendered once per PETITION_PAGE_CACHE_SECONDS, and the
pictures' HTML (per language) and the two grouped scans behind it are kept in the cache for
PICTURES_TTL_SECONDS across those renders, so a viral petition's signatures are scanned, and its
maps drawn, at most that often."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django_countries import countries

from mechanisms.charts import LineChart, cumulative_line
from mechanisms.maps import Choropleth, choropleth_draw, shapes_load
from petitions import open_data
from petitions.models import Petition

# How old the pictures may be: they show a trend, not the count (which the page shows fresh).
PICTURES_TTL_SECONDS = 60


@dataclass(frozen=True)
class Pictures:
    timeline: LineChart
    world: Choropleth | None
    us_states: Choropleth | None
    small: int


@dataclass(frozen=True)
class _Numbers:
    """What the cache keeps: counts only, of the areas open data gives one by one, and the rest
    of each map together."""

    daily: list[tuple[str, int]]
    countries: dict[str, int]
    countries_rest: int
    us_states: dict[str, int]
    us_rest: int


def _numbers(petition: Petition) -> _Numbers:
    key = f"petitions:pictures:v2:{petition.pk}"
    numbers = cache.get(key)
    if isinstance(numbers, _Numbers):
        return numbers
    areas = open_data.areas_counted(petition=petition)
    states: dict[str, int] = {}
    for row in areas.regions:
        # Largest first: a region stored in two spellings keeps its larger count.
        if row.country == "US":
            states.setdefault(row.region.upper(), row.count)
    numbers = _Numbers(
        daily=open_data.history_daily(petition=petition),
        countries={row.country: row.count for row in areas.countries},
        countries_rest=areas.countries_rest,
        us_states=states,
        us_rest=areas.regions_rest.get("US", 0),
    )
    cache.set(key, numbers, PICTURES_TTL_SECONDS)
    return numbers


def _country_name(code: str) -> str:
    return str(countries.name(code))


def petition_pictures(*, petition: Petition) -> Pictures | None:
    """The pictures of `petition`'s confirmed signatures, in the active language; None before
    the first (no empty chart). A map is left out when it would give no area one by one."""
    if not petition.signature_count:
        # Nothing counted yet: no scan, not even a cache lookup, for a new petition's page.
        return None
    numbers = _numbers(petition)
    timeline = cumulative_line(
        daily=[(date.fromisoformat(day), count) for day, count in numbers.daily]
    )
    if timeline is None:
        return None
    small = open_data.SMALL_COUNT
    world = (
        choropleth_draw(
            shapes=shapes_load("world"),
            counts=numbers.countries,
            small=small,
            rest=numbers.countries_rest,
            name=_country_name,
        )
        if numbers.countries
        else None
    )
    us_states = (
        choropleth_draw(
            shapes=shapes_load("us_states"),
            counts=numbers.us_states,
            small=small,
            rest=numbers.us_rest,
        )
        if numbers.us_states
        else None
    )
    return Pictures(timeline=timeline, world=world, us_states=us_states, small=small)


def petition_pictures_html(*, petition: Petition) -> SafeString:
    """The pictures as the page shows them (templates/petitions/includes/pictures.html), at most
    PICTURES_TTL_SECONDS old; empty before the first counted signature."""
    if not petition.signature_count:
        return SafeString("")
    key = f"petitions:pictures-html:v2:{petition.pk}:{get_language()}"
    html = cache.get(key)
    if not isinstance(html, str):
        html = render_to_string(
            "petitions/includes/pictures.html", {"pictures": petition_pictures(petition=petition)}
        )
        cache.set(key, html, PICTURES_TTL_SECONDS)
    # Our own template's output, its every value escaped when it was rendered.
    return mark_safe(html)  # noqa: S308
