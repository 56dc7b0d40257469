"""A published petition's figures as open data (the public API, config.api): counts per target,
per country and per region, and its signing history by hour and by day. Only counts, and never a
count under SMALL_COUNT: a region with three signers would nearly name them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from petitions import routing
from petitions.models import Petition, Signature

# Below this, an area's count is given as "fewer than" it, never exactly.
SMALL_COUNT = 5
# The hourly history covers this many days back; the daily one the petition's whole life.
HOURLY_DAYS = 7


@dataclass(frozen=True)
class AreaCount:
    country: str
    region: str
    # None when fewer than SMALL_COUNT signed from there.
    count: int | None


def _confirmed(petition: Petition) -> Q:
    return Q(petition=petition, status=Signature.Status.CONFIRMED, held=False)


def count_shown(count: int) -> int | None:
    """A count as open data may give it: None under SMALL_COUNT."""
    return count if count >= SMALL_COUNT else None


def counts_by_country(*, petition: Petition) -> list[AreaCount]:
    rows = (
        Signature.objects.filter(_confirmed(petition))
        .exclude(country="")
        .values("country")
        .annotate(n=Count("pk"))
        .order_by("-n", "country")
    )
    return [
        AreaCount(country=str(row["country"]), region="", count=count_shown(row["n"]))
        for row in rows
    ]


def counts_by_region(*, petition: Petition) -> list[AreaCount]:
    rows = (
        Signature.objects.filter(_confirmed(petition))
        .exclude(region="")
        .values("country", "region")
        .annotate(n=Count("pk"))
        .order_by("-n", "country", "region")
    )
    return [
        AreaCount(country=str(row["country"]), region=row["region"], count=count_shown(row["n"]))
        for row in rows
    ]


def counts_by_target(*, petition: Petition) -> list[routing.TargetCount]:
    return routing.target_counts(
        petition=petition, targets=list(petition.targets.filter(active=True))
    )


def history_daily(*, petition: Petition) -> list[tuple[str, int]]:
    """(day, confirmed signatures) for every day that had any, oldest first, in the site's
    time zone."""
    rows = (
        Signature.objects.filter(_confirmed(petition))
        .annotate(day=TruncDate("confirmed_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    return [(row["day"].isoformat(), row["n"]) for row in rows]


def history_hourly(*, petition: Petition, now: datetime | None = None) -> list[tuple[str, int]]:
    """(hour in UTC, confirmed signatures) for every hour of the last HOURLY_DAYS that had any,
    oldest first."""
    since = (now or timezone.now()) - timedelta(days=HOURLY_DAYS)
    rows = (
        Signature.objects.filter(_confirmed(petition), confirmed_at__gte=since)
        .annotate(hour=TruncHour("confirmed_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("pk"))
        .order_by("hour")
    )
    return [(row["hour"].isoformat(), row["n"]) for row in rows]
