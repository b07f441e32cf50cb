"""Reading a surveyor's upload into features in its own coordinates, without touching the registry.

Formats (by file name): GeoJSON; a zipped Shapefile (its `.prj`; the DBF encoding from `.cpg` or
detected, GBK included); GeoPackage; KML and KMZ; GPX (tracks and waypoints, as reference only); DXF
(closed polylines become parcels, points boundary points, texts their numbers; CAD has no CRS, so the
surveyor names one); coordinate lists in CSV/TXT or CASS `.dat` (point number, X = northing,
Y = easting, with or without the zone prefix; or longitude/latitude).

A file that cannot be read at all raises `SurveyFileError` with a clear message. A feature that cannot
be used (a 3D face, a polyface mesh, an unclosed ring, an empty geometry) is left out and reported as a
`Problem`; the others still go. GDAL (through pyogrio) reads the GIS formats, ezdxf the DXF.

Coordinates stay as the file gives them (`Parsed.srid`); surveys.validate projects them into the county
plane. The CRS must be CGCS2000: geographic, or a Gauss-Kruger zone (3° or 6°, with or without the zone
number in the easting). GPS formats (GPX, KML) are WGS 84, taken as CGCS2000 (they differ by centimetres,
below a handheld receiver's error), and said so.
"""

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from pyogrio import list_layers, read_info
from pyogrio.errors import DataLayerError, DataSourceError
from pyogrio.raw import read as ogr_read
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from core.errors import DomainError
from core.files import extract_zip, shapefile_encoding

MAX_FEATURES = 20_000  # a survey covers a few parcels to a few villages; a county's layer is not a survey
MAX_UNZIPPED_BYTES = 500 * 1024**2
CLOSE_GAP_M = 0.01  # a ring whose ends are closer than this (in metres) is closed

# CGCS2000: geographic; 3° Gauss-Kruger zones 25–45 with the zone in the easting (4513–4533) or by
# central meridian 75°–135° (4534–4554); 6° zones 13–23 with the zone (4491–4501) or by CM (4502–4512).
GEOGRAPHIC = 4490
GK3_ZONE = {25 + i: 4513 + i for i in range(21)}
GK3_CM = {75 + 3 * i: 4534 + i for i in range(21)}
GK6_ZONE = {13 + i: 4491 + i for i in range(11)}
GK6_CM = {75 + 6 * i: 4502 + i for i in range(11)}
ALLOWED_SRIDS = {GEOGRAPHIC, *GK3_ZONE.values(), *GK3_CM.values(), *GK6_ZONE.values(), *GK6_CM.values()}
WGS84 = 4326


class SurveyFileError(DomainError):
    default_code = "survey_file_invalid"


class ZoneNeededError(SurveyFileError):
    """The coordinates carry no zone number and none was chosen: the page asks for the CRS."""

    default_code = "survey_crs_needed"


@dataclass
class Feature:
    kind: str  # "polygon", "point", "line" (reference) or "text"
    geom: BaseGeometry
    props: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where in the file: "第 3 个要素", "LWPOLYLINE #5 (图层 JZX)"


@dataclass
class Problem:
    source: str
    zh: str
    en: str
    level: str = "error"  # "error": left out; "warning": kept


@dataclass
class Parsed:
    format: str
    srid: int
    features: list[Feature]
    problems: list[Problem] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Feature]:
        return [f for f in self.features if f.kind == kind]


def srid_label(srid: int) -> str:
    try:
        return f"EPSG:{srid} {CRS.from_epsg(srid).name}"
    except CRSError:
        return f"EPSG:{srid}"


def check_srid(srid: int | None) -> int:
    if srid is None or srid not in ALLOWED_SRIDS:
        raise SurveyFileError(
            f"坐标系不在允许范围内（EPSG:{srid}）：须为 CGCS2000 经纬度或高斯-克吕格 3°/6° 带",
            f"the CRS (EPSG:{srid}) is not allowed: CGCS2000 geographic or a 3°/6° Gauss-Kruger zone",
            field="srid",
        )
    return srid


def zone_srid_from_easting(easting: float) -> int | None:
    """An 8-digit easting carries its zone number: 25–45 is a 3° zone, 13–23 a 6° zone."""
    if easting < 10_000_000:
        return None
    zone = int(easting // 1_000_000)
    return GK3_ZONE.get(zone) or GK6_ZONE.get(zone)


# --- the entry point ---------------------------------------------------------------------------------


def read_survey_file(path: Path, *, name: str, srid: int | None = None) -> Parsed:
    """Read an uploaded file (saved at `path`, uploaded as `name`). `srid` is the surveyor's choice of
    CRS: required for DXF and for coordinate lists without a zone number, otherwise checked against
    what the file says."""
    suffix = Path(name).suffix.lower()
    if suffix in (".geojson", ".json"):
        parsed = _read_ogr(path, "GeoJSON", srid)
    elif suffix == ".gpkg":
        parsed = _read_ogr(path, "GeoPackage", srid)
    elif suffix == ".kml":
        parsed = _read_ogr(path, "KML", srid, gps=True)
    elif suffix == ".kmz":
        with _unzipped(path) as folder:
            kml = sorted(folder.rglob("*.kml"))
            if not kml:
                raise SurveyFileError("KMZ 中没有 .kml 文件", "the KMZ holds no .kml file")
            parsed = _read_ogr(kml[0], "KMZ", srid, gps=True)
    elif suffix == ".gpx":
        parsed = _read_gpx(path)
    elif suffix == ".zip":
        parsed = _read_zipped_shapefile(path, srid)
    elif suffix == ".dxf":
        from .dxf import read_dxf

        parsed = read_dxf(path, srid)
    elif suffix in (".csv", ".txt", ".dat"):
        parsed = read_coordinate_list(path.read_bytes(), srid=srid, cass=suffix == ".dat")
    else:
        raise SurveyFileError(
            f"不支持的文件类型 {suffix or '（无扩展名）'}：请上传 GeoJSON、Shapefile（zip）、GeoPackage、KML/KMZ、"
            "DXF、GPX 或坐标表（CSV/TXT/DAT）",
            f"unsupported file type {suffix or '(none)'}: upload GeoJSON, a zipped Shapefile, GeoPackage, "
            "KML/KMZ, DXF, GPX or a coordinate list (CSV/TXT/DAT)",
            field="file",
        )
    if len(parsed.features) > MAX_FEATURES:
        raise SurveyFileError(
            f"要素过多（{len(parsed.features)} 个，上限 {MAX_FEATURES}）",
            f"too many features ({len(parsed.features)}; the limit is {MAX_FEATURES})",
        )
    if not parsed.features:
        raise SurveyFileError("文件中没有可用的要素", "the file holds no usable feature")
    return parsed


@contextmanager
def _unzipped(path: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="tianjie-survey-"))
    try:
        extract_zip(path, folder, error=SurveyFileError, max_bytes=MAX_UNZIPPED_BYTES)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- GIS formats through GDAL ------------------------------------------------------------------------


def _epsg_of(crs_text: str | None) -> int | None:
    if not crs_text:
        return None
    try:
        return CRS.from_user_input(crs_text).to_epsg(min_confidence=70)
    except CRSError:
        return None


def _layer_srid(crs_text: str | None, chosen: int | None, label: str, *, gps: bool) -> tuple[int, list[Problem]]:
    problems = []
    found = _epsg_of(crs_text)
    if found == WGS84 and gps:
        problems.append(
            Problem(
                label, "WGS 84 坐标按 CGCS2000 处理（相差厘米级）", "WGS 84 taken as CGCS2000 (cm apart)", "warning"
            )
        )
        found = GEOGRAPHIC
    if found is None:
        if chosen is None:
            raise ZoneNeededError(
                f"{label} 没有坐标系信息，请选择坐标系", f"{label} says nothing of its CRS: choose one", field="srid"
            )
        return check_srid(chosen), problems
    if chosen is not None and chosen != found:
        raise SurveyFileError(
            f"{label} 的坐标系是 EPSG:{found}，与所选 EPSG:{chosen} 不同",
            f"{label} is in EPSG:{found}, not the chosen EPSG:{chosen}",
            field="srid",
        )
    return check_srid(found), problems


def _features_from_arrays(
    geoms: Any, names: list[str], values: list[Any], label: str
) -> tuple[list[Feature], list[Problem]]:
    features, problems = [], []
    for i, wkb in enumerate(geoms):
        where = f"{label} 第 {i + 1} 个要素 / feature {i + 1}"
        if wkb is None:
            problems.append(Problem(where, "没有几何", "no geometry"))
            continue
        geom = shapely.force_2d(shapely.from_wkb(wkb))
        if geom.is_empty:
            problems.append(Problem(where, "几何为空", "empty geometry"))
            continue
        props = {n: (v[i].item() if hasattr(v[i], "item") else v[i]) for n, v in zip(names, values, strict=True)}
        props = {k: v for k, v in props.items() if v is not None and v == v}  # drop nulls and NaN
        kind = {"Polygon": "polygon", "MultiPolygon": "polygon", "Point": "point"}.get(geom.geom_type, "line")
        if geom.geom_type == "MultiPoint":
            features += [Feature("point", p, dict(props), where) for p in geom.geoms]
            continue
        features.append(Feature(kind, geom, props, where))
    return features, problems


def _read_ogr(path: Path, label: str, chosen: int | None, *, gps: bool = False, encoding: str | None = None) -> Parsed:
    try:
        layers = [str(name) for name, _ in _list_layers(path)]
    except (DataSourceError, DataLayerError) as exc:
        raise SurveyFileError(f"无法读取 {label} 文件：{exc}", f"cannot read the {label} file: {exc}") from None
    features: list[Feature] = []
    problems: list[Problem] = []
    srid: int | None = None
    for layer in layers:
        try:
            meta, _fids, geoms, values = ogr_read(path, layer=layer, encoding=encoding)
        except (DataSourceError, DataLayerError, ValueError) as exc:
            raise SurveyFileError(
                f"无法读取 {label} 图层 {layer}：{exc}", f"cannot read {label} layer {layer}: {exc}"
            ) from None
        if geoms is None or len(geoms) == 0:
            continue
        layer_srid, notes = _layer_srid(meta.get("crs"), chosen, f"{label} 图层 {layer}", gps=gps)
        if srid is not None and layer_srid != srid:
            raise SurveyFileError("文件中各图层坐标系不同", "the file's layers are in different CRSs")
        srid = layer_srid
        got, bad = _features_from_arrays(geoms, list(meta["fields"]), list(values), f"图层 {layer}")
        features += got
        problems += notes + bad
    if srid is None:
        raise SurveyFileError("文件中没有要素", "the file holds no feature")
    return Parsed(label, srid, features, problems)


def _list_layers(path: Path) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in list_layers(path)]


def _read_gpx(path: Path) -> Parsed:
    """Tracks and waypoints as reference lines and points (a GPS track is not a boundary survey)."""
    try:
        read_info(path, layer="tracks")
    except (DataSourceError, DataLayerError) as exc:
        raise SurveyFileError(f"无法读取 GPX 文件：{exc}", f"cannot read the GPX file: {exc}") from None
    features: list[Feature] = []
    for layer, kind in (("tracks", "line"), ("waypoints", "point")):
        meta, _fids, geoms, values = ogr_read(path, layer=layer)
        got, _ = _features_from_arrays(geoms if geoms is not None else [], list(meta["fields"]), list(values), layer)
        for f in got:
            f.kind = kind
            f.props = {k: v for k, v in f.props.items() if k in ("name", "desc", "time", "ele")}
        features += got
    note = Problem(
        "GPX", "GPS 轨迹和航点仅作参考，不作为地块界线", "GPS tracks and waypoints are reference only", "warning"
    )
    return Parsed("GPX", GEOGRAPHIC, features, [note])


def _read_zipped_shapefile(path: Path, chosen: int | None) -> Parsed:
    with _unzipped(path) as folder:
        shapefiles = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".shp")
        if not shapefiles:
            kml = sorted(folder.rglob("*.kml"))
            if kml:
                return _read_ogr(kml[0], "KML", chosen, gps=True)
            raise SurveyFileError("压缩包中没有 .shp 文件", "the zip holds no .shp file")
        features: list[Feature] = []
        problems: list[Problem] = []
        srid: int | None = None
        for shp in shapefiles:
            for ext in (".shx", ".dbf"):
                if not any(shp.with_suffix(e).exists() for e in (ext, ext.upper())):
                    raise SurveyFileError(f"{shp.name} 缺少 {ext} 文件", f"{shp.name} has no {ext} file")
            prj = next((shp.with_suffix(e) for e in (".prj", ".PRJ") if shp.with_suffix(e).exists()), None)
            layer_srid = check_srid(chosen) if prj is None and chosen is not None else None
            if prj is None and chosen is None:
                raise ZoneNeededError(
                    f"{shp.name} 缺少 .prj 坐标系文件，请选择坐标系", f"{shp.name} has no .prj file: choose the CRS"
                )
            parsed = _read_ogr(
                shp, shp.name, layer_srid or chosen, encoding=shapefile_encoding(shp, error=SurveyFileError)
            )
            if srid is not None and parsed.srid != srid:
                raise SurveyFileError("压缩包中各 Shapefile 坐标系不同", "the shapefiles are in different CRSs")
            srid = parsed.srid
            features += parsed.features
            problems += parsed.problems
        assert srid is not None
        return Parsed("Shapefile", srid, features, problems)


# --- coordinate lists --------------------------------------------------------------------------------

_HEADER_WORDS = {
    "no": ("点号", "点名", "jzdh", "no", "name", "id", "pt", "point", "编号"),
    "x": ("x", "北", "纵", "north", "northing", "xzbz"),
    "y": ("y", "东", "横", "east", "easting", "yzbz"),
    "lon": ("lon", "lng", "经度", "longitude"),
    "lat": ("lat", "纬度", "latitude"),
    "parcel": ("dkbm", "地块", "parcel", "地块编码"),
}


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SurveyFileError("坐标表的文字编码无法识别（不是 UTF-8 或 GBK）", "the list is neither UTF-8 nor GBK text")


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _columns(header: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        word = cell.strip().lower()
        for key, words in _HEADER_WORDS.items():
            if key not in found and any(word == w or (len(w) > 1 and w in word) for w in words):
                found[key] = i
                break
    if ("x" in found and "y" in found) or ("lon" in found and "lat" in found):
        return found
    return None


def read_coordinate_list(data: bytes, *, srid: int | None = None, cass: bool = False) -> Parsed:
    """A boundary-point coordinate list. Columns come from a header (点号/X/Y, or 经度/纬度, and an
    optional 地块编码 that groups the points into parcels); without a header: 点号, X, Y[, H] (CASS
    `.dat`: 点号, 编码, Y, X, H). Points of one parcel, in order, make its ring (closed if it is not).
    An 8-digit easting gives the zone; a 6-digit one needs the surveyor's `srid`. X and Y given the
    wrong way round are recognised by their size (a northing in China has 7 digits) and swapped, with a
    warning."""
    text = _decode(data)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t; ")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    rows = [[c for c in r if c.strip() != ""] if dialect.delimiter == " " else r for r in rows]
    if not rows:
        raise SurveyFileError("坐标表为空", "the coordinate list is empty")
    cols = _columns(rows[0])
    body = rows[1:] if cols else rows
    if cols is None:
        cols = {"no": 0, "y": 2, "x": 3} if cass else {"no": 0, "x": 1, "y": 2}
    geographic = "lon" in cols
    problems: list[Problem] = []
    points: list[tuple[str, str, float, float]] = []  # parcel, number, first, second
    for n, row in enumerate(body, start=2 if body is not rows else 1):
        where = f"第 {n} 行 / line {n}"
        try:
            a = _number(row[cols["lon"] if geographic else cols["x"]])
            b = _number(row[cols["lat"] if geographic else cols["y"]])
        except IndexError:
            a = b = None
        if a is None or b is None:
            problems.append(Problem(where, "坐标不是数字，已跳过", "the coordinates are not numbers: skipped"))
            continue
        number = row[cols["no"]].strip() if "no" in cols and cols["no"] < len(row) else str(n)
        parcel = row[cols["parcel"]].strip() if "parcel" in cols and cols["parcel"] < len(row) else ""
        points.append((parcel, number, a, b))
    if len(points) < 3:
        raise SurveyFileError("坐标表中有效的点少于 3 个，构不成地块", "fewer than 3 usable points: no parcel")

    if geographic:
        chosen = check_srid(srid) if srid is not None else GEOGRAPHIC
        if chosen != GEOGRAPHIC:
            raise SurveyFileError("经纬度坐标表的坐标系应为 CGCS2000 经纬度", "a lon/lat list is CGCS2000 geographic")
        if not all(-180 <= p[2] <= 180 and -90 <= p[3] <= 90 for p in points):
            raise SurveyFileError("经纬度超出范围", "longitude or latitude out of range")
        xy = [(p[0], p[1], p[2], p[3]) for p in points]  # x = lon, y = lat
    else:

        def northing(v: float) -> bool:
            return 1_000_000 <= v < 10_000_000  # seven digits: China lies 2,000–6,000 km north of the equator

        def easting(v: float) -> bool:
            return 0 < v < 1_000_000 or 10_000_000 <= v < 100_000_000  # six digits, or eight with the zone

        if all(northing(p[2]) and easting(p[3]) for p in points):
            pass
        elif all(northing(p[3]) and easting(p[2]) for p in points):
            points = [(p[0], p[1], p[3], p[2]) for p in points]
            problems.append(
                Problem(
                    "坐标表",
                    "X、Y 列似乎填反了（X 应为北坐标），已按大小交换",
                    "X and Y looked swapped: swapped",
                    "warning",
                )
            )
        else:
            raise SurveyFileError(
                "坐标不像高斯平面坐标：X 应为 7 位北坐标，Y 为 6 位东坐标（或带带号的 8 位）",
                "not Gauss-Kruger coordinates: X is a 7-digit northing, Y a 6-digit easting (8 with the zone)",
            )
        eastings = [p[3] for p in points]
        zones = {zone_srid_from_easting(e) for e in eastings}
        if None not in zones:
            if len(zones) > 1:
                raise SurveyFileError("坐标表中的点位于不同投影带", "the points lie in different zones")
            found = zones.pop()
            assert found is not None
            if srid is not None and check_srid(srid) != found:
                raise SurveyFileError(
                    f"横坐标的带号表明坐标系是 EPSG:{found}，与所选 EPSG:{srid} 不同",
                    f"the eastings' zone number says EPSG:{found}, not the chosen EPSG:{srid}",
                    field="srid",
                )
            chosen = found
        elif any(z is not None for z in zones):
            raise SurveyFileError(
                "部分横坐标带号、部分不带，请统一", "some eastings carry the zone number, some do not"
            )
        else:
            if srid is None:
                raise ZoneNeededError(
                    "横坐标不含带号，请选择坐标系（中央子午线）", "the eastings carry no zone number: choose the CRS"
                )
            chosen = check_srid(srid)
            if chosen in GK3_ZONE.values() or chosen in GK6_ZONE.values() or chosen == GEOGRAPHIC:
                raise SurveyFileError(
                    "横坐标不含带号，应选择按中央子午线（CM）定义的坐标系",
                    "eastings without the zone number need a CRS by central meridian (CM)",
                    field="srid",
                )
        xy = [(p[0], p[1], p[3], p[2]) for p in points]  # x = easting, y = northing
    return Parsed("坐标表 coordinate list", chosen, _rings(xy, problems), problems)


def _rings(points: list[tuple[str, str, float, float]], problems: list[Problem]) -> list[Feature]:
    """Boundary points, and one parcel per group of points (by the parcel column, else all of them)."""
    features = [
        Feature("point", shapely.Point(x, y), {"jzdh": no, "dkbm": parcel}, f"点 {no}") for parcel, no, x, y in points
    ]
    groups: dict[str, list[tuple[str, float, float]]] = {}
    for parcel, no, x, y in points:
        groups.setdefault(parcel, []).append((no, x, y))
    for parcel, pts in groups.items():
        where = f"地块 {parcel}" if parcel else "坐标表 coordinate list"
        coords = [(x, y) for _, x, y in pts]
        if len(coords) > 3 and shapely.Point(coords[0]).distance(shapely.Point(coords[-1])) < CLOSE_GAP_M:
            coords = coords[:-1]
        if len(coords) < 3:
            problems.append(Problem(where, "点少于 3 个，构不成地块", "fewer than 3 points: no parcel"))
            continue
        ring = shapely.Polygon(coords)
        features.append(Feature("polygon", ring, {"dkbm": parcel, "points": [no for no, _, _ in pts]}, where))
    return features
