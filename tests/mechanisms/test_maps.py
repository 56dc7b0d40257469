"""Maps and the running-total line drawn on the server (mechanisms.maps, mechanisms.charts):
every shipped area is drawn, shaded by its band; an area not given one by one looks like any
other (none and a few alike), and a count under the small-count threshold is never given
exactly: not in a title, the legend, a table row or the "everywhere else" row."""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree

import pytest
from django.contrib.staticfiles import finders

from mechanisms.charts import cumulative_line, nice_ceiling
from mechanisms.maps import (
    FIRST_BAND_SHADE,
    NONE_SHADE,
    choropleth_draw,
    count_words,
    shapes_load,
)

SMALL = 5
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("name", "some", "how_many"),
    [("world", {"US", "FR", "IT", "BR", "CN", "AU", "ZA", "IN"}, 170), ("us_states", set(), 51)],
)
def test_the_shipped_sprite_has_a_path_for_every_area(name, some, how_many) -> None:
    shapes = shapes_load(name)
    codes = [shape.code for shape in shapes.areas]
    assert len(set(codes)) == len(codes) >= how_many
    assert some <= set(codes)
    assert "public domain" in shapes.source
    # The static file the pages' <use> elements point into: one closed path per area, in the
    # same box as the maps that use it.
    sprite = ElementTree.parse(finders.find(shapes.sprite)).getroot()  # noqa: S314 (our own file)
    assert sprite.get("viewBox") == shapes.box
    paths = {path.get("id"): path.get("d") for path in sprite.iter(f"{SVG}path")}
    assert sorted(paths) == sorted(codes)
    for code, d in paths.items():
        assert re.fullmatch(r"(m[-\d. ]+l[-\d. ]+z)+", d or ""), code
    # Shaded by the page: a path with a fill or stroke of its own would ignore the shade.
    assert not any(path.get("fill") or path.get("style") for path in sprite.iter(f"{SVG}path"))


def test_us_states_are_keyed_by_postal_code() -> None:
    codes = {shape.code for shape in shapes_load("us_states").areas}
    assert {"CA", "NY", "TX", "AK", "HI", "DC"} <= codes
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)


def test_areas_are_shaded_by_band_and_the_others_look_alike() -> None:
    drawn = choropleth_draw(
        shapes=shapes_load("us_states"),
        counts={"CA": 1234, "NY": 12, "OR": 3, "VI": 7},
        small=SMALL,
        rest=9,
    )
    by_code = {area.code: area for area in drawn.areas}
    assert len(by_code) == len(shapes_load("us_states").areas)
    assert by_code["CA"].shade == FIRST_BAND_SHADE + 3  # 1,000 to 9,999
    assert by_code["NY"].shade == FIRST_BAND_SHADE + 1  # 10 to 99
    # An area with none, and one with a small count given by mistake, look alike.
    assert by_code["WA"].shade == by_code["OR"].shade == NONE_SHADE
    assert by_code["CA"].title == "California: 1,234 signatures"
    assert by_code["OR"].title == "Oregon: not shown one by one"
    assert by_code["WA"].title == "Washington: not shown one by one"
    rows = [(row.name, row.shown, row.on_map) for row in drawn.rows]
    # Largest first; an area without a shape (the Virgin Islands) is in the table all the same.
    assert rows == [("California", "1,234", True), ("New York", "12", True), ("VI", "7", False)]
    assert (drawn.rest, drawn.rest_shown) == (9, "9")


def test_small_counts_never_appear_as_numbers_anywhere() -> None:
    drawn = choropleth_draw(
        shapes=shapes_load("world"),
        counts={"FR": 1, "IT": 2, "DE": 3, "ES": 4},
        small=SMALL,
        rest=3,  # not what open data gives (none or 5 at least), and still no number
        name=lambda code: {"FR": "France", "IT": "Italy"}.get(code, ""),
    )
    words = [area.title for area in drawn.areas] + [drawn.rest_shown]
    words += [row.shown for row in drawn.rows] + [entry.label for entry in drawn.legend]
    assert not any(re.search(r"(?<![\d,])[1-4](?![\d,])", text) for text in words)
    assert drawn.rows == []
    assert drawn.rest_shown == "fewer than 5"
    assert "France: not shown one by one" in words
    # Names come from `name`, and from the shapes where it gives none.
    titles = {area.code: area.title for area in drawn.areas}
    assert titles["DE"] == "Germany: not shown one by one"


def test_legend_says_every_band_in_words() -> None:
    drawn = choropleth_draw(shapes=shapes_load("world"), counts={"FR": 50}, small=SMALL)
    assert [(entry.shade, entry.label) for entry in drawn.legend] == [
        (0, "Not shown one by one"),
        (2, "5 to 9"),
        (3, "10 to 99"),
        (4, "100 to 999"),
        (5, "1,000 to 9,999"),
        (6, "10,000 or more"),
    ]
    assert (drawn.rest, drawn.rest_shown) == (0, "0")


def test_count_words() -> None:
    assert count_words(None, small=SMALL) == "fewer than 5"
    assert count_words(4, small=SMALL) == "fewer than 5"
    assert count_words(5, small=SMALL) == "5"
    assert count_words(12345, small=SMALL) == "12,345"


def test_running_total_starts_from_zero_the_day_before() -> None:
    chart = cumulative_line(
        daily=[(date(2026, 5, 1), 3), (date(2026, 5, 2), 0), (date(2026, 5, 4), 9)]
    )
    assert chart is not None
    assert [(row.day, row.count, row.total) for row in chart.rows] == [
        (date(2026, 5, 1), 3, 3),
        (date(2026, 5, 4), 9, 12),
    ]
    assert chart.total == 12
    # The axis ends on a round number above the total; ticks at zero, half and the top.
    assert [tick.value for tick in chart.y_ticks] == [0, 10, 20]
    assert chart.y_ticks[0].at == chart.bottom and chart.y_ticks[-1].at == chart.top
    # From the day before the first (at the left edge, at zero) to the last day (right edge).
    assert [tick.value for tick in chart.x_ticks] == [date(2026, 4, 30), date(2026, 5, 4)]
    assert chart.line.startswith(f"M{chart.left:g} {chart.bottom:g} ")
    points = [tuple(map(float, p.split())) for p in chart.line[1:].split(" L")]
    assert points[-1] == (chart.right, round(chart.bottom - (chart.bottom - chart.top) * 0.6, 1))
    # Days apart by their dates, not by their order: a day of nothing still takes room.
    assert points[1][0] == pytest.approx(chart.left + (chart.right - chart.left) / 4, abs=0.1)
    assert chart.area.endswith("Z")


def test_nothing_to_draw_is_no_chart() -> None:
    assert cumulative_line(daily=[]) is None
    assert cumulative_line(daily=[(date(2026, 5, 1), 0)]) is None


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (999, 1000), (2001, 5000)]
)
def test_nice_ceiling(value, ceiling) -> None:
    assert nice_ceiling(value) == ceiling
