"""A surveyor's DXF (AutoCAD, South CASS) read with ezdxf: closed polylines become parcels, points and
block references boundary points, texts their numbers (or, inside a parcel, its 19-digit code); lines
that close around an area make a parcel too. A DXF has no CRS: the surveyor chooses it.

Refused per entity, with the reason: 3D faces, polyface and polygon meshes, solids and surfaces, and 3D
polylines whose height varies (a boundary is drawn in plan). An unclosed polyline is kept as a reference
line and said so. Arcs in polylines (bulges) are followed to 1 cm.
"""

import re
from collections import Counter
from pathlib import Path
from typing import Any

import ezdxf
import shapely
from ezdxf import recover
from ezdxf.path import make_path

from .formats import CLOSE_GAP_M, Feature, Parsed, Problem, SurveyFileError, ZoneNeededError, check_srid

MAX_DXF_BYTES = 100 * 1024**2
FLATTEN_M = 0.01
TEXT_NEAR_M = 1.0  # a number written within this distance of a point is its number
REFUSED = {
    "3DFACE": ("三维面", "3D face"),
    "MESH": ("网格", "mesh"),
    "3DSOLID": ("三维实体", "3D solid"),
    "BODY": ("实体", "body"),
    "REGION": ("面域", "region"),
    "SURFACE": ("曲面", "surface"),
    "POLYFACE": ("多面网格", "polyface mesh"),
    "POLYMESH": ("多边形网格", "polygon mesh"),
}
_DKBM = re.compile(r"\d{19}")
_NUMBER = re.compile(r"^\s*([A-Za-z]{0,3}\d+[A-Za-z]?)\b")


def _where(e: Any) -> str:
    return f"{e.dxftype()} #{e.dxf.handle}（图层 {e.dxf.layer}）"


def _flat(e: Any) -> list[tuple[float, float]]:
    return [(v.x, v.y) for v in make_path(e).flattening(FLATTEN_M)]


def read_dxf(path: Path, srid: int | None) -> Parsed:
    if srid is None:
        raise ZoneNeededError("DXF 文件没有坐标系，请选择坐标系", "a DXF carries no CRS: choose one", field="srid")
    srid = check_srid(srid)
    if path.stat().st_size > MAX_DXF_BYTES:
        raise SurveyFileError("DXF 文件超过 100 MB", "the DXF is larger than 100 MB")
    try:
        doc, auditor = recover.readfile(str(path))
    except (OSError, ezdxf.DXFStructureError) as exc:
        raise SurveyFileError(f"无法读取 DXF 文件：{exc}", f"cannot read the DXF file: {exc}") from None
    _check_geodata(doc, srid)
    features: list[Feature] = []
    problems: list[Problem] = []
    lines: list[shapely.LineString] = []
    texts: list[tuple[shapely.Point, str]] = []
    ignored: Counter[str] = Counter()
    z_dropped = False
    if auditor.has_errors:
        problems.append(
            Problem("DXF", "文件有结构错误，已尽量修复", "the file had structure errors, repaired", "warning")
        )

    e: Any
    for e in doc.modelspace():
        kind = e.dxftype()
        where = _where(e)
        if kind == "POLYLINE" and (e.is_poly_face_mesh or e.is_polygon_mesh):
            kind = "POLYFACE" if e.is_poly_face_mesh else "POLYMESH"
        if kind in REFUSED:
            zh, en = REFUSED[kind]
            problems.append(Problem(where, f"{zh}不是平面界线，未读取", f"a {en} is not a boundary in plan: left out"))
            continue
        if kind in ("LWPOLYLINE", "POLYLINE"):
            if kind == "POLYLINE" and e.is_3d_polyline:
                heights = {round(v.dxf.location.z, 3) for v in e.vertices}
                if len(heights) > 1:
                    problems.append(
                        Problem(where, "三维多段线（高程不一），未读取", "a 3D polyline with varying height: left out")
                    )
                    continue
                z_dropped = True
            coords = _flat(e)
            if len(coords) < 2:
                problems.append(Problem(where, "多段线少于 2 个点", "a polyline with fewer than 2 points"))
                continue
            closed = bool(e.closed if kind == "LWPOLYLINE" else e.is_closed)
            gap = shapely.Point(coords[0]).distance(shapely.Point(coords[-1]))
            if closed or (len(coords) > 3 and gap < CLOSE_GAP_M):
                ring = coords[:-1] if gap < CLOSE_GAP_M and len(coords) > 3 else coords
                if len(ring) < 3:
                    problems.append(
                        Problem(where, "闭合多段线少于 3 个点，构不成地块", "a closed polyline of < 3 points")
                    )
                    continue
                features.append(Feature("polygon", shapely.Polygon(ring), {"layer": e.dxf.layer}, where))
            else:
                features.append(Feature("line", shapely.LineString(coords), {"layer": e.dxf.layer}, where))
                problems.append(
                    Problem(
                        where,
                        f"多段线未闭合（首尾相距 {gap:.3f} m），作为参考线，不作为地块",
                        f"an unclosed polyline (ends {gap:.3f} m apart): a reference line, not a parcel",
                        "warning",
                    )
                )
        elif kind == "LINE":
            start, end = e.dxf.start, e.dxf.end
            z_dropped = z_dropped or bool(start.z or end.z)
            if (start.x, start.y) != (end.x, end.y):
                lines.append(shapely.LineString([(start.x, start.y), (end.x, end.y)]))
        elif kind == "POINT":
            loc = e.dxf.location
            z_dropped = z_dropped or bool(loc.z)
            features.append(Feature("point", shapely.Point(loc.x, loc.y), {"layer": e.dxf.layer}, where))
        elif kind == "INSERT":  # a point symbol (CASS draws boundary points as blocks), numbered by an attribute
            at = e.dxf.insert
            props: dict[str, Any] = {"layer": e.dxf.layer, "block": e.dxf.name}
            for attrib in e.attribs:
                number = _NUMBER.match(attrib.dxf.text or "")
                if number and "jzdh" not in props:
                    props["jzdh"] = number.group(1)
            features.append(Feature("point", shapely.Point(at.x, at.y), props, where))
        elif kind in ("TEXT", "MTEXT"):
            content = e.plain_text() if kind == "MTEXT" else e.dxf.text
            at = e.dxf.insert
            texts.append((shapely.Point(at.x, at.y), (content or "").strip()))
        else:
            ignored[kind] += 1

    if lines:
        merged = shapely.polygonize(lines)
        faces = [g for g in getattr(merged, "geoms", []) if g.area > 0]
        for i, face in enumerate(faces):
            features.append(Feature("polygon", face, {}, f"LINE 围成的第 {i + 1} 个面"))
        if faces:
            problems.append(
                Problem(
                    "LINE",
                    f"由直线段围成 {len(faces)} 个地块，请核对",
                    f"{len(faces)} parcels closed by LINE entities: check them",
                    "warning",
                )
            )
        for line in lines:
            features.append(Feature("line", line, {}, "LINE"))
    _label(features, texts)
    if z_dropped:
        problems.append(
            Problem("DXF", "高程（Z）已忽略，按平面坐标处理", "heights (Z) ignored: plan coordinates", "warning")
        )
    if ignored:
        listed = "、".join(f"{k} {n} 个" for k, n in ignored.most_common())
        problems.append(Problem("DXF", f"未读取的图元：{listed}", f"entities not read: {dict(ignored)}", "warning"))
    return Parsed("DXF", srid, features, problems)


def _check_geodata(doc: Any, srid: int) -> None:
    """A georeferenced DXF (GEODATA, AutoCAD 2009+) says its CRS: it must be the one chosen."""
    geodata = doc.modelspace().get_geodata()
    if geodata is None:
        return
    try:
        epsg, _axis_ok = geodata.get_crs()
    except ezdxf.InvalidGeoDataException:
        return
    if epsg != srid:
        raise SurveyFileError(
            f"DXF 的地理参照为 EPSG:{epsg}，与所选 EPSG:{srid} 不同（须为 CGCS2000 坐标系）",
            f"the DXF is georeferenced in EPSG:{epsg}, not the chosen EPSG:{srid} (CGCS2000 is required)",
            field="srid",
        )


def _label(features: list[Feature], texts: list[tuple[shapely.Point, str]]) -> None:
    """A point takes the number written nearest to it (within TEXT_NEAR_M); a parcel the 19-digit code
    written inside it."""
    if not texts:
        return
    for f in features:
        if f.kind == "point" and "jzdh" not in f.props:
            near = min(texts, key=lambda t: t[0].distance(f.geom))
            number = _NUMBER.match(near[1])
            if near[0].distance(f.geom) <= TEXT_NEAR_M and number:
                f.props["jzdh"] = number.group(1)
        elif f.kind == "polygon":
            for at, content in texts:
                code = _DKBM.search(content)
                if code and f.geom.contains(at):
                    f.props["dkbm"] = code.group(0)
                    break
    for at, content in texts:
        features.append(Feature("text", at, {"text": content}, "TEXT"))
