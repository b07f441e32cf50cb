"""OGC API - Features (Part 1 core + GeoJSON, Part 2 CRS) over the registry: parcels, issuers, regions.

The reads behind the /ogc/ views. Like the other selectors, every function takes the region code prefixes
the caller may see and never returns a row outside them, and PostGIS writes the GeoJSON (one query a page).

Why not pygeoapi: its feature providers are called with the query parameters only (offset, limit, bbox, …),
never with the request or its user, so scoping each answer to the caller's regions would need a side
channel around the provider; and its SQL provider turns each row into a Python feature through shapely,
where here PostGIS writes the page. django-oapif needs Python ≥ 3.12. The protocol part is small (four
JSON documents and one items query), so it is written here, checked with GDAL's OAPIF driver in the tests.

Coordinates follow the axis order of the requested CRS (Part 2): CRS84 is lon/lat; EPSG:4490 and 4326
are lat/lon; the CGCS2000 Gauss-Kruger zones (4513–4554) are northing/easting. The registry is stored in
CGCS2000; CRS84 and EPSG:4326 are given as the same numbers (CGCS2000 and WGS 84 differ by centimetres,
and PROJ knows no better transformation between them).
"""

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection

from core.codes import county_of
from core.errors import CodeError, NotFoundError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
ZONE_SRIDS = range(4513, 4555)  # CGCS2000 3° Gauss-Kruger, with and without the zone prefix

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    table: str  # FROM clause, aliased t
    code: str  # the column that is both the feature id and the scoping key
    geom: str  # EPSG:4490 geometry column
    properties: str  # json_build_object arguments
    where: str = "TRUE"
    decimals: int = 9  # GeoJSON decimals in degrees (1e-9° ≈ 0.1 mm)


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            id="parcels",
            title="承包地块 Contracted parcels (DK)",
            description="现势地块，NY/T 2539 DK 图层字段；不含指界人等个人信息。"
            " Current parcels with the DK layer's fields; no personal data.",
            table="spatial_parcel t JOIN spatial_issuer i ON i.id = t.issuer_id",
            code="t.dkbm",
            geom="t.geom",
            where="t.valid_to IS NULL",
            properties=(
                "'dkbm', t.dkbm, 'dkmc', t.dkmc, 'fbfbm', i.fbfbm, 'syqxz', t.syqxz, 'dklb', t.dklb, "
                "'tdlylx', t.tdlylx, 'dldj', t.dldj, 'tdyt', t.tdyt, 'sfjbnt', t.sfjbnt, "
                "'scmj', t.scmj, 'scmjm', t.scmjm, 'dkdz', t.dkdz, 'dkxz', t.dkxz, 'dknz', t.dknz, "
                "'dkbz', t.dkbz, 'version', t.version, 'valid_from', t.valid_from"
            ),
        ),
        Collection(
            id="issuers",
            title="发包方 Issuers (FBF)",
            description="发包方（村、组集体经济组织）及其所辖范围；负责人证件与电话不公开。"
            " Issuers and their territories; the person in charge's ID and phone are not served.",
            table="spatial_issuer t",
            code="t.fbfbm",
            geom="t.territory",
            properties="'fbfbm', t.fbfbm, 'name', t.name, 'address', t.address, 'postcode', t.postcode",
        ),
        Collection(
            id="regions",
            title="行政区域 Regions",
            description="县、乡镇、行政村、村民小组的界线。 County, township, village and group outlines.",
            table="spatial_region t",
            code="t.code",
            geom="t.outline",
            properties="'code', t.code, 'name', t.name, 'level', t.level",
        ),
    )
}


def collection(collection_id: str) -> Collection:
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFoundError(f"没有名为 {collection_id} 的要素集", f"there is no collection {collection_id}")
    return found


def crs_uri(srid: int | None) -> str:
    return CRS84 if srid is None else f"{EPSG_URI}{srid}"


def parse_crs(raw: str | None, allowed: list[int], *, field: str = "crs") -> int | None:
    """A CRS URI (or EPSG:n, or [EPSG:n]) to an SRID; None is CRS84. Only `allowed` SRIDs (and CRS84)."""
    value = (raw or "").strip().strip("[]")
    if not value or value in (CRS84, "OGC:CRS84", "CRS84"):
        return None
    srid_text = value.removeprefix(EPSG_URI).removeprefix("EPSG:")
    srid = int(srid_text) if srid_text.isdigit() else None
    if srid is None or srid not in allowed:
        names = ", ".join([CRS84, *(crs_uri(s) for s in allowed)])
        raise CodeError(
            f"不支持的坐标系 {value}；可用：{names}",
            f"unsupported CRS {value}; use one of: {names}",
            code="InvalidParameterValue",
            field=field,
        )
    return srid


def _lat_first(srid: int | None) -> bool:
    """EPSG:4490 and 4326 are lat/lon; the Gauss-Kruger zones northing/easting. CRS84 is lon/lat."""
    return srid is not None


def parse_bbox(raw: str | None, srid: int | None) -> tuple[float, float, float, float] | None:
    """`bbox` in the axis order of `srid`, returned as (minx, miny, maxx, maxy) in x=easting/lon order."""
    if not raw:
        return None
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise CodeError(
            "bbox 应为四个数：左下角与右上角，按坐标系的轴序",
            "bbox must be four numbers: lower corner then upper corner, in the CRS's axis order",
            code="InvalidParameterValue",
            field="bbox",
        )
    a, b, c, d = values
    minx, miny, maxx, maxy = (b, a, d, c) if _lat_first(srid) else (a, b, c, d)
    geographic = srid is None or srid not in ZONE_SRIDS
    if minx > maxx or miny > maxy or (geographic and not (-180 <= minx <= 180 and -90 <= miny <= maxy <= 90)):
        raise CodeError("bbox 范围无效", "bbox is not a valid box", code="InvalidParameterValue", field="bbox")
    return minx, miny, maxx, maxy


def _geometry_sql(c: Collection, srid: int | None) -> tuple[str, int]:
    """SQL for the geometry in the output CRS and axis order, and the GeoJSON decimals."""
    if srid is None:
        return c.geom, c.decimals
    if srid == 4490:
        return f"ST_FlipCoordinates({c.geom})", c.decimals
    if srid in ZONE_SRIDS:
        return f"ST_FlipCoordinates(ST_Transform({c.geom}, {int(srid)}))", 3  # millimetres
    return f"ST_FlipCoordinates(ST_Transform({c.geom}, {int(srid)}))", c.decimals


def _bbox_sql(srid: int | None) -> str:
    env = "ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, {})"
    if srid is None or srid == 4490:
        return env.format(4490)
    return f"ST_Transform({env.format(int(srid))}, 4490)"


def _where(c: Collection, *, bbox_srid: int | None, has_bbox: bool) -> list[str]:
    """The collection's own condition, the caller's regions, and the box when there is one."""
    where = [c.where, f"{c.code} LIKE ANY(%(prefixes)s)"]
    if has_bbox:
        env = _bbox_sql(bbox_srid)
        where += [f"{c.geom} && {env}", f"ST_Intersects({c.geom}, {env})"]
    return where


def _features_sql(c: Collection, srid: int | None, *, bbox_srid: int | None, has_bbox: bool, one: bool) -> str:
    geom, decimals = _geometry_sql(c, srid)
    where = _where(c, bbox_srid=bbox_srid, has_bbox=has_bbox)
    if one:
        where.append(f"{c.code} = %(fid)s")
    else:
        where.append("t.id > %(after)s")
    return f"""
WITH page AS (
  SELECT t.id AS pk, {c.code} AS fid, {geom} AS g, json_build_object({c.properties}) AS props
  FROM {c.table}
  WHERE {" AND ".join(where)}
  ORDER BY t.id
  LIMIT %(limit)s
)
SELECT COALESCE(json_agg(json_build_object(
    'type', 'Feature', 'id', fid, 'geometry', ST_AsGeoJSON(g, {decimals}, 0)::json, 'properties', props
  ) ORDER BY pk), '[]'::json)::text, count(*), max(pk)
FROM page
"""


def _prefix_patterns(prefixes: list[str]) -> list[str]:
    return [p + "%" for p in prefixes]


@dataclass
class Page:
    features: str  # a JSON array, written by PostGIS
    returned: int
    next_after: int | None  # the keyset for the next page, when there may be one
    matched: int | None = None  # on the first page only: a county-wide count costs more than a page


def _count_sql(c: Collection, *, bbox_srid: int | None, has_bbox: bool) -> str:
    return f"SELECT count(*) FROM {c.table} WHERE {' AND '.join(_where(c, bbox_srid=bbox_srid, has_bbox=has_bbox))}"


def items_page(
    *,
    prefixes: list[str],
    collection_id: str,
    srid: int | None,
    bbox: tuple[float, float, float, float] | None,
    bbox_srid: int | None,
    limit: int,
    after: int,
) -> Page:
    """One page of a collection's features, ordered by row id after `after` (keyset paging)."""
    c = collection(collection_id)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if not prefixes:
        return Page("[]", 0, None)
    params: dict[str, Any] = {"prefixes": _prefix_patterns(prefixes), "limit": limit, "after": int(after)}
    if bbox is not None:
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    with connection.cursor() as cur:
        cur.execute(_features_sql(c, srid, bbox_srid=bbox_srid, has_bbox=bbox is not None, one=False), params)
        features, count, last = cur.fetchone()
        matched = None
        if after == 0:  # clients (GDAL, QGIS) read the total from the first page
            if count < limit:
                matched = int(count)
            else:
                cur.execute(_count_sql(c, bbox_srid=bbox_srid, has_bbox=bbox is not None), params)
                matched = int(cur.fetchone()[0])
    return Page(features, int(count), int(last) if count == limit else None, matched)


def item(*, prefixes: list[str], collection_id: str, fid: str, srid: int | None) -> str:
    """One feature as GeoJSON text; NotFoundError outside the caller's regions, as for a missing one."""
    c = collection(collection_id)
    if prefixes:
        with connection.cursor() as cur:
            cur.execute(
                _features_sql(c, srid, bbox_srid=None, has_bbox=False, one=True),
                {"prefixes": _prefix_patterns(prefixes), "fid": fid, "limit": 1},
            )
            features, count, _last = cur.fetchone()
        if count:
            return json.dumps(json.loads(features)[0], ensure_ascii=False)
    raise NotFoundError(f"没有编号为 {fid} 的要素", f"there is no feature {fid} in {collection_id}")


def extent(*, prefixes: list[str], collection_id: str) -> list[float] | None:
    """[minlon, minlat, maxlon, maxlat] of the caller's features in a collection (CRS84)."""
    c = collection(collection_id)
    if not prefixes:
        return None
    # The regions' outlines bound everything the caller sees; cheaper than an extent over the parcels.
    geom_table, geom_col, code_col = (
        ("spatial_region", "outline", "code") if c.id != "issuers" else ("spatial_issuer", "territory", "fbfbm")
    )
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent({geom_col}) AS e FROM {geom_table} WHERE {code_col} LIKE ANY(%s)) s",
            [_prefix_patterns(prefixes)],
        )
        row = cur.fetchone()
    return [float(v) for v in row] if row and row[0] is not None else None


def zone_srids(prefixes: list[str]) -> list[int]:
    """The Gauss-Kruger planes of the counties the caller's regions lie in (CountySettings.measure_srid)."""
    counties = sorted({county_of(p) for p in prefixes})
    if not counties:
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT s.measure_srid FROM spatial_countysettings s "
            "JOIN spatial_region r ON r.id = s.region_id WHERE r.code = ANY(%s) ORDER BY 1",
            [counties],
        )
        return [int(r[0]) for r in cur.fetchall()]


def openapi(base: str) -> dict[str, Any]:
    """The API description (OpenAPI 3.0) that clients read for the parameters and the page size."""

    def param(name: str, schema: dict[str, Any], description: str, where: str = "query") -> dict[str, Any]:
        return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}

    collection_id = param("collectionId", {"type": "string", "enum": list(COLLECTIONS)}, "要素集", "path")
    json_ok = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}
    geojson_ok = {"200": {"description": "OK", "content": {"application/geo+json": {"schema": {"type": "object"}}}}}
    crs = param("crs", {"type": "string", "format": "uri"}, "输出坐标系 output CRS: CRS84, EPSG 4490, 4326, the zone")
    return {
        "openapi": "3.0.3",
        "info": {"title": "田界 OGC API - Features", "version": "1.0.0"},
        "servers": [{"url": base}],
        "paths": {
            "/": {"get": {"operationId": "landing", "responses": json_ok}},
            "/conformance": {"get": {"operationId": "conformance", "responses": json_ok}},
            "/collections": {"get": {"operationId": "collections", "responses": json_ok}},
            "/collections/{collectionId}": {
                "get": {"operationId": "collection", "parameters": [collection_id], "responses": json_ok}
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "operationId": "items",
                    "parameters": [
                        collection_id,
                        param(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                            "每页要素数 features per page",
                        ),
                        param(
                            "bbox",
                            {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                            "范围 bounding box, in bbox-crs",
                        ),
                        param("bbox-crs", {"type": "string", "format": "uri"}, "bbox 的坐标系 CRS of bbox"),
                        crs,
                        param("after", {"type": "integer", "minimum": 0}, "分页游标 paging cursor (from next links)"),
                    ],
                    "responses": geojson_ok,
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "operationId": "item",
                    "parameters": [collection_id, param("featureId", {"type": "string"}, "编码 code", "path"), crs],
                    "responses": geojson_ok,
                }
            },
        },
    }
