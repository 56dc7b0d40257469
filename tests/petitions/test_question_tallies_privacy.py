"""Organizations see a petition's answer tallies beside its public list of signers: a tally must
never let them match an answer to a person (petitions.question_tallies)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Organization
from petitions.models import Petition, Signature, SponsorOptIn
from petitions.question_tallies import question_tallies
from tests.factories import OrganizationFactory, PetitionFactory
from tests.petitions.test_questions import RESIDENT, TRAVEL, _signed, ask

pytestmark = pytest.mark.django_db


@pytest.fixture
def sponsor() -> Organization:
    return OrganizationFactory()


@pytest.fixture
def petition(sponsor) -> Petition:
    petition = PetitionFactory(status=Petition.Status.OPEN)
    petition.sponsors.add(sponsor)
    return petition


def _tallies(petition: Petition) -> list:
    return question_tallies(petition=petition, organization=petition.sponsors.get())


def _confirmed(days_ago: float) -> dict[str, object]:
    return {
        "status": Signature.Status.CONFIRMED,
        "confirmed_at": timezone.now() - timedelta(days=days_ago),
    }


def _sign_many(
    petition: Petition, answers: list[dict[str, object]], days_ago: float, opt_in: bool = True
) -> None:
    """Confirmed signers, each opted in to the petition's sponsor unless `opt_in` is False."""
    for answer in answers:
        email = f"s{Signature.objects.count()}@example.org"
        signature = _signed(petition, email, answer, **_confirmed(days_ago))
        if opt_in:
            SponsorOptIn.objects.create(signature=signature, organization=petition.sponsors.get())


def test_one_more_signer_moves_no_tally_until_five_have_signed(petition) -> None:
    (resident,) = ask(petition, RESIDENT)
    _sign_many(petition, [{resident.key: True}] * 6 + [{resident.key: False}] * 4, days_ago=3)
    before = _tallies(petition)[0]
    assert before.answered == 10
    # Zed signs and answers "no"; the next day the tally has not moved: he is one of the next five.
    _sign_many(petition, [{resident.key: False}], days_ago=1)
    after = _tallies(petition)[0]
    assert (after.answered, after.series.periods) == (before.answered, before.series.periods)
    # Four more, and the tally moves by five people at once.
    _sign_many(petition, [{resident.key: True}] * 4, days_ago=1)
    moved = _tallies(petition)[0]
    assert moved.answered == 15
    assert moved.series.periods == [("yes", 10), ("no", 5)]


def test_signers_of_today_wait_for_tomorrow(petition) -> None:
    (resident,) = ask(petition, RESIDENT)
    _sign_many(petition, [{resident.key: True}] * 5, days_ago=0)
    assert _tallies(petition)[0].answered == 0
    assert _tallies(petition)[0].rows == [("yes", None), ("no", None)]


def test_a_lone_hidden_answer_takes_the_next_smallest_with_it(petition) -> None:
    travel, _resident = ask(petition, TRAVEL, RESIDENT)
    # Bus 7, Bike 5, Car 3 of 15: Car alone under five would be 15 - 7 - 5.
    answers = [{travel.key: "1"}] * 7 + [{travel.key: "2"}] * 5 + [{travel.key: "3"}] * 3
    _sign_many(petition, answers, days_ago=2)
    tally = {t.key: t for t in _tallies(petition)}[travel.key]
    assert tally.answered == 15
    assert tally.rows == [("Bus", 7), ("Bike", None), ("Car", None)]


def test_zero_reads_as_fewer_than_five_too(petition) -> None:
    (resident,) = ask(petition, RESIDENT)
    _sign_many(petition, [{resident.key: True}] * 10, days_ago=2)
    tally = _tallies(petition)[0]
    # "no" (0) hidden, and then "yes" with it: 10 - "fewer than 5" would say too much.
    assert tally.rows == [("yes", None), ("no", None)]


def test_only_the_sponsors_own_supporters_are_counted(petition) -> None:
    """A sponsor that signs four times itself cannot single out a stranger's answer: strangers
    who did not opt in to it are not in its tallies at all."""
    (resident,) = ask(petition, RESIDENT)
    _sign_many(petition, [{resident.key: True}] * 5, days_ago=2)
    _sign_many(petition, [{resident.key: False}] * 5, days_ago=2, opt_in=False)
    tally = _tallies(petition)[0]
    assert tally.answered == 5
    assert tally.series.periods == [("yes", 5), ("no", 0)]
    # Another organization's dashboard counts none of them.
    assert question_tallies(petition=petition, organization=OrganizationFactory())[0].answered == 0
