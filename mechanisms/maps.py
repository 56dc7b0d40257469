"""Maps drawn on the server: counts by area as an SVG choropleth, for a template to write out
(templates/includes/choropleth.html) beside a table of the same numbers. The shapes ship with
Cosign as static SVG files (static/maps/, made by map_shapes/build.py from public-domain Natural
Earth and US Census Bureau boundaries; map_shapes/*.json index their areas): the page shades
and titles each area and draws its shape with <use href="/static/maps/...svg#CODE">, so a
reader's browser fetches the shapes once, from Cosign, for every map of every petition. No
tiles, no script, nothing from another host.

An area is given one by one only with `small` signatures or more, as open data gives them
(petitions.open_data decides which, so that no small count can be worked out by subtraction
either): every other area, with fewer, none or held back, is shaded and titled alike as "not
shown one by one", and the table counts them together in one "everywhere else" row."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

SHAPES_DIR = Path(__file__).resolve().parent / "map_shapes"
ShapesName = Literal["world", "us_states"]

# Shades: 0 not shown one by one (fewer than `small`, none, or held back: one shade, so that an
# area's first signer does not show), then one per band from `small` up to each of these
# (exclusive), and the last for anything larger. Bands by powers of ten read the same on a
# petition of fifty signatures and of a million, and the legend never changes meaning. (Shade 1,
# once "fewer than `small`", is no longer drawn.)
BAND_TOPS = (10, 100, 1_000, 10_000)
NONE_SHADE = 0
FIRST_BAND_SHADE = 2


@dataclass(frozen=True)
class Shape:
    code: str  # also the id of its path in the sprite
    name: str


@dataclass(frozen=True)
class Shapes:
    box: str
    areas: tuple[Shape, ...]
    source: str
    sprite: str  # the static file (for {% static %}) holding a path per area


@dataclass(frozen=True)
class MapArea:
    """One area as drawn: its shade and the words its <title> says."""

    code: str
    shade: int
    title: str


@dataclass(frozen=True)
class AreaRow:
    """One area given one by one, for the table."""

    code: str
    name: str
    count: int
    shown: str  # the count as words: "1,234"
    on_map: bool


@dataclass(frozen=True)
class LegendEntry:
    shade: int
    label: str


@dataclass(frozen=True)
class Choropleth:
    box: str
    sprite: str
    areas: list[MapArea]
    rows: list[AreaRow]
    legend: list[LegendEntry]
    rest: int  # the signatures of every area not in `rows`, together
    rest_shown: str


@cache
def shapes_load(name: ShapesName) -> Shapes:
    """The shipped shapes, read once per process."""
    data = json.loads((SHAPES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return Shapes(
        box=" ".join(f"{n:g}" for n in data["box"]),
        areas=tuple(Shape(code=a["code"], name=a["name"]) for a in data["areas"]),
        source=data["source"],
        sprite=data["sprite"],
    )


def _shade(count: int) -> int:
    return FIRST_BAND_SHADE + sum(1 for top in BAND_TOPS if count >= top)


def _legend(small: int) -> list[LegendEntry]:
    entries = [
        LegendEntry(shade=NONE_SHADE, label=_("Not shown one by one")),
    ]
    bottoms = (small, *BAND_TOPS)
    for index, bottom in enumerate(bottoms):
        if index < len(BAND_TOPS):
            label = _("%(low)s to %(high)s") % {
                "low": number_format(bottom, force_grouping=True),
                "high": number_format(BAND_TOPS[index] - 1, force_grouping=True),
            }
        else:
            label = _("%(low)s or more") % {"low": number_format(bottom, force_grouping=True)}
        entries.append(LegendEntry(shade=FIRST_BAND_SHADE + index, label=label))
    return entries


def count_words(count: int | None, *, small: int) -> str:
    """A count as a map or table says it: never exactly when under `small`."""
    if count is None or count < small:
        return _("fewer than %(small)s") % {"small": small}
    return number_format(count, force_grouping=True)


def _title(name: str, count: int | None) -> str:
    if count is None:
        return _("%(area)s: not shown one by one") % {"area": name}
    return ngettext("%(area)s: %(count)s signature", "%(area)s: %(count)s signatures", count) % {
        "area": name,
        "count": number_format(count, force_grouping=True),
    }


def choropleth_draw(
    *,
    shapes: Shapes,
    counts: Mapping[str, int],
    small: int,
    rest: int = 0,
    name: Callable[[str], str] | None = None,
) -> Choropleth:
    """Every shape shaded by its count in `counts` (by code: the areas given one by one; a code
    absent is "not shown one by one"), a legend of every shade, a table row for every area given,
    those the map cannot show too (small states), largest first, and `rest`, the signatures of
    all the others together. `name` gives an area's name from its code (translated names of
    countries); the shapes' own names otherwise."""
    # The caller gives only what open data may give; a count under `small` passed by mistake is
    # left out all the same, never shown.
    shown = {code: count for code, count in counts.items() if count >= small}
    drawn = {shape.code for shape in shapes.areas}
    names = {shape.code: shape.name for shape in shapes.areas}

    def name_of(code: str) -> str:
        return (name(code) if name else "") or names.get(code, code)

    areas = [
        MapArea(
            code=shape.code,
            shade=_shade(shown[shape.code]) if shape.code in shown else NONE_SHADE,
            title=_title(name_of(shape.code), shown.get(shape.code)),
        )
        for shape in shapes.areas
    ]
    rows = [
        AreaRow(
            code=code,
            name=name_of(code),
            count=count,
            shown=count_words(count, small=small),
            on_map=code in drawn,
        )
        for code, count in shown.items()
    ]
    rows.sort(key=lambda row: (-row.count, row.name))
    return Choropleth(
        box=shapes.box,
        sprite=shapes.sprite,
        areas=areas,
        rows=rows,
        legend=_legend(small),
        rest=rest,
        # Open data's rest is none or `small` at least; words, not a number, should one be less.
        rest_shown=count_words(rest, small=small) if rest else "0",
    )
