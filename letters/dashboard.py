"""Reads for a lead organization's dashboard of its open letter: who co-signs, how individual
signers grow, what was sent. Figures only: no individual signer's name or address (the public
letter shows those who chose to be shown)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils.formats import date_format

from accounts.models import Organization
from letters.models import (
    IndividualSignature,
    LetterDelivery,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from mechanisms.charts import Series, bar_series, day_start, last_days
from petitions.question_tallies import QuestionTally, campaign_question_tallies

DAYS_SHOWN = 60


@dataclass(frozen=True)
class LetterDashboard:
    letter: OpenLetter
    organization: Organization
    # (status shown, how many) for each status, in the statuses' order.
    organizations: list[tuple[str, int]]
    statements: list[tuple[str, int]]
    individuals: list[tuple[str, int]]
    individuals_held: int
    daily: Series
    updates: list[LetterUpdate]
    deliveries: list[LetterDelivery]
    # How many confirmed individual signers gave each answer to the letter's choice questions.
    question_tallies: list[QuestionTally]


def letters_of_organization(*, organization: Organization) -> list[OpenLetter]:
    """The letters the organization leads, past their draft, newest first."""
    return list(
        organization.led_letters.exclude(status=OpenLetter.Status.DRAFT).order_by("-created_at")
    )


def letter_of_organization(*, organization: Organization, slug: str) -> OpenLetter:
    """A letter the organization leads; a 404 for any other, so that members of other
    organizations learn nothing of it."""
    letter = organization.led_letters.filter(slug=slug).first()
    if letter is None or letter.status == OpenLetter.Status.DRAFT:
        raise Http404
    return letter


def _by_status(rows: QuerySet[Any], choices: Sequence[tuple[str, Any]]) -> list[tuple[str, int]]:
    counts = dict(rows.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    return [(str(label), counts.get(value, 0)) for value, label in choices]


def individuals_daily(*, letter: OpenLetter, now: datetime | None = None) -> Series:
    """Individual signers confirmed on each of the last DAYS_SHOWN days, in the site's time
    zone; held ones are not counted, as on the letter."""
    periods = last_days(count=DAYS_SHOWN, now=now)
    start = day_start(periods[0])
    rows = (
        IndividualSignature.objects.filter(
            letter=letter,
            status=IndividualSignature.Status.CONFIRMED,
            held=False,
            confirmed_at__gte=start,
        )
        .annotate(day=TruncDate("confirmed_at"))
        .values("day")
        .annotate(n=Count("pk"))
    )
    counts: dict[date, int] = {row["day"]: row["n"] for row in rows}
    return bar_series(counts=counts, periods=periods, label=lambda day: date_format(day, "j M"))


def letter_dashboard_get(
    *, organization: Organization, letter: OpenLetter, now: datetime | None = None
) -> LetterDashboard:
    individuals = IndividualSignature.objects.filter(letter=letter)
    return LetterDashboard(
        letter=letter,
        organization=organization,
        organizations=_by_status(
            OrganizationSignature.objects.filter(letter=letter),
            OrganizationSignature.Status.choices,
        ),
        statements=_by_status(
            Statement.objects.filter(signature__letter=letter), Statement.Status.choices
        ),
        individuals=_by_status(individuals.filter(held=False), IndividualSignature.Status.choices),
        individuals_held=individuals.filter(held=True).count(),
        daily=individuals_daily(letter=letter, now=now),
        updates=list(letter.updates.order_by("-published_at")),
        deliveries=list(
            LetterDelivery.objects.filter(letter=letter)
            .select_related("target")
            .order_by("-created_at")[:20]
        ),
        question_tallies=campaign_question_tallies(
            model=IndividualSignature, owner="letter", campaign=letter
        ),
    )
