"""Where a petition's signatures come from, as open data may tell it (petitions.open_data): an area
is given one by one only with 5 signatures or more (primary suppression), and what the given ones
leave of a total everyone knows is none or at least 5 (secondary suppression), at both levels:
the petition's exact total and its countries, and each given country and its regions. The page's
maps and the API read this and nothing else (tests/petitions/test_pictures.py and
tests/config/test_api.py check that they agree)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from petitions import open_data
from petitions.models import Petition
from petitions.open_data import SMALL_COUNT, AreaCount, areas_counted, parts_given
from tests.factories import PetitionFactory, SignatureFactory


def _sign(petition: Petition, n: int, *, country: str, region: str = "") -> None:
    for _ in range(n):
        SignatureFactory(petition=petition, confirmed=True, country=country, region=region)


def test_one_small_part_and_nothing_else_holds_back_the_smallest_given() -> None:
    # The review's example: 8 = California 6 + New York 2; New York would be 8 - 6.
    assert parts_given(total=8, parts={"CA": 6, "NY": 2}) == {}
    # The smallest given goes, however many there are; the others stay.
    assert parts_given(total=25, parts={"CA": 12, "TX": 6, "WA": 5, "NY": 2}) == {
        "CA": 12,
        "TX": 6,
    }
    # Two small parts are no safer together than one: 3 would still be only a few signers.
    assert parts_given(total=13, parts={"CA": 10, "NY": 2, "OR": 1}) == {}


def test_a_rest_of_none_or_of_five_or_more_holds_nothing_back() -> None:
    assert parts_given(total=11, parts={"CA": 6, "NY": 5}) == {"CA": 6, "NY": 5}
    # Signers of no known part (not among `parts`) are in the rest like a small part.
    assert parts_given(total=11, parts={"CA": 6, "NY": 2}) == {"CA": 6}
    assert parts_given(total=14, parts={"CA": 6, "NY": 4, "OR": 4}) == {"CA": 6}
    # Nothing given: the rest is the total, which was told already.
    assert parts_given(total=3, parts={"CA": 2, "NY": 1}) == {}


def test_ties_hold_back_the_same_part_every_time() -> None:
    assert parts_given(total=13, parts={"TX": 6, "CA": 6, "NY": 1}) == {"TX": 6}


@given(
    parts=st.dictionaries(st.sampled_from("ABCDEFGH"), st.integers(0, 40), max_size=8),
    unplaced=st.integers(0, 6),
)
def test_no_rest_of_one_to_four_is_ever_left(parts: dict[str, int], unplaced: int) -> None:
    total = sum(parts.values()) + unplaced
    shown = parts_given(total=total, parts=parts)
    rest = total - sum(shown.values())
    assert all(parts[key] == count >= SMALL_COUNT for key, count in shown.items())
    assert rest == 0 or rest >= SMALL_COUNT or not shown
    # Held back beyond the primary rule: one part at most, and only when it had to be.
    primary = {key for key, count in parts.items() if count >= SMALL_COUNT}
    held = primary - set(shown)
    assert len(held) <= 1
    primary_rest = total - sum(parts[key] for key in primary)
    assert bool(held) == (bool(primary) and 0 < primary_rest < SMALL_COUNT)


@pytest.mark.django_db
def test_two_levels_the_total_and_each_country() -> None:
    petition = PetitionFactory()
    _sign(petition, 7, country="US", region="CA")
    _sign(petition, 5, country="US", region="NY")
    _sign(petition, 2, country="US", region="OR")
    _sign(petition, 6, country="FR", region="IDF")
    _sign(petition, 1, country="IT")
    SignatureFactory(petition=petition, country="DE")  # pending: counted nowhere
    areas = areas_counted(petition=petition)
    assert areas.total == sum(n for _, n in open_data.history_daily(petition=petition)) == 21
    # 21 - 14 - 6 would be Italy's 1: France is held back. 14 - 7 - 5 would be Oregon's 2: New
    # York is held back.
    assert areas.countries == [AreaCount(country="US", region="", count=14)]
    assert areas.countries_rest == 7
    # A country held back gives no regions either (France's 6 in IDF would give France away).
    assert areas.regions == [AreaCount(country="US", region="CA", count=7)]
    assert areas.regions_rest == {"US": 7}
    assert open_data.counts_by_country(petition=petition) == areas.countries
    assert open_data.counts_by_region(petition=petition) == areas.regions


@pytest.mark.django_db
def test_signers_of_no_country_or_region_are_in_the_rest() -> None:
    petition = PetitionFactory()
    _sign(petition, 7, country="US", region="CA")
    _sign(petition, 5, country="US", region="NY")
    _sign(petition, 2, country="US", region="OR")
    _sign(petition, 3, country="US")  # no known state
    _sign(petition, 6, country="FR")
    _sign(petition, 1, country="IT")
    _sign(petition, 4, country="")  # no country
    areas = areas_counted(petition=petition)
    # Italy's 1 and the four of no country: 5, which tells of no one area.
    assert [(row.country, row.count) for row in areas.countries] == [("US", 17), ("FR", 6)]
    assert areas.countries_rest == 5
    assert [(row.region, row.count) for row in areas.regions] == [("CA", 7), ("NY", 5)]
    assert areas.regions_rest == {"US": 5, "FR": 6}


@pytest.mark.django_db
def test_no_area_with_fewer_than_five_is_listed_even_as_fewer() -> None:
    petition = PetitionFactory()
    _sign(petition, 3, country="US", region="CA")
    _sign(petition, 1, country="IT")
    areas = areas_counted(petition=petition)
    # A place with a few signers is not told apart from one with none, by a row or a None.
    assert areas.countries == [] and areas.regions == []
    assert areas.countries_rest == areas.total == 4
