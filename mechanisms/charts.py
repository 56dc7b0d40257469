"""Bar charts drawn on the server: counts per period as SVG geometry in a 0-100 box, for a
template to write out (templates/includes/chart.html) beside a table of the same numbers. No
script, nothing from another host; any app's dashboard can draw one."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from django.utils import timezone


@dataclass(frozen=True)
class Bar:
    """One period's bar, in the chart's 0-100 box (x and width across, y and height down)."""

    label: str
    count: int
    x: float
    width: float
    y: float
    height: float


@dataclass(frozen=True)
class Series:
    """A count per period, oldest first, and their bars."""

    periods: list[tuple[str, int]]
    bars: list[Bar]
    most: int
    total: int


P = TypeVar("P", bound=Hashable)


def bar_series(
    *, counts: Mapping[P, int], periods: Sequence[P], label: Callable[[P], str]
) -> Series:
    """Bars for `periods` (every one, zero when `counts` has none), scaled to the largest."""
    most = max((counts.get(period, 0) for period in periods), default=0)
    width = 100 / max(len(periods), 1)
    bars = []
    for index, period in enumerate(periods):
        count = counts.get(period, 0)
        height = 100 * count / most if most else 0.0
        bars.append(
            Bar(
                label=label(period),
                count=count,
                # A tenth of each slot left empty, so neighbouring bars stay apart.
                x=round(index * width + width * 0.05, 3),
                width=round(width * 0.9, 3),
                y=round(100 - height, 3),
                height=round(height, 3),
            )
        )
    return Series(
        periods=[(bar.label, bar.count) for bar in bars],
        bars=bars,
        most=most,
        total=sum(bar.count for bar in bars),
    )


def last_days(*, count: int, now: datetime | None = None) -> list[date]:
    """The last `count` days in the site's time zone, oldest first, today last."""
    today = timezone.localdate(now)
    return [today - timedelta(days=back) for back in range(count - 1, -1, -1)]


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time()))
