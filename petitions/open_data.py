"""A published petition's figures as open data (the public API, config.api, and the maps on its
page, petitions.pictures): counts per target, per country and per region, and its signing history
by hour and by day. Only counts, and never one that tells of fewer than SMALL_COUNT signers: a
region with three signers would nearly name them.

Where the signatures come from follows one rule of statistical disclosure control, so that no
small number can be worked out by subtraction either (areas_counted):
- primary suppression: an area is given one by one only with SMALL_COUNT signatures or more.
  Areas with fewer and areas with none are left out alike, so that neither an area's first
  signer nor its lack of any shows;
- secondary suppression: every total is exact (the petition's, which its page and history give,
  and each country's given), so what its given parts leave over, total - sum(given), is known
  to anyone. That rest must be none or at least SMALL_COUNT; while it is 1 to SMALL_COUNT - 1,
  the smallest given part is held back too (left out like the others), and the rest grows by it.
Countries are the parts of the petition's total (with the signers who gave no country in the
rest), and a given country's regions the parts of its count (with its signers of no known
region); a country held back gives no regions."""

from __future__ import annotations

from collections.abc import Mapping
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
    count: int  # never under SMALL_COUNT


@dataclass(frozen=True)
class Areas:
    """What may be told of where a petition's confirmed signatures come from."""

    total: int  # every confirmed signature, as the daily history adds up to
    countries: list[AreaCount]  # given one by one, largest first
    regions: list[AreaCount]  # given one by one, largest first, only of given countries
    # total - the given countries: none, or at least SMALL_COUNT.
    countries_rest: int
    # For each given country, its count - its given regions: none, or at least SMALL_COUNT.
    regions_rest: dict[str, int]


def _confirmed(petition: Petition) -> Q:
    return Q(petition=petition, status=Signature.Status.CONFIRMED, held=False)


def count_shown(count: int) -> int | None:
    """A count as open data may give it: None under SMALL_COUNT."""
    return count if count >= SMALL_COUNT else None


def parts_given(*, total: int, parts: Mapping[str, int]) -> dict[str, int]:
    """Which of `total`'s parts may be given exactly: those of SMALL_COUNT or more (primary
    suppression), less the smallest of them while what the given ones leave of `total` is 1 to
    SMALL_COUNT - 1 (secondary suppression), since anyone can work that rest out and it would
    tell of so few signers. Smallest means fewest signatures, then the code, so that the same
    counts always hold back the same part. A rest equal to `total` (nothing given) is `total`
    itself, already told."""
    given = {key: count for key, count in parts.items() if count >= SMALL_COUNT}
    rest = total - sum(given.values())
    while given and 0 < rest < SMALL_COUNT:
        smallest = min(given, key=lambda key: (given[key], key))
        rest += given.pop(smallest)
    return given


def areas_counted(*, petition: Petition) -> Areas:
    """Where `petition`'s confirmed signatures come from, as open data may tell it (the rule is
    the module's): one grouped scan."""
    rows = (
        Signature.objects.filter(_confirmed(petition))
        .values("country", "region")
        .annotate(n=Count("pk"))
        .order_by()
    )
    total = 0
    by_country: dict[str, int] = {}
    by_region: dict[str, dict[str, int]] = {}
    for row in rows:
        country, region, n = str(row["country"] or ""), str(row["region"] or ""), int(row["n"])
        total += n
        if not country:
            continue
        by_country[country] = by_country.get(country, 0) + n
        if region:
            by_region.setdefault(country, {})[region] = n
    countries = parts_given(total=total, parts=by_country)
    regions: list[AreaCount] = []
    regions_rest: dict[str, int] = {}
    for country, count in countries.items():
        given = parts_given(total=count, parts=by_region.get(country, {}))
        regions += [
            AreaCount(country=country, region=region, count=n) for region, n in given.items()
        ]
        regions_rest[country] = count - sum(given.values())
    return Areas(
        total=total,
        countries=sorted(
            (AreaCount(country=code, region="", count=n) for code, n in countries.items()),
            key=lambda row: (-row.count, row.country),
        ),
        regions=sorted(regions, key=lambda row: (-row.count, row.country, row.region)),
        countries_rest=total - sum(countries.values()),
        regions_rest=regions_rest,
    )


def counts_by_country(*, petition: Petition) -> list[AreaCount]:
    return areas_counted(petition=petition).countries


def counts_by_region(*, petition: Petition) -> list[AreaCount]:
    return areas_counted(petition=petition).regions


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
