"""Checking proposed parcels against the registry, in the county's Gauss-Kruger plane (where SCMJ is
defined). Per parcel, each finding is a message with a level and a code:

* `outside_county` (error): not inside the county; most often the wrong CRS was chosen;
* `geometry_invalid` (error): not a valid polygon (self-intersection, …), with the repair suggested
  (shapely's make_valid) and the area it would have;
* `overlap` (error): overlaps of 0.01 m² or more with a current parcel outside the task, or with another
  parcel of the same upload;
* `gap` (warning): ground along a neighbour (within 1 m of it) that the parcel covered before and no
  surveyed parcel covers now: a gap or sliver the survey would open (one already in the registry is not
  the survey's);
* `area_change` (warning when over 5 %): the area against the registry's SCMJ of the parcel it replaces;
* `unmatched` (warning): no parcel of the task found under it (by its code, or by overlapping one by
  half or more).

Nothing here writes: surveys.services stores the result.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import shapely
from django.db import connection
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from spatial.measure import STORAGE_SRID, round_m2
from spatial.models import Region
from spatial.services import measure_srid_for

from .formats import Parsed, srid_label

MIN_OVERLAP_M2 = 0.01
GAP_WIDTH_M = 1.0  # ground lost within this distance of a neighbour is a gap towards it
AREA_CHANGE_WARN = 0.05
MATCH_SHARE = 0.5


@dataclass
class Checked:
    index: int
    source: str
    geom_4490: BaseGeometry
    area_m2: Decimal
    dkbm: str = ""
    registry_area_m2: Decimal | None = None
    messages: list[dict[str, str]] = field(default_factory=list)

    def add(self, level: str, code: str, zh: str, en: str) -> None:
        self.messages.append({"level": level, "code": code, "zh": zh, "en": en})

    @property
    def status(self) -> str:
        levels = {m["level"] for m in self.messages}
        return "error" if "error" in levels else "warning" if "warning" in levels else "ok"


def projector(source: int, target: int) -> Callable[[BaseGeometry], BaseGeometry]:
    """A function projecting a shapely geometry from one CRS to another (x = easting or longitude)."""
    t = Transformer.from_crs(source, target, always_xy=True)
    return lambda geom: shapely.transform(geom, lambda x, y: t.transform(x, y), interleaved=False)


def _multi(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    parts = [g for g in getattr(geom, "geoms", []) for g in (getattr(g, "geoms", None) or [g])]
    return shapely.MultiPolygon([g for g in parts if g.geom_type == "Polygon"])


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def registry_in_plane(sql_where: str, params: list[Any], plane: int) -> list[tuple[str, Decimal, BaseGeometry]]:
    """Current registry parcels matching `sql_where`: code, SCMJ and geometry in the county plane."""
    rows = _fetch(
        f"SELECT dkbm, scmj, ST_AsBinary(ST_Transform(geom, {int(plane)})) FROM spatial_parcel "
        f"WHERE valid_to IS NULL AND {sql_where}",
        params,
    )
    return [(code, scmj, shapely.from_wkb(bytes(wkb))) for code, scmj, wkb in rows]


def registry_near(geom_4490: BaseGeometry, exclude: list[str], plane: int) -> list[tuple[str, Decimal, BaseGeometry]]:
    """Current parcels other than `exclude` within about 2 m of `geom_4490` (an index probe in storage
    coordinates; callers measure in the plane)."""
    return registry_in_plane(
        "NOT (dkbm = ANY(%s)) AND ST_DWithin(geom, ST_GeomFromWKB(%s, 4490), 0.00002)",
        [exclude, shapely.to_wkb(geom_4490)],
        plane,
    )


def validate_parcels(
    parsed: Parsed, *, county_code: str, task_dkbms: list[str]
) -> tuple[list[Checked], dict[str, Any]]:
    plane = measure_srid_for(county_code)
    to_plane = projector(parsed.srid, plane)
    to_storage = projector(plane, STORAGE_SRID)
    outline_row = Region.objects.filter(code=county_code).values_list("outline", flat=True).first()
    county = projector(STORAGE_SRID, plane)(shapely.from_wkb(bytes(outline_row.wkb))) if outline_row else None
    task = {code: (scmj, geom) for code, scmj, geom in registry_in_plane("dkbm = ANY(%s)", [task_dkbms], plane)}

    checked: list[Checked] = []
    inside: list[tuple[Checked, BaseGeometry, str]] = []  # in the county: checked against the registry
    dropped: list[dict[str, str]] = []
    for i, feature in enumerate(parsed.of_kind("polygon")):
        geom = to_plane(feature.geom)
        c = Checked(i, feature.source, geom, round_m2(geom.area))
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            repaired = _multi(shapely.make_valid(geom))
            if repaired.is_empty or repaired.area < MIN_OVERLAP_M2:
                dropped.append(
                    {
                        "source": feature.source,
                        "zh": f"没有面积（{reason}），不是地块",
                        "en": f"it has no area ({reason}): not a parcel",
                        "level": "error",
                    }
                )
                continue
            c.add(
                "error",
                "geometry_invalid",
                f"图形无效（{reason}）；建议修复为有效多边形，面积 {repaired.area:.2f} m²",
                f"not a valid polygon ({reason}); repaired it would be {repaired.area:.2f} m²",
            )
            geom = repaired
            c.area_m2 = round_m2(geom.area)
        c.geom_4490 = _multi(to_storage(geom))
        checked.append(c)
        if county is not None and not county.buffer(1.0).contains(geom):
            c.add(
                "error",
                "outside_county",
                f"不在本县范围内；请检查坐标系（所选 {srid_label(parsed.srid)}）",
                f"not inside the county: check the CRS (chosen {srid_label(parsed.srid)})",
            )
            if not county.intersects(geom):
                continue
        inside.append((c, geom, str(feature.props.get("dkbm") or feature.props.get("DKBM") or "")))
    surveyed = shapely.union_all([g for _, g, _ in inside]) if inside else shapely.Polygon()
    for c, geom, code in inside:
        _match(c, code, geom, task)
        _against_registry(c, geom, task_dkbms, plane, was=task[c.dkbm][1] if c.dkbm else None, surveyed=surveyed)
    _among_themselves(checked, plane)
    matched = {c.dkbm for c in checked if c.dkbm}
    report = {
        "format": parsed.format,
        "srid": parsed.srid,
        "srid_label": srid_label(parsed.srid),
        "counts": {kind: len(parsed.of_kind(kind)) for kind in ("polygon", "point", "line", "text")},
        "problems": [p.__dict__ for p in parsed.problems] + dropped,
        "unmatched_task_parcels": sorted(set(task_dkbms) - matched),
        "overlay": _overlay(parsed, inside, task, projector(parsed.srid, STORAGE_SRID), to_storage),
    }
    return checked, report


MAX_OVERLAY_FEATURES = 2000


def _overlay(
    parsed: Parsed,
    inside: list[tuple[Checked, BaseGeometry, str]],
    task: dict[str, tuple[Decimal, BaseGeometry]],
    source_to_storage: Callable[[BaseGeometry], BaseGeometry],
    plane_to_storage: Callable[[BaseGeometry], BaseGeometry],
) -> dict[str, Any]:
    """What the preview map draws besides the parcels, in CGCS2000 lon/lat: the differences from the
    registry (ground added to and taken from each task parcel, over 0.01 m²) and the file's reference
    features (GPS tracks and waypoints, points, lines, texts), at most MAX_OVERLAY_FEATURES."""
    features: list[dict[str, Any]] = []
    for c, geom, _code in inside:
        if not c.dkbm:
            continue
        old = task[c.dkbm][1]
        for kind, part in (("added", geom.difference(old)), ("removed", old.difference(geom))):
            if part.area >= MIN_OVERLAP_M2:
                features.append(
                    {
                        "type": "Feature",
                        "geometry": shapely.geometry.mapping(plane_to_storage(part)),
                        "properties": {"status": kind, "label": f"{'+' if kind == 'added' else '−'}{part.area:.2f} m²"},
                    }
                )
    for f in parsed.features:
        if f.kind == "polygon" or len(features) >= MAX_OVERLAY_FEATURES:
            continue
        label = str(f.props.get("jzdh") or f.props.get("text") or f.props.get("name") or "")
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(source_to_storage(f.geom)),
                "properties": {"status": f.kind, "label": label[:40]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _match(c: Checked, code: str, geom: BaseGeometry, task: dict[str, tuple[Decimal, BaseGeometry]]) -> None:
    code = str(code).strip()
    if code in task:
        c.dkbm = code
    else:
        best, share = "", 0.0
        for dkbm, (_scmj, old) in task.items():
            if not old.intersects(geom):
                continue
            common = old.intersection(geom).area
            s = max(common / old.area if old.area else 0, common / geom.area if geom.area else 0)
            if s > share:
                best, share = dkbm, s
        if share >= MATCH_SHARE:
            c.dkbm = best
    if not c.dkbm:
        c.add(
            "warning", "unmatched", "没有对应的任务地块（新分出的地块？）", "matches no parcel of the task (a new one?)"
        )
        return
    scmj = task[c.dkbm][0]
    c.registry_area_m2 = scmj
    if scmj:
        change = (c.area_m2 - scmj) / scmj
        level = "warning" if abs(change) > AREA_CHANGE_WARN else "info"
        c.add(
            level,
            "area_change",
            f"面积 {c.area_m2} m²，原实测面积 {scmj} m²，变化 {change:+.1%}",
            f"area {c.area_m2} m², registry SCMJ {scmj} m², change {change:+.1%}",
        )


def _against_registry(
    c: Checked,
    geom: BaseGeometry,
    task_dkbms: list[str],
    plane: int,
    *,
    was: BaseGeometry | None,
    surveyed: BaseGeometry,
) -> None:
    """Overlaps with the current parcels outside the task (found by an index probe in storage
    coordinates, measured in the plane); and slivers: ground the parcel covered before (`was`), along a
    neighbour (within 1 m of it), that no surveyed parcel covers now. A gap that was already in the
    registry is not the survey's."""
    near = registry_near(c.geom_4490, task_dkbms, plane)
    lost = was.difference(surveyed) if was is not None else None
    for dkbm, _scmj, other in near:
        if other.distance(geom) > GAP_WIDTH_M:
            continue
        common = other.intersection(geom).area if other.intersects(geom) else 0.0
        if common >= MIN_OVERLAP_M2:
            c.add(
                "error",
                "overlap",
                f"与地块 {dkbm} 重叠 {common:.2f} m²",
                f"overlaps parcel {dkbm} by {common:.2f} m²",
            )
            continue
        if lost is None or lost.is_empty:
            continue
        gap = lost.difference(other).intersection(other.buffer(GAP_WIDTH_M)).area
        if gap >= MIN_OVERLAP_M2:
            c.add(
                "warning",
                "gap",
                f"与相邻地块 {dkbm} 之间留出缝隙 {gap:.2f} m²",
                f"leaves a gap of {gap:.2f} m² towards parcel {dkbm}",
            )


def _among_themselves(checked: list[Checked], plane: int) -> None:
    if len(checked) < 2:
        return
    to_plane = projector(STORAGE_SRID, plane)
    planes = [to_plane(c.geom_4490) for c in checked]
    tree = shapely.STRtree(planes)
    for i, j in zip(*tree.query(planes, predicate="intersects"), strict=True):
        if i >= j:
            continue
        common = planes[i].intersection(planes[j]).area
        if common >= MIN_OVERLAP_M2:
            for a, b in ((i, j), (j, i)):
                checked[a].add(
                    "error",
                    "overlap",
                    f"与本次上传的第 {b + 1} 个地块重叠 {common:.2f} m²",
                    f"overlaps parcel {b + 1} of this upload by {common:.2f} m²",
                )
