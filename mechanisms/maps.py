"""Maps drawn on the server: counts by area as an SVG choropleth, for a template to write out
(templates/includes/choropleth.html) beside a table of the same numbers. The shapes ship with
Cosign as static SVG files (static/maps/, made by map_shapes/build.py from public-domain Natural
Earth and US Census Bureau boundaries; map_shapes/*.json index their areas): the page shades
and titles each area and draws its shape with <use href="/static/maps/...svg#CODE">, so a
reader's browser fetches the shapes once, from Cosign, for every map of every petition. No
tiles, no script, nothing from another host.

A count under `small` is never given exactly, in any output: its area is shaded, titled and
tabled as "fewer than `small`", as open data gives it."""

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

# Shades: 0 no signature, 1 fewer than `small`, then one per band from `small` up to each of
# these (exclusive), and the last for anything larger. Bands by powers of ten read the same on a
# petition of fifty signatures and of a million, and the legend never changes meaning.
BAND_TOPS = (10, 100, 1_000, 10_000)
NONE_SHADE = 0
FEW_SHADE = 1


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
    """One area with signatures, for the table: `count` is None when fewer than `small`."""

    code: str
    name: str
    count: int | None
    shown: str  # the count as words: "1,234" or "fewer than 5"
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


def _shade(count: int | None) -> int:
    if count is None:
        return FEW_SHADE
    return FEW_SHADE + 1 + sum(1 for top in BAND_TOPS if count >= top)


def _legend(small: int) -> list[LegendEntry]:
    entries = [
        LegendEntry(shade=NONE_SHADE, label=_("None")),
        LegendEntry(shade=FEW_SHADE, label=_("Fewer than %(small)s") % {"small": small}),
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
        entries.append(LegendEntry(shade=FEW_SHADE + 1 + index, label=label))
    return entries


def count_words(count: int | None, *, small: int) -> str:
    """A count as a map or table says it: never exactly when under `small`."""
    if count is None or count < small:
        return _("fewer than %(small)s") % {"small": small}
    return number_format(count, force_grouping=True)


def _title(name: str, count: int | None, *, signed: bool, small: int) -> str:
    if not signed:
        return _("%(area)s: no signatures") % {"area": name}
    if count is None:
        return _("%(area)s: fewer than %(small)s signatures") % {"area": name, "small": small}
    return ngettext("%(area)s: %(count)s signature", "%(area)s: %(count)s signatures", count) % {
        "area": name,
        "count": number_format(count, force_grouping=True),
    }


def choropleth_draw(
    *,
    shapes: Shapes,
    counts: Mapping[str, int | None],
    small: int,
    name: Callable[[str], str] | None = None,
) -> Choropleth:
    """Every shape shaded by its count in `counts` (by code; None or anything under `small`
    stands for "fewer than `small`", a code absent for none), a legend of every shade, and a
    table row for every area with signatures, those the map cannot show too (small states),
    largest first. `name` gives an area's name from its code (translated names of countries);
    the shapes' own names otherwise."""
    # One rule wherever the numbers go: a count under `small` is None from here on.
    shown = {
        code: (count if count is not None and count >= small else None)
        for code, count in counts.items()
    }
    drawn = {shape.code for shape in shapes.areas}
    names = {shape.code: shape.name for shape in shapes.areas}

    def name_of(code: str) -> str:
        return (name(code) if name else "") or names.get(code, code)

    areas = [
        MapArea(
            code=shape.code,
            shade=_shade(shown[shape.code]) if shape.code in shown else NONE_SHADE,
            title=_title(
                name_of(shape.code),
                shown.get(shape.code),
                signed=shape.code in shown,
                small=small,
            ),
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
    rows.sort(key=lambda row: (-(row.count or 0), row.name))
    return Choropleth(
        box=shapes.box, sprite=shapes.sprite, areas=areas, rows=rows, legend=_legend(small)
    )
