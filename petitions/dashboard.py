"""Reads for an organization's dashboard of a petition it sponsors: how the campaign grows, where
its signatures come from and what it has sent. Figures only: no signer's name or address is on
the dashboard (supporters who opted in are a data steward's export, not this page).

The charts are drawn on the server (mechanisms.charts), so the page needs no JavaScript and loads
nothing from another host; the same numbers are in a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate, TruncHour
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Organization
from mechanisms.charts import Series, bar_series, day_start, last_days
from mechanisms.models import OutboundEmail
from petitions import emails, routing, selectors
from petitions.models import Delivery, Petition, PetitionUpdate, Response, Signature

HOURS_SHOWN = 48
DAYS_SHOWN = 60
AREAS_SHOWN = 15
# What a moderator took off the count.
REMOVED = (Signature.Status.REJECTED, Signature.Status.SPAM)


@dataclass(frozen=True)
class UpdateSent:
    update: PetitionUpdate
    sent: int
    waiting: int
    failed: int
    not_sent: int


@dataclass(frozen=True)
class Dashboard:
    petition: Petition
    organization: Organization
    confirmed: int
    pending: int
    held: int
    rejected: int
    hourly: Series
    daily: Series
    by_target: list[routing.TargetCount]
    by_area: list[tuple[str, str, int]]
    by_source: list[tuple[str, int]]
    updates: list[UpdateSent]
    deliveries: list[Delivery]
    responses: list[Response]


def petitions_of_organization(*, organization: Organization) -> list[Petition]:
    """The published petitions the organization sponsors, newest first."""
    return list(organization.sponsored_petitions.exclude(status=Petition.Status.DRAFT))


def petition_of_organization(*, organization: Organization, slug: str) -> Petition:
    """A petition the organization sponsors; a 404 for any other, so that whether it exists is
    not told to members of other organizations."""
    petition = organization.sponsored_petitions.filter(slug=slug).first()
    if petition is None or petition.status == Petition.Status.DRAFT:
        raise Http404
    return petition


def _confirmed(petition: Petition) -> Q:
    return Q(petition=petition, status=Signature.Status.CONFIRMED, held=False)


def signatures_hourly(*, petition: Petition, now: datetime | None = None) -> Series:
    """Confirmed signatures in each of the last HOURS_SHOWN hours (counted in UTC, so a change
    of clocks neither doubles nor drops an hour; labelled in the site's time zone)."""
    last = (now or timezone.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    periods = [last - timedelta(hours=back) for back in range(HOURS_SHOWN - 1, -1, -1)]
    rows = (
        Signature.objects.filter(_confirmed(petition), confirmed_at__gte=periods[0])
        .annotate(hour=TruncHour("confirmed_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("pk"))
    )
    counts: dict[datetime, int] = {row["hour"]: row["n"] for row in rows}
    return bar_series(counts=counts, periods=periods, label=_hour_label)


def _hour_label(period: datetime) -> str:
    return date_format(timezone.localtime(period), "j M H:i")


def _day_label(period: date) -> str:
    return date_format(period, "j M")


def signatures_daily(*, petition: Petition, now: datetime | None = None) -> Series:
    """Confirmed signatures on each of the last DAYS_SHOWN days, in the site's time zone."""
    periods = last_days(count=DAYS_SHOWN, now=now)
    start = day_start(periods[0])
    rows = (
        Signature.objects.filter(_confirmed(petition), confirmed_at__gte=start)
        .annotate(day=TruncDate("confirmed_at"))
        .values("day")
        .annotate(n=Count("pk"))
    )
    counts: dict[date, int] = {row["day"]: row["n"] for row in rows}
    return bar_series(counts=counts, periods=periods, label=_day_label)


def _updates_sent(petition: Petition) -> list[UpdateSent]:
    updates = list(petition.updates.filter(published_at__isnull=False))
    states: dict[str, dict[str, int]] = {}
    rows = (
        OutboundEmail.objects.filter(
            kind=emails.UPDATE.name, about__in=[str(update.pk) for update in updates]
        )
        .values("about", "state")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        states.setdefault(row["about"], {})[row["state"]] = row["n"]
    found = []
    for update in updates:
        by_state = states.get(str(update.pk), {})
        state = OutboundEmail.State
        found.append(
            UpdateSent(
                update=update,
                sent=by_state.get(state.SENT, 0),
                waiting=by_state.get(state.PENDING, 0) + by_state.get(state.SENDING, 0),
                failed=by_state.get(state.FAILED, 0),
                not_sent=by_state.get(state.DROPPED, 0),
            )
        )
    return found


def dashboard_get(
    *, organization: Organization, petition: Petition, now: datetime | None = None
) -> Dashboard:
    statuses = dict(
        Signature.objects.filter(petition=petition)
        .values("status")
        .annotate(n=Count("pk", filter=Q(held=False)))
        .values_list("status", "n")
    )
    held = Signature.objects.filter(petition=petition, held=True).count()
    areas = (
        Signature.objects.filter(_confirmed(petition))
        .exclude(region="")
        .values("country", "region")
        .annotate(n=Count("pk"))
        .order_by("-n", "country", "region")[:AREAS_SHOWN]
    )
    sources = (
        Signature.objects.filter(_confirmed(petition))
        .values("source__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "source__name")
    )
    return Dashboard(
        petition=petition,
        organization=organization,
        confirmed=statuses.get(Signature.Status.CONFIRMED, 0),
        pending=statuses.get(Signature.Status.PENDING, 0),
        held=held,
        rejected=statuses.get(Signature.Status.REJECTED, 0)
        + statuses.get(Signature.Status.SPAM, 0),
        hourly=signatures_hourly(petition=petition, now=now),
        daily=signatures_daily(petition=petition, now=now),
        by_target=routing.target_counts(
            petition=petition, targets=list(petition.targets.filter(active=True))
        ),
        by_area=[(str(row["country"]), row["region"], row["n"]) for row in areas],
        by_source=[(row["source__name"] or "", row["n"]) for row in sources],
        updates=_updates_sent(petition),
        deliveries=list(petition.deliveries.select_related("target").order_by("-created_at")[:20]),
        responses=selectors.responses_published(petition=petition),
    )
