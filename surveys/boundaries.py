"""Boundary points 界址点 and lines 界址线 of a survey result, in the county plane.

Points: every vertex of the proposed parcels, one point per position (to the millimetre), so a point
shared by adjacent parcels is one point. Numbering walks the parcels in order (by code, then by their
place in the file); each ring clockwise from the vertex nearest its north-west corner; a point keeps the
first number it gets (J1, J2, …).

Lines: each parcel's ring cut at its points into segments; a segment's neighbour is whatever lies along
it within 5 cm (a registry parcel outside the task, or another proposed parcel); consecutive segments
along the same neighbour make one line. The neighbouring right holder (PLDWQLR) is the household holding
that parcel's current contract (core.ports "parcel_holders"). A line between two proposed parcels
is made once.

A T-junction (a neighbour's vertex on this parcel's edge, not at one of its own vertices) becomes a
point too (`with_junctions`), so that the line to one neighbour ends where the next one begins.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from core.ports import resolve_subjects
from spatial.measure import STORAGE_SRID
from spatial.services import measure_srid_for

from .models import ProposedParcel, SurveyTask, SurveyUpload
from .validate import projector, registry_in_plane, registry_near

NEIGHBOUR_M = 0.05


def _key(x: float, y: float) -> tuple[int, int]:
    return round(x * 1000), round(y * 1000)


@dataclass
class Point:
    jzdh: str
    x: float  # easting
    y: float  # northing
    parcels: set[int] = field(default_factory=set)


@dataclass
class Line:
    parcel: int  # ProposedParcel.index
    points: list[tuple[int, int]]  # keys of the points along it, in order
    neighbour: tuple[str, Any] | None  # ("registry", dkbm) | ("proposed", index) | None

    def geom(self, points: dict[tuple[int, int], Point]) -> shapely.LineString:
        return shapely.LineString([(points[k].x, points[k].y) for k in self.points])


def _rings_clockwise_from_nw(geom: BaseGeometry) -> list[list[tuple[float, float]]]:
    rings = []
    for poly in getattr(geom, "geoms", [geom]):
        oriented = shapely.geometry.polygon.orient(poly, sign=-1.0)  # exterior clockwise
        for ring in [oriented.exterior, *oriented.interiors]:
            coords = list(ring.coords)[:-1]
            minx, _miny, _maxx, maxy = ring.bounds
            start = min(range(len(coords)), key=lambda i: (coords[i][0] - minx) ** 2 + (coords[i][1] - maxy) ** 2)
            rings.append(coords[start:] + coords[:start])
    return rings


def with_junctions(geom: BaseGeometry, others: list[BaseGeometry], tolerance: float = NEIGHBOUR_M) -> BaseGeometry:
    """`geom` with the other parcels' vertices that lie on its edges (within `tolerance`, not at its own
    vertices) put into its rings, each snapped onto the edge: where a neighbour's boundary meets this one
    (a T-junction) becomes a boundary point, and a line can end there. The shape does not change."""
    if not others:
        return geom
    candidates = shapely.points(shapely.get_coordinates(shapely.GeometryCollection(list(others))))
    polys = []
    for poly in getattr(geom, "geoms", [geom]):
        rings = []
        for ring in [poly.exterior, *poly.interiors]:
            coords = list(ring.coords)[:-1]
            out: list[tuple[float, float]] = []
            for a, b in zip(coords, coords[1:] + coords[:1], strict=True):
                out.append(a)
                edge = shapely.LineString([a, b])
                near = candidates[shapely.distance(candidates, edge) <= tolerance]
                ends = shapely.points([a, b])
                inner = [
                    c
                    for c in near
                    if shapely.distance(c, ends[0]) > tolerance and shapely.distance(c, ends[1]) > tolerance
                ]
                for at in sorted({round(edge.project(c), 4) for c in inner}):
                    out.append(edge.interpolate(at).coords[0])
            rings.append(out)
        polys.append(shapely.Polygon(rings[0], rings[1:]))
    return shapely.MultiPolygon(polys)


@dataclass
class Boundaries:
    points: dict[tuple[int, int], Point]
    lines: list[Line]
    holders: dict[str, dict[str, Any]]  # dkbm → {"holder", "cbfbm"}
    parcel_holder: dict[int, str]  # proposed index → the dkbm whose holder holds it


def boundaries_of(upload: SurveyUpload, task: SurveyTask) -> Boundaries:
    plane = measure_srid_for(task.county_code)
    to_plane = projector(STORAGE_SRID, plane)
    parcels: list[ProposedParcel] = sorted(upload.parcels.all(), key=lambda p: (p.dkbm or "~", p.index))
    planes = {p.index: to_plane(shapely.from_wkb(bytes(p.geom.wkb))) for p in parcels}

    union_4490 = shapely.union_all([shapely.from_wkb(bytes(p.geom.wkb)) for p in parcels])
    registry = [(code, geom) for code, _scmj, geom in registry_near(union_4490, list(task.dkbms), plane)]
    planes = {
        p.index: with_junctions(
            planes[p.index], [g for _, g in registry] + [planes[q.index] for q in parcels if q.index != p.index]
        )
        for p in parcels
    }

    points: dict[tuple[int, int], Point] = {}
    rings_of: dict[int, list[list[tuple[int, int]]]] = {}
    for p in parcels:
        rings_of[p.index] = []
        for ring in _rings_clockwise_from_nw(planes[p.index]):
            keys = []
            for x, y in ring:
                k = _key(x, y)
                if k not in points:
                    points[k] = Point(f"J{len(points) + 1}", x, y)
                points[k].parcels.add(p.index)
                keys.append(k)
            rings_of[p.index].append(keys)

    lines: list[Line] = []
    seen: set[tuple[frozenset[tuple[int, int]], frozenset[int]]] = set()
    for p in parcels:
        others: list[tuple[tuple[str, Any], BaseGeometry]] = [(("registry", c), g.boundary) for c, g in registry]
        others += [(("proposed", q.index), planes[q.index].boundary) for q in parcels if q.index != p.index]
        for keys in rings_of[p.index]:
            segs = []
            for a, b in zip(keys, keys[1:] + keys[:1], strict=True):
                mid = shapely.Point((points[a].x + points[b].x) / 2, (points[a].y + points[b].y) / 2)
                near = next((who for who, edge in others if edge.distance(mid) <= NEIGHBOUR_M), None)
                segs.append((a, b, near))
            # start where the neighbour changes, so that a run is not split at the ring's start
            cut = next((i for i in range(len(segs)) if segs[i][2] != segs[i - 1][2]), 0)
            segs = segs[cut:] + segs[:cut]
            run: list[tuple[int, int]] = []
            for i, (a, b, near) in enumerate(segs):
                run = run or [a]
                run.append(b)
                if i + 1 == len(segs) or segs[i + 1][2] != near:
                    mark = (
                        frozenset(run),
                        frozenset([p.index] + ([near[1]] if near and near[0] == "proposed" else [])),
                    )
                    if not (near and near[0] == "proposed" and mark in seen):
                        seen.add(mark)
                        lines.append(Line(p.index, run, near))
                    run = []

    task_codes = [p.dkbm for p in parcels if p.dkbm] + list(task.dkbms)
    neighbour_codes = [n[1] for n in (ln.neighbour for ln in lines) if n and n[0] == "registry"]
    holders = resolve_subjects("parcel_holders", sorted(set(task_codes + neighbour_codes)))
    task_parcels = [
        (code, geom) for code, _scmj, geom in registry_in_plane("dkbm = ANY(%s)", [list(task.dkbms)], plane)
    ]
    parcel_holder = {p.index: p.dkbm or _nearest_task_parcel(planes[p.index], task_parcels) for p in parcels}
    return Boundaries(points, lines, holders, parcel_holder)


def _nearest_task_parcel(geom: BaseGeometry, task_parcels: list[tuple[str, BaseGeometry]]) -> str:
    """A new parcel (a split, say) belongs to the household of the task parcel it overlaps most."""
    best = max(task_parcels, key=lambda r: r[1].intersection(geom).area, default=None)
    return best[0] if best and best[1].intersects(geom) else ""


def length_m(line: Line, points: dict[tuple[int, int], Point]) -> Decimal:
    return Decimal(str(round(line.geom(points).length, 2)))
