"""Charts drawn on the server: bar charts of counts per period as SVG geometry in a 0-100 box, for
a template to write out (templates/includes/chart.html) beside a table of the same numbers, and a
line of the running total by day (templates/includes/line_chart.html). No script, nothing from
another host; any app's page can draw one."""

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


# The line chart's box, in SVG user units: the plot between these edges, labels outside them.
LINE_WIDTH = 480
LINE_HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 60.0, 468.0, 12.0, 184.0


@dataclass(frozen=True)
class Tick:
    """A labelled place on an axis: `at` is its x (dates) or y (counts) in the box."""

    value: date | int
    at: float


@dataclass(frozen=True)
class DayRow:
    day: date
    count: int
    total: int


@dataclass(frozen=True)
class LineChart:
    """Signatures so far, day by day: the line and the area under it as SVG path data in a
    LINE_WIDTH x LINE_HEIGHT box, the axes' ticks, and the rows of the same numbers."""

    width: int
    height: int
    line: str
    area: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    rows: list[DayRow]
    total: int
    left: float = _LEFT
    right: float = _RIGHT
    top: float = _TOP
    bottom: float = _BOTTOM
    # Where the counts' labels end (left of the plot) and the dates' labels sit (below it).
    label_x: float = _LEFT - 6
    label_y: float = _BOTTOM + 24


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 or 5 times a power of ten that is at least `value` (and 1 at least):
    an axis that ends on a round number."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def cumulative_line(*, daily: Sequence[tuple[date, int]]) -> LineChart | None:
    """The running total of `daily` (day, count; oldest first, days without any may be left
    out), from zero the day before the first; None when there is nothing to draw."""
    days = [(day, count) for day, count in daily if count > 0]
    if not days:
        return None
    rows = []
    total = 0
    for day, count in days:
        total += count
        rows.append(DayRow(day=day, count=count, total=total))
    start = days[0][0] - timedelta(days=1)
    span = max((days[-1][0] - start).days, 1)
    top = nice_ceiling(total)

    def x(day: date) -> float:
        return round(_LEFT + (_RIGHT - _LEFT) * (day - start).days / span, 1)

    def y(count: int) -> float:
        return round(_BOTTOM - (_BOTTOM - _TOP) * count / top, 1)

    points = [(x(start), y(0))] + [(x(row.day), y(row.total)) for row in rows]
    line = "M" + " L".join(f"{px:g} {py:g}" for px, py in points)
    area = f"{line} L{points[-1][0]:g} {_BOTTOM:g} L{points[0][0]:g} {_BOTTOM:g} Z"
    x_ticks = [Tick(value=start, at=x(start)), Tick(value=rows[-1].day, at=x(rows[-1].day))]
    y_ticks = [Tick(value=value, at=y(value)) for value in sorted({0, top // 2, top})]
    return LineChart(
        width=LINE_WIDTH,
        height=LINE_HEIGHT,
        line=line,
        area=area,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        rows=rows,
        total=total,
    )
