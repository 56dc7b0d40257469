"""Each target receives its own constituents' signatures: routing by level and place."""

from __future__ import annotations

import pytest

from petitions import routing
from petitions.models import Signature, Target
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def _target(level: str, **place) -> Target:
    return Target.objects.create(name="Office", title=f"{level} {place}", level=level, **place)


@pytest.fixture
def petition():
    petition = PetitionFactory()
    places = [
        ("US", "CA", "Oakland", True),
        ("US", "CA", "oakland", True),  # typed differently, the same city
        ("US", "CA", "San Francisco", True),
        ("US", "NY", "New York", True),
        ("IT", "RM", "Roma", True),
        ("US", "", "", False),  # postal code not found: no region or locality
    ]
    for country, region, locality, known in places:
        SignatureFactory(
            petition=petition,
            confirmed=True,
            counted=True,
            country=country,
            region=region,
            locality=locality,
            postal_code_known=known,
        )
    SignatureFactory(petition=petition, country="US", region="CA", locality="Oakland")  # pending
    SignatureFactory(confirmed=True, country="US", region="CA", locality="Oakland")  # elsewhere
    return petition


@pytest.mark.parametrize(
    ("level", "place", "expected"),
    [
        (Target.Level.LOCAL, {"country": "US", "region": "ca", "locality": "OAKLAND"}, 2),
        (Target.Level.LOCAL, {"country": "US", "region": "CA", "locality": "Fresno"}, 0),
        (Target.Level.STATE, {"country": "US", "region": "CA"}, 3),
        (Target.Level.NATIONAL, {"country": "US"}, 5),
        (Target.Level.NATIONAL, {"country": "IT"}, 1),
        (Target.Level.COMPANY, {}, 6),
        (Target.Level.INTERNATIONAL, {}, 6),
    ],
)
def test_each_level_receives_its_own_constituents(petition, level, place, expected) -> None:
    target = _target(level, **place)
    assert routing.constituents(petition_id=petition.pk, target=target).count() == expected
    (row,) = routing.target_counts(petition=petition, targets=[target])
    assert row.count == expected


def test_an_unknown_postal_code_reaches_national_and_company_targets_only(petition) -> None:
    unknown = Signature.objects.get(petition=petition, postal_code_known=False)
    national = _target(Target.Level.NATIONAL, country="US")
    state = _target(Target.Level.STATE, country="US", region="CA")
    assert (
        routing.constituents(petition_id=petition.pk, target=national)
        .filter(pk=unknown.pk)
        .exists()
    )
    assert (
        not routing.constituents(petition_id=petition.pk, target=state)
        .filter(pk=unknown.pk)
        .exists()
    )


def test_counts_for_many_targets_take_one_query_and_come_largest_first(
    petition, django_assert_num_queries
) -> None:
    targets = [
        _target(Target.Level.LOCAL, country="US", region="CA", locality="San Francisco"),
        _target(Target.Level.LOCAL, country="US", region="CA", locality="Oakland"),
        _target(Target.Level.STATE, country="US", region="NY"),
    ]
    with django_assert_num_queries(1):
        rows = routing.target_counts(petition=petition, targets=targets)
    assert [(row.target.locality or row.target.region, row.count) for row in rows] == [
        ("Oakland", 2),
        ("San Francisco", 1),  # equal counts by title: "local ..." before "state ..."
        ("NY", 1),
    ]


def test_area_count_is_the_signers_own_locality(petition) -> None:
    oakland = Signature.objects.filter(petition=petition, locality="Oakland").first()
    assert routing.area_count(signature=oakland) == 2
    unknown = Signature.objects.get(petition=petition, postal_code_known=False)
    assert routing.area_count(signature=unknown) is None


def test_target_counts_include_only_what_the_public_count_includes(petition) -> None:
    """A confirmed signature the batched counter has not added yet counts nowhere yet."""
    Signature.objects.filter(petition=petition).update(counted=False)
    target = _target(Target.Level.COMPANY)
    (row,) = routing.target_counts(petition=petition, targets=[target])
    assert row.count == 0


def test_one_word_names_shown_short_reveal_only_an_initial() -> None:
    for name, shown in [("山田太郎", "山."), ("Doe,Jane", "D."), ("Maria Rossi", "Maria R.")]:
        assert Signature(name=name, display=Signature.Display.SHORT).public_name == shown
