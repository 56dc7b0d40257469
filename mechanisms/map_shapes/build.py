"""Makes the map shapes Cosign ships (static/maps/*.svg, and the index of their areas in
world.json and us_states.json beside this file) from the
TopoJSON of the npm packages world-atlas 2 (Natural Earth 1:110m countries, public domain) and
us-atlas 3 (US Census Bureau cartographic boundaries, public domain; states-albers-10m, already
projected with Alaska and Hawaii inset). Run by hand when the shapes should change, never at run
time, and nothing at run time fetches anything:

    npm pack world-atlas@2 us-atlas@3   # then untar both
    python mechanisms/map_shapes/build.py countries-110m.json states-albers-10m.json

It decodes each shared border once, simplifies it (Douglas-Peucker, ends kept, so neighbours
still meet), projects the world with Equal Earth, and writes one SVG path per area, keyed by
ISO 3166-1 alpha-2 code or US postal code, with coordinates rounded to a tenth of a unit.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[1] / "static" / "maps"

Point = tuple[float, float]

# FIPS state codes (us-atlas ids) to postal codes, which Signature.region holds.
US_STATES = {
    "01": ("AL", "Alabama"), "02": ("AK", "Alaska"), "04": ("AZ", "Arizona"),
    "05": ("AR", "Arkansas"), "06": ("CA", "California"), "08": ("CO", "Colorado"),
    "09": ("CT", "Connecticut"), "10": ("DE", "Delaware"), "11": ("DC", "District of Columbia"),
    "12": ("FL", "Florida"), "13": ("GA", "Georgia"), "15": ("HI", "Hawaii"),
    "16": ("ID", "Idaho"), "17": ("IL", "Illinois"), "18": ("IN", "Indiana"),
    "19": ("IA", "Iowa"), "20": ("KS", "Kansas"), "21": ("KY", "Kentucky"),
    "22": ("LA", "Louisiana"), "23": ("ME", "Maine"), "24": ("MD", "Maryland"),
    "25": ("MA", "Massachusetts"), "26": ("MI", "Michigan"), "27": ("MN", "Minnesota"),
    "28": ("MS", "Mississippi"), "29": ("MO", "Missouri"), "30": ("MT", "Montana"),
    "31": ("NE", "Nebraska"), "32": ("NV", "Nevada"), "33": ("NH", "New Hampshire"),
    "34": ("NJ", "New Jersey"), "35": ("NM", "New Mexico"), "36": ("NY", "New York"),
    "37": ("NC", "North Carolina"), "38": ("ND", "North Dakota"), "39": ("OH", "Ohio"),
    "40": ("OK", "Oklahoma"), "41": ("OR", "Oregon"), "42": ("PA", "Pennsylvania"),
    "44": ("RI", "Rhode Island"), "45": ("SC", "South Carolina"), "46": ("SD", "South Dakota"),
    "47": ("TN", "Tennessee"), "48": ("TX", "Texas"), "49": ("UT", "Utah"),
    "50": ("VT", "Vermont"), "51": ("VA", "Virginia"), "53": ("WA", "Washington"),
    "54": ("WV", "West Virginia"), "55": ("WI", "Wisconsin"), "56": ("WY", "Wyoming"),
    "72": ("PR", "Puerto Rico"),
}  # fmt: skip


def _arcs(topology: dict[str, Any]) -> list[list[Point]]:
    scale = topology["transform"]["scale"]
    translate = topology["transform"]["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        decoded.append(points)
    return decoded


def _simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker, iteratively; the first and last points always stay."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = math.hypot(x2 - x1, y2 - y1)
        worst, worst_at = 0.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length:
                distance = abs((x2 - x1) * (y1 - py) - (x1 - px) * (y2 - y1)) / length
            else:
                distance = math.hypot(px - x1, py - y1)
            if distance > worst:
                worst, worst_at = distance, i
        if worst > tolerance:
            keep[worst_at] = True
            stack += [(first, worst_at), (worst_at, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def _equal_earth(point: Point, width: float) -> Point:
    """Equal Earth (Šavrič, Patterson, Jenny 2018), scaled so the world is `width` across."""
    a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
    lon, lat = math.radians(point[0]), math.radians(point[1])
    theta = math.asin(math.sqrt(3) / 2 * math.sin(lat))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    slope = a1 + 3 * a2 * t2 + t6 * (7 * a3 + 9 * a4 * t2)
    x = 2 * lon * math.cos(theta) / (math.sqrt(3) * slope)
    y = theta * (a1 + a2 * t2 + t6 * (a3 + a4 * t2))
    # x spans +-2.7066 at the equator; y spans +-1.3173.
    factor = width / (2 * 2.70663)
    return (width / 2 + x * factor, 1.31733 * factor - y * factor)


def _rings(geometry: dict[str, Any]) -> list[list[int]]:
    if geometry["type"] == "Polygon":
        return list(geometry["arcs"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["arcs"] for ring in polygon]
    return []


def _ring_points(ring: list[int], arcs: list[list[Point]]) -> list[Point]:
    points: list[Point] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _antimeridian_cut(ring: list[Point]) -> list[list[Point]]:
    """A ring that crosses longitude 180 (Fiji, the tip of Russia) as its western and eastern
    parts, each closed along the meridian; any other ring as it is. Only for lon/lat rings."""
    if not any(abs(a[0] - b[0]) > 180 for a, b in itertools.pairwise(ring)):
        return [ring]
    west: list[Point] = []
    east: list[Point] = []
    for lon, lat in ring:
        if lon == -180 or lon == 180:
            west.append((-180, lat))
            east.append((180, lat))
        else:
            (west if lon < 0 else east).append((lon, lat))
    return [part for part in (west, east) if len(part) >= 3]


def _ring_area(points: list[Point]) -> float:
    closed = [*points, points[0]]
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(closed))) / 2


def _path(rings: list[list[Point]]) -> str:
    """Relative moves and lines with a tenth of a unit's precision: the shortest honest text."""
    parts = []
    x0 = y0 = 0
    for ring in rings:
        quantized = [(round(x * 10), round(y * 10)) for x, y in ring]
        deduped = [p for i, p in enumerate(quantized) if i == 0 or p != quantized[i - 1]]
        if len(deduped) < 3:
            continue
        x, y = deduped[0]
        steps = [f"m{_n(x - x0)} {_n(y - y0)}"]
        for px, py in deduped[1:]:
            steps.append(f"{_n(px - x)} {_n(py - y)}")
            x, y = px, py
        parts.append(steps[0] + "l" + " ".join(steps[1:]) + "z")
        # After "z" the current point is the ring's start.
        x0, y0 = deduped[0]
    return "".join(parts).replace(" -", "-")


def _n(tenths: int) -> str:
    text = f"{abs(tenths) / 10:.1f}".removesuffix(".0").removeprefix("0")
    return ("-" if tenths < 0 else "") + (text or "0")


def _shapes(
    topology: dict[str, Any],
    *,
    layer: str,
    key: Any,
    project: Any,
    tolerance: float,
    min_area: float,
) -> list[dict[str, str]]:
    raw = _arcs(topology)
    # Simplified as drawn (projected), kept unprojected until rings are cut at the antimeridian.
    kept = [set(_simplify([project(p) for p in arc], tolerance)) for arc in raw]
    arcs = [[p for p in arc if project(p) in keep] for arc, keep in zip(raw, kept, strict=True)]
    names: dict[str, str] = {}
    rings_of: dict[str, list[list[Point]]] = {}
    for geometry in topology["objects"][layer]["geometries"]:
        found = key(geometry)
        if found is None:
            continue
        code, name = found
        # A feature without a name of its own (Somaliland) only adds its rings to its country.
        if name:
            names[code] = name
        rings_of.setdefault(code, []).extend(
            [project(p) for p in part]
            for ring in _rings(geometry)
            for part in _antimeridian_cut(_ring_points(ring, arcs))
        )
    areas = []
    for code, rings in sorted(rings_of.items()):
        largest = max((_ring_area(r) for r in rings), default=0)
        # Specks (small islands) cost bytes and show nothing; an area's largest ring stays.
        drawn = [r for r in rings if _ring_area(r) >= min(min_area, largest)]
        areas.append({"code": code, "name": names[code], "d": _path(drawn)})
    return areas


def main(world_path: str, states_path: str) -> None:
    import django
    from django.conf import settings

    settings.configure(USE_I18N=False)
    django.setup()
    from django_countries import countries

    width = 960.0
    world = json.loads(Path(world_path).read_text())

    def country(geometry: dict[str, Any]) -> tuple[str, str] | None:
        name = geometry["properties"]["name"]
        if name == "Antarctica":
            return None  # no signer lives there; it would take a fifth of the map
        # Natural Earth draws these apart, without an ISO code; signers there choose the
        # country ISO 3166 places them in, so their shapes join that country's.
        assigned = {"Kosovo": ("XK", name), "N. Cyprus": ("CY", ""), "Somaliland": ("SO", "")}
        if name in assigned:
            return assigned[name]
        code = countries.alpha2(geometry.get("id") or "")
        return (code, name) if code else None

    world_areas = _shapes(
        world,
        layer="countries",
        key=country,
        project=lambda p: _equal_earth(p, width),
        tolerance=1.0,
        min_area=4.0,
    )
    # Antarctica is left out: crop the box to the southernmost land drawn.
    top, bottom = _equal_earth((0, 84), width)[1], _equal_earth((0, -56), width)[1]
    _write(
        "world",
        source="Natural Earth 1:110m countries (public domain), via world-atlas 2.0.2",
        box=[0, round(top, 1), width, round(bottom - top, 1)],
        areas=world_areas,
    )

    states = json.loads(Path(states_path).read_text())

    def state(geometry: dict[str, Any]) -> tuple[str, str] | None:
        return US_STATES.get(geometry["id"])

    _write(
        "us-states",
        source="US Census Bureau cartographic boundaries (public domain), "
        "via us-atlas 3.0.1 states-albers-10m",
        box=[0, 0, 975, 610],
        areas=_shapes(
            states, layer="states", key=state, project=lambda p: p, tolerance=1.0, min_area=2.0
        ),
    )


def _write(name: str, *, source: str, box: list[float], areas: list[dict[str, str]]) -> None:
    """The shapes as a static SVG whose paths pages reference by code (<use href="...#CA">), so
    a browser fetches them once for every map of every petition; and their codes, names and box
    for the server, which draws the maps."""
    sprite = STATIC / f"{name}.svg"
    view_box = " ".join(f"{n:g}" for n in box)
    paths = "".join(f'<path id="{area["code"]}" d="{area["d"]}"/>' for area in areas)
    sprite.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="{view_box}"><title>{source}</title>{paths}</svg>\n'
    )
    index = HERE / f"{name.replace('-', '_')}.json"
    index.write_text(
        json.dumps(
            {
                "source": source,
                "box": box,
                "sprite": f"maps/{name}.svg",
                "areas": [{"code": a["code"], "name": a["name"]} for a in areas],
            },
            indent=0,
        )
        + "\n"
    )
    print(f"{sprite.name}: {sprite.stat().st_size} bytes, {len(areas)} areas")


if __name__ == "__main__":
    main(*sys.argv[1:3])
