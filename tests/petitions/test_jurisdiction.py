from __future__ import annotations

import pytest

from petitions import services
from petitions.jurisdiction import Place, postal_code_resolve
from petitions.models import PostalArea, Signature
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db

OAKLAND = Place(country="US", region="CA", locality="Oakland")


@pytest.fixture
def berlin_mitte() -> PostalArea:
    return PostalArea.objects.create(
        country="DE", postal_code="10115", region="BE", locality="Berlin"
    )


def test_us_zip_code_resolves_offline() -> None:
    assert postal_code_resolve(country="US", postal_code="94612") == OAKLAND


def test_zip_plus_four_resolves_to_its_zip_code() -> None:
    assert postal_code_resolve(country="US", postal_code="94612-1234") == OAKLAND


def test_zip_code_without_a_country_is_taken_as_american() -> None:
    assert postal_code_resolve(country="", postal_code=" 94612 ") == OAKLAND
    assert postal_code_resolve(country="", postal_code="94612-1234") == OAKLAND


def test_unknown_zip_code_gives_no_place() -> None:
    assert postal_code_resolve(country="US", postal_code="00000") is None


def test_malformed_us_code_gives_no_place() -> None:
    assert postal_code_resolve(country="US", postal_code="9461") is None
    assert postal_code_resolve(country="US", postal_code="SW1A 1AA") is None


def test_other_countries_resolve_from_postal_areas(berlin_mitte) -> None:
    assert postal_code_resolve(country="DE", postal_code="10115") == Place(
        country="DE", region="BE", locality="Berlin"
    )
    # Without a country, five digits are taken for a US ZIP code (10115 is in New York).
    assert postal_code_resolve(country="", postal_code="10115") == Place(
        country="US", region="NY", locality="New York"
    )
    assert postal_code_resolve(country="FR", postal_code="10115") is None


def test_postal_areas_match_ignoring_case_and_extra_spaces() -> None:
    PostalArea.objects.create(country="GB", postal_code="SW1A 1AA", region="ENG", locality="London")
    assert postal_code_resolve(country="gb", postal_code="  sw1a   1aa ") == Place(
        country="GB", region="ENG", locality="London"
    )


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [
        ("US", ""),
        ("", ""),
        ("", "ABC"),
        ("US", "ABC"),
        ("DE", "9" * 5000),
        ("US", "9" * 5000),
        ("DE", "10115\x00"),
        ("US", "94612\x00"),
        ("US", "٩٤٦١٢"),  # Arabic-Indic digits
        ("JP", "〒100-0001"),
        ("DE", "ß-straße 😀"),
        ("ZZZZ", "10115"),
        ("'; DROP TABLE", "10115"),
        (None, "94612x"),
    ],
)
def test_odd_input_gives_no_place_and_never_raises(berlin_mitte, country, postal_code) -> None:
    assert postal_code_resolve(country=country, postal_code=postal_code) is None


def test_confirming_stores_the_signers_place() -> None:
    signature = SignatureFactory(country="US", postal_code="94612")
    confirmed = services.signature_confirm(signature_id=signature.pk)
    assert confirmed.status == Signature.Status.CONFIRMED
    assert (confirmed.region, confirmed.locality) == ("CA", "Oakland")
    assert confirmed.postal_code_known is True


def test_confirming_a_zip_code_without_country_sets_the_country() -> None:
    signature = SignatureFactory(country="", postal_code="94612-1234")
    confirmed = services.signature_confirm(signature_id=signature.pk)
    assert confirmed.country == "US"
    assert (confirmed.region, confirmed.locality) == ("CA", "Oakland")
    assert confirmed.postal_code == "94612-1234"


def test_confirming_stores_a_place_from_postal_areas(berlin_mitte) -> None:
    signature = SignatureFactory(country="DE", postal_code="10115")
    confirmed = services.signature_confirm(signature_id=signature.pk)
    assert (confirmed.country, confirmed.region, confirmed.locality) == ("DE", "BE", "Berlin")
    assert confirmed.postal_code_known is True


def test_confirming_an_unknown_postal_code_keeps_it_and_flags_it() -> None:
    signature = SignatureFactory(country="FR", postal_code="75001", region="X", locality="Y")
    confirmed = services.signature_confirm(signature_id=signature.pk)
    assert confirmed.status == Signature.Status.CONFIRMED
    assert confirmed.postal_code == "75001"
    assert confirmed.country == "FR"
    assert (confirmed.region, confirmed.locality) == ("", "")
    assert confirmed.postal_code_known is False


def test_confirming_a_garbage_postal_code_is_not_an_error() -> None:
    signature = SignatureFactory(country="", postal_code="call me!")
    confirmed = services.signature_confirm(signature_id=signature.pk)
    assert confirmed.status == Signature.Status.CONFIRMED
    assert confirmed.postal_code_known is False
    assert confirmed.country == ""


def test_confirming_without_a_postal_code_leaves_it_unknown() -> None:
    signature = SignatureFactory(country="US", postal_code="")
    confirmed = services.signature_confirm(signature_id=signature.pk)
    assert confirmed.status == Signature.Status.CONFIRMED
    assert confirmed.postal_code_known is None
    assert (confirmed.region, confirmed.locality) == ("", "")


def test_confirming_twice_does_not_look_the_place_up_again() -> None:
    signature = SignatureFactory(country="US", postal_code="94612")
    services.signature_confirm(signature_id=signature.pk)
    Signature.objects.filter(pk=signature.pk).update(locality="Corrected by staff")
    again = services.signature_confirm(signature_id=signature.pk)
    assert again.locality == "Corrected by staff"


@pytest.mark.parametrize(
    ("country", "stored", "typed"),
    [("GB", "SW1A 1AA", "sw1a1aa"), ("NL", "1012 AB", "1012AB"), ("GB", "SW1A 1AA", "SW1A 1AA")],
)
def test_a_code_typed_without_its_space_still_resolves(country, stored, typed) -> None:
    PostalArea.objects.create(country=country, postal_code=stored, region="R", locality="Town")
    place = postal_code_resolve(country=country, postal_code=typed)
    assert place is not None and place.locality == "Town"
