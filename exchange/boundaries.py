"""Boundary points (JZD) and lines (JZX) of a package: read, checked against the DK layer, loaded with history.

Identity. Packages number points in different ways (per group, or per parcel with a shared point
listed once for each parcel), so a point is known by where it is: its issuer (the first 14 digits of
the parcel codes it lists) and its position in the county plane to the millimetre. Copies of one point
are merged (their parcel lists joined). A line is known by its issuer and its vertices (either way
round); its end points are the points at its first and last vertex.

History. As for parcels: a point or line whose fields, parcels and position equal the current row is left
alone; a changed one is closed (`valid_to`) and a new row written. A current point or line of one of
the package's parcels that the package no longer holds (moved, or gone) is closed; those of parcels the
package does not hold stay as they are. A line whose end point was rewritten is rewritten too. Points
and lines link to the parcel versions current when they were written.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from django.db import connection

from core.bulk import copy_rows, next_id, reset_sequence
from core.codes import issuer_of
from spatial.bulk import reproject
from spatial.measure import STORAGE_SRID

from .columns import feature_count, read_rows
from .package import PackageError, check_sidecars, layer_encoding, layer_srid
from .quality import Report

MAX_FEATURES = 20_000_000  # a county has a few million boundary points at most
SEPARATORS = ("/", ",", ";", "、", "，", "；")
Key = tuple[Any, ...]

POINT_FIELDS = ["bsm", "ysdm", "jzdh", "jzdlx", "jblx", "xzbz", "yzbz"]
LINE_FIELDS = ["bsm", "ysdm", "jxxz", "jzxlb", "jzxwz", "jzxsm", "pldwqlr", "pldwzjr", "jzxh"]
POINT_DEFAULTS = {"ysdm": "211021", "jzdlx": "1", "jblx": "6"}
LINE_DEFAULTS = {"ysdm": "211031", "jxxz": "600001", "jzxlb": "01", "jzxwz": "2"}


@dataclass
class Boundaries:
    points: dict[Key, dict[str, Any]] = field(default_factory=dict)  # key -> fields, "dkbm" (set), "xy"
    lines: dict[Key, dict[str, Any]] = field(default_factory=dict)  # key -> fields, "dkbm", "coords", ends
    has_points: bool = False  # the package has a JZD layer (else the registry's points are not touched)
    has_lines: bool = False
    dkbms: set[str] = field(default_factory=set)  # the package's parcels


def _codes(value: Any) -> list[str]:
    text = str(value or "")
    for sep in SEPARATORS[1:]:
        text = text.replace(sep, SEPARATORS[0])
    return [c.strip() for c in text.split(SEPARATORS[0]) if c.strip()]


def _mm(x: float, y: float) -> tuple[int, int]:
    return round(x * 1000), round(y * 1000)


def _text(row: dict[str, Any], name: str, default: str = "") -> str:
    v = row.get(name.upper())
    return str(v).strip() if v not in (None, "") else default


def _bsm(row: dict[str, Any]) -> int | None:
    v = row.get("BSM")
    return int(v) if v not in (None, "") else None


def _coord(v: Any) -> Decimal | None:
    return None if v in (None, "") else Decimal(str(v)).quantize(Decimal("0.001"))


def _read(
    pkg_layer: Path, plane: int, srid_of: Callable[[Path], int]
) -> tuple[list[dict[str, Any]], np.ndarray, dict[str, Any]]:
    check_sidecars(pkg_layer)
    count = feature_count(pkg_layer)
    if count > MAX_FEATURES:
        raise PackageError(
            f"{pkg_layer.name} 有 {count} 个要素，超过上限", f"{pkg_layer.name} has too many features ({count})"
        )
    srid, encoding = srid_of(pkg_layer), layer_encoding(pkg_layer)
    rows, geoms = read_rows(pkg_layer, encoding=encoding)
    assert geoms is not None
    geoms = reproject(np.where(shapely.is_missing(geoms), shapely.Point(), geoms), srid, plane)
    return rows, geoms, {"file": pkg_layer.name, "features": len(rows), "srid": srid, "encoding": encoding}


def read_boundaries(
    jzd: Path | None,
    jzx: Path | None,
    plane: int,
    report: Report,
    dkbms: set[str],
    srid_of: Callable[[Path], int] = layer_srid,
) -> Boundaries:
    """`srid_of`: a layer's CRS (the importer passes Package.layer_srid, which falls back to the
    metadata XML when a layer has no .prj)."""
    """Read and check both layers; findings go to `report.boundary_findings` (nothing there rejects)."""
    out = Boundaries(has_points=jzd is not None, has_lines=jzx is not None, dkbms=dkbms)

    def finding(layer: str, code: str, zh: str, en: str) -> None:
        report.boundary_findings.append({"layer": layer, "code": code, "message": zh, "message_en": en})

    def parcels_of(layer: str, code: str, row: dict[str, Any]) -> list[str]:
        listed = _codes(row.get("DKBM"))
        unknown = [c for c in listed if c not in dkbms]
        if not listed:
            finding(layer, code, "没有地块编码（DKBM），未导入", "no parcel code (DKBM): not imported")
        elif unknown:
            finding(
                layer, code, f"所列地块不在 DK 图层：{'/'.join(unknown)}", f"parcels not in DK: {'/'.join(unknown)}"
            )
        return [c for c in listed if c in dkbms]

    def features(
        path: Path, layer: str, number: str, kind: str, zh: str, en: str
    ) -> Iterator[tuple[dict[str, Any], str, list[str], shapely.Geometry]]:
        """The layer's features with a usable geometry of `kind` and known parcels; findings for the rest."""
        rows, geoms, info = _read(path, plane, srid_of)
        report.layers[layer] = info
        for row, geom in zip(rows, geoms, strict=True):
            code = _text(row, number)
            known = parcels_of(layer, code, row)
            if geom.geom_type == "Multi" + kind and shapely.get_num_geometries(geom) == 1:
                geom = shapely.get_geometry(geom, 0)
            if geom.geom_type != kind or geom.is_empty:
                finding(layer, code, zh, en)
            elif known:
                yield row, code, known, geom

    if jzd is not None:
        merged = 0
        for row, jzdh, known, geom in features(
            jzd, "JZD", "JZDH", "Point", "没有点位或不是点，未导入", "no point geometry: not imported"
        ):
            x, y = float(geom.x), float(geom.y)
            key = (issuer_of(known[0]), *_mm(x, y))
            if key in out.points:
                out.points[key]["dkbm"].update(known)
                merged += 1
                continue
            out.points[key] = {
                "bsm": _bsm(row),
                "ysdm": _text(row, "YSDM", POINT_DEFAULTS["ysdm"]),
                "jzdh": jzdh,
                "jzdlx": _text(row, "JZDLX", POINT_DEFAULTS["jzdlx"]),
                "jblx": _text(row, "JBLX", POINT_DEFAULTS["jblx"]),
                "xzbz": _coord(row.get("XZBZ")) if row.get("XZBZ") not in (None, "") else _coord(round(y, 3)),
                "yzbz": _coord(row.get("YZBZ")) if row.get("YZBZ") not in (None, "") else _coord(round(x, 3)),
                "dkbm": set(known),
                "xy": (x, y),
            }
        report.layers["JZD"] |= {"points": len(out.points), "merged_copies": merged}

    if jzx is not None:
        merged = 0
        for row, jzxh, known, geom in features(
            jzx, "JZX", "JZXH", "LineString", "没有线或不是单一折线，未导入", "not a single line: not imported"
        ):
            fbfbm = issuer_of(known[0])
            coords = shapely.get_coordinates(geom)
            mm = [_mm(float(x), float(y)) for x, y in coords]
            line_key: Key = (fbfbm, *min(tuple(mm), tuple(reversed(mm))))
            start, end = (fbfbm, *mm[0]), (fbfbm, *mm[-1])
            if start not in out.points or end not in out.points:
                finding("JZX", jzxh, "端点不是界址点，未导入", "an end is not a boundary point: not imported")
                continue
            if line_key in out.lines:
                out.lines[line_key]["dkbm"].update(known)
                merged += 1
                continue
            out.lines[line_key] = {
                "bsm": _bsm(row),
                **{f: _text(row, f, LINE_DEFAULTS.get(f, "")) for f in LINE_FIELDS[1:]},
                "dkbm": set(known),
                "coords": coords,
                "start": start,
                "end": end,
            }
        report.layers["JZX"] |= {"lines": len(out.lines), "merged_copies": merged}
    return out


def _near(index: dict[Key, Any], key: Key) -> Any:
    """The entry at `key`, or at a neighbouring millimetre (a coordinate that rounds the other way)."""
    if key in index:
        return index[key]
    fbfbm, x, y = key
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            hit = index.get((fbfbm, x + dx, y + dy))
            if hit is not None:
                return hit
    return None


def _current_points(county: str, plane: int) -> dict[Key, tuple[int, dict[str, Any]]]:
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT p.id, i.fbfbm, p.bsm, p.ysdm, p.jzdh, p.jzdlx, p.jblx, p.xzbz, p.yzbz,
                       ST_X(ST_Transform(p.geom, {int(plane)})), ST_Y(ST_Transform(p.geom, {int(plane)})),
                       ARRAY(SELECT DISTINCT pa.dkbm FROM spatial_boundarypoint_parcels l
                             JOIN spatial_parcel pa ON pa.id = l.parcel_id WHERE l.boundarypoint_id = p.id)
                FROM spatial_boundarypoint p JOIN spatial_issuer i ON i.id = p.issuer_id
                WHERE p.valid_to IS NULL AND i.fbfbm LIKE %s""",
            [county + "%"],
        )
        out = {}
        for pid, fbfbm, *values, x, y, dkbms in cur.fetchall():
            attrs = dict(zip(POINT_FIELDS, values, strict=True)) | {"dkbm": set(dkbms)}
            out[(fbfbm, *_mm(x, y))] = (pid, attrs)
    return out


def _current_lines(county: str, plane: int) -> dict[Key, tuple[int, dict[str, Any]]]:
    cols = ", ".join(f"x.{f}" for f in LINE_FIELDS)
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT x.id, i.fbfbm, {cols}, x.start_point_id, x.end_point_id,
                       ST_AsBinary(ST_Transform(x.geom, {int(plane)})),
                       ARRAY(SELECT DISTINCT pa.dkbm FROM spatial_boundaryline_parcels l
                             JOIN spatial_parcel pa ON pa.id = l.parcel_id WHERE l.boundaryline_id = x.id)
                FROM spatial_boundaryline x JOIN spatial_issuer i ON i.id = x.issuer_id
                WHERE x.valid_to IS NULL AND i.fbfbm LIKE %s""",
            [county + "%"],
        )
        out = {}
        for lid, fbfbm, *values, start_id, end_id, wkb, dkbms in cur.fetchall():
            attrs = dict(zip(LINE_FIELDS, values, strict=True))
            attrs |= {"dkbm": set(dkbms), "start_id": start_id, "end_id": end_id}
            mm = [_mm(float(x), float(y)) for x, y in shapely.get_coordinates(shapely.from_wkb(bytes(wkb)))]
            out[(fbfbm, *min(tuple(mm), tuple(reversed(mm))))] = (lid, attrs)
    return out


def _same(old: dict[str, Any], new: dict[str, Any], fields: list[str]) -> bool:
    return all((old[f] if old[f] is not None else "") == (new[f] if new[f] is not None else "") for f in fields)


def _reconcile(
    wanted: dict[Key, dict[str, Any]],
    current: dict[Key, tuple[int, dict[str, Any]]],
    find: Callable[[Key], tuple[int, dict[str, Any]] | None],
    unchanged: Callable[[dict[str, Any], dict[str, Any]], bool],
    retire: bool,
    dkbms: set[str],
) -> tuple[dict[Key, int], list[int], list[Key], int]:
    """Match the package's rows with the current ones: the ids kept (by key), the ids to close, the keys to
    write, and how many of the closed ones the package no longer holds (with `retire`: the layer is there,
    so a current row of the package's parcels it does not hold is gone)."""
    kept: dict[Key, int] = {}
    matched, closed, fresh = set(), [], []
    for key, row in wanted.items():
        old = find(key)
        if old is not None:
            matched.add(old[0])
            if unchanged(old[1], row) and old[1]["dkbm"] == row["dkbm"]:
                kept[key] = old[0]
                continue
            closed.append(old[0])
        fresh.append(key)
    gone = [rid for rid, attrs in current.values() if rid not in matched and attrs["dkbm"] & dkbms] if retire else []
    return kept, closed + gone, fresh, len(gone)


def _close(table: str, ids: list[int], now: datetime) -> None:
    if ids:
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {table} SET valid_to = %s WHERE id = ANY(%s)", [now, ids])


def _storage_ewkb(geoms: list[shapely.Geometry], plane: int) -> np.ndarray:
    """Hex EWKB in the storage CRS, for COPY."""
    stored = reproject(np.array(geoms, dtype=object), plane, STORAGE_SRID)
    return shapely.to_wkb(shapely.set_srid(stored, STORAGE_SRID), hex=True, include_srid=True)


def load_boundaries(
    b: Boundaries, *, county: str, plane: int, issuer_ids: dict[str, int], now: datetime
) -> dict[str, int]:
    """Write new and changed points and lines (COPY); returns counts for the report."""
    counts: dict[str, int] = defaultdict(int)
    if not b.points and not b.lines:
        return counts
    with connection.cursor() as cur:
        cur.execute("SELECT dkbm, id FROM spatial_parcel WHERE valid_to IS NULL AND dkbm LIKE %s", [county + "%"])
        parcel_ids = dict(cur.fetchall())

    # --- points ----------------------------------------------------------------------------------------
    current = _current_points(county, plane)
    point_id, closed, fresh, gone = _reconcile(
        b.points,
        current,
        lambda key: _near(current, key),
        lambda old, new: _same(old, new, POINT_FIELDS),
        b.has_points,
        b.dkbms,
    )
    counts["points_unchanged"] = len(point_id)
    counts["points_changed"], counts["points_new"] = len(closed) - gone, len(fresh) - len(closed) + gone
    if b.has_points:
        counts["points_closed"] = gone
    _close("spatial_boundarypoint", closed, now)
    if fresh:
        start = next_id("spatial_boundarypoint")
        ewkb = _storage_ewkb([shapely.Point(*b.points[k]["xy"]) for k in fresh], plane)
        point_id |= {key: start + i for i, key in enumerate(fresh)}
        copy_rows(
            "spatial_boundarypoint",
            ["id", *POINT_FIELDS, "issuer_id", "geom", "valid_from", "valid_to"],
            (
                (start + i, *[b.points[k][f] for f in POINT_FIELDS], issuer_ids[k[0]], ewkb[i], now, None)
                for i, k in enumerate(fresh)
            ),
        )
        reset_sequence("spatial_boundarypoint")
        copy_rows(
            "spatial_boundarypoint_parcels",
            ["boundarypoint_id", "parcel_id"],
            ((point_id[k], parcel_ids[d]) for k in fresh for d in sorted(b.points[k]["dkbm"])),
        )

    # --- lines (a line whose end point was rewritten is rewritten too) ------------------------------
    current_lines = _current_lines(county, plane)

    def line_unchanged(old: dict[str, Any], line: dict[str, Any]) -> bool:
        ends = {point_id[line["start"]], point_id[line["end"]]}
        return _same(old, line, LINE_FIELDS) and {old["start_id"], old["end_id"]} == ends

    kept, closed, fresh, gone = _reconcile(
        b.lines, current_lines, current_lines.get, line_unchanged, b.has_lines, b.dkbms
    )
    counts["lines_unchanged"] = len(kept)
    counts["lines_changed"], counts["lines_new"] = len(closed) - gone, len(fresh) - len(closed) + gone
    if b.has_lines:
        counts["lines_closed"] = gone
    _close("spatial_boundaryline", closed, now)
    if fresh:
        start = next_id("spatial_boundaryline")
        ewkb = _storage_ewkb([shapely.LineString(b.lines[k]["coords"]) for k in fresh], plane)
        copy_rows(
            "spatial_boundaryline",
            ["id", *LINE_FIELDS, "start_point_id", "end_point_id", "issuer_id", "geom", "valid_from", "valid_to"],
            (
                (
                    start + i,
                    *[b.lines[k][f] for f in LINE_FIELDS],
                    point_id[b.lines[k]["start"]],
                    point_id[b.lines[k]["end"]],
                    issuer_ids[k[0]],
                    ewkb[i],
                    now,
                    None,
                )
                for i, k in enumerate(fresh)
            ),
        )
        reset_sequence("spatial_boundaryline")
        copy_rows(
            "spatial_boundaryline_parcels",
            ["boundaryline_id", "parcel_id"],
            ((start + i, parcel_ids[d]) for i, k in enumerate(fresh) for d in sorted(b.lines[k]["dkbm"])),
        )
    return counts
