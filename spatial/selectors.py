"""Scoped reads of regions and parcels: vector tiles, bounded GeoJSON pages, lookups and search.

Every function takes the region code prefixes the caller may see (accounts.scoping.scope_prefixes)
and never returns a row outside them. GeoJSON and MVT are built by PostGIS, not per-object serialisers.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from core.codes import county_of
from core.errors import CodeError, NotFoundError

TILE_EXTENT = 4096
TILE_BUFFER = 64
MAX_PAGE = 1000


def _like_any(prefixes: list[str]) -> list[str]:
    return [p + "%" for p in prefixes]


def _tile_bounds_ok(z: int, x: int, y: int) -> None:
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise CodeError(f"瓦片编号无效 {z}/{x}/{y}", f"tile {z}/{x}/{y} does not exist", field="tile")


# Parcel tile SQL by zoom: attributes and detail grow with the zoom (ARCHITECTURE.md, "Maps and tiles").
_PARCEL_ATTRS_DETAIL = "p.id, p.dkbm, p.dkmc, p.dklb, p.tdlylx, p.scmjm::float8 AS mu"
_PARCEL_ATTRS_LIGHT = "p.id, p.dklb, p.tdlylx"  # enough to colour the fields

PARCEL_TILE_SQL = """
WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
t AS (
  SELECT ST_AsMVTGeom(p.geom_3857, b.env, {extent}, {buffer}, true) AS geom, {attrs}
  FROM spatial_parcel p, b
  WHERE p.geom_3857 && b.env AND p.valid_to IS NULL AND p.dkbm LIKE ANY(%(prefixes)s)
)
SELECT ST_AsMVT(t.*, 'parcels', {extent}, 'geom', 'id') FROM t
"""

# Below the parcel zoom a parcel is smaller than a pixel: the tile carries the group territories instead.
GROUP_TILE_SQL = """
WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
t AS (
  SELECT ST_AsMVTGeom(r.outline_3857, b.env, {extent}, {buffer}, true) AS geom, r.id, r.code, r.name
  FROM spatial_region r, b
  WHERE r.outline_3857 && b.env AND r.level = 'group' AND r.code LIKE ANY(%(prefixes)s)
)
SELECT ST_AsMVT(t.*, 'groups', {extent}, 'geom', 'id') FROM t
"""

REGION_TILE_SQL = """
WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
t AS (
  SELECT ST_AsMVTGeom(ST_Boundary(r.outline_3857), b.env, {extent}, {buffer}, true) AS geom,
         r.id, r.code, r.name, r.level
  FROM spatial_region r, b
  WHERE r.outline_3857 && b.env AND r.level = ANY(%(levels)s) AND r.code LIKE ANY(%(prefixes)s)
)
SELECT ST_AsMVT(t.*, 'regions', {extent}, 'geom', 'id') FROM t
"""


def parcel_tile_sql(z: int) -> str:
    """The SQL that makes the parcel tile at zoom `z` (shared with the benchmark's bare-query floor)."""
    fmt = {"extent": TILE_EXTENT, "buffer": TILE_BUFFER}
    if z < settings.TIANJIE_PARCEL_MIN_ZOOM:
        return GROUP_TILE_SQL.format(**fmt)
    attrs = _PARCEL_ATTRS_DETAIL if z >= 16 else _PARCEL_ATTRS_LIGHT
    return PARCEL_TILE_SQL.format(attrs=attrs, **fmt)


def parcel_tile(*, prefixes: list[str], z: int, x: int, y: int) -> bytes:
    """The parcel vector tile z/x/y restricted to `prefixes` (empty bytes when nothing is visible)."""
    _tile_bounds_ok(z, x, y)
    if not prefixes:
        return b""
    with connection.cursor() as cur:
        cur.execute(parcel_tile_sql(z), {"z": z, "x": x, "y": y, "prefixes": _like_any(prefixes)})
        row = cur.fetchone()
    return bytes(row[0]) if row and row[0] else b""


def region_tile(*, prefixes: list[str], z: int, x: int, y: int) -> bytes:
    """Region boundaries as lines: townships always, villages from z11, groups from z13."""
    _tile_bounds_ok(z, x, y)
    if not prefixes:
        return b""
    levels = ["county", "township"] + (["village"] if z >= 11 else []) + (["group"] if z >= 13 else [])
    # Outlines carry no personal data: a user sees the boundaries of their whole county.
    county_prefixes = sorted({county_of(p) for p in prefixes})
    with connection.cursor() as cur:
        cur.execute(
            REGION_TILE_SQL.format(extent=TILE_EXTENT, buffer=TILE_BUFFER),
            {"z": z, "x": x, "y": y, "prefixes": _like_any(county_prefixes), "levels": levels},
        )
        row = cur.fetchone()
    return bytes(row[0]) if row and row[0] else b""


# --- parcel cards, search and GeoJSON pages ---------------------------------------------------------

LAND_CLASS = {"10": "承包地块", "21": "自留地", "22": "机动地", "23": "开荒地", "99": "其他集体土地"}
LAND_USE_TYPE = {
    "011": "水田",
    "012": "水浇地",
    "013": "旱地",
    "021": "果园",
    "022": "茶园",
    "023": "其他园地",
    "031": "有林地",
    "032": "灌木林地",
    "033": "其他林地",
    "041": "天然牧草地",
    "042": "人工牧草地",
    "043": "其他草地",
}

_CARD_SQL = """
SELECT p.id, p.dkbm, p.dkmc, p.dkdz, p.dkxz, p.dknz, p.dkbz, p.scmj, p.scmjm, p.dklb, p.tdlylx, p.dldj,
       p.sfjbnt, p.version, i.fbfbm, i.name AS issuer_name,
       c.cbfbm, c.name AS contractor_name, c.id_number AS contractor_id_enc, ct.cbhtbm,
       ST_AsGeoJSON(ST_Envelope(p.geom), 9) AS bbox, ST_AsGeoJSON(p.geom, 9) AS geometry
FROM spatial_parcel p
JOIN spatial_issuer i ON i.id = p.issuer_id
LEFT JOIN contracts_contractparcel cp ON cp.dkbm = p.dkbm  -- CBDKXX names the parcel by its code, whatever its version
LEFT JOIN contracts_contract ct ON ct.id = cp.contract_id AND ct.valid_to IS NULL
LEFT JOIN contracts_contractor c ON c.id = ct.contractor_id
WHERE p.valid_to IS NULL AND p.dkbm LIKE ANY(%(prefixes)s) AND {where}
ORDER BY ct.id IS NULL, p.dkbm
LIMIT {limit}
"""


@dataclass
class ParcelCard:
    id: int
    dkbm: str
    dkmc: str
    four_sides: dict[str, str]
    scmj: str
    scmjm: str
    land_class: str
    land_use_type: str
    grade: str
    basic_farmland: bool
    version: int
    issuer: dict[str, str]
    contractor: dict[str, str] | None
    contract_code: str | None
    bbox: list[float]
    geometry: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _card(row: dict[str, Any]) -> ParcelCard:
    from core.codes import mask_id_number
    from core.crypto import decrypt

    env = json.loads(row["bbox"])["coordinates"][0]
    xs, ys = [c[0] for c in env], [c[1] for c in env]
    contractor = None
    if row["cbfbm"]:
        contractor = {
            "cbfbm": row["cbfbm"],
            "name": row["contractor_name"],
            "id_number_masked": mask_id_number(decrypt(row["contractor_id_enc"])),
        }
    return ParcelCard(
        id=row["id"],
        dkbm=row["dkbm"],
        dkmc=row["dkmc"],
        four_sides={"east": row["dkdz"], "west": row["dkxz"], "south": row["dknz"], "north": row["dkbz"]},
        scmj=f"{row['scmj']:.2f}",
        scmjm=f"{row['scmjm']:.2f}",
        land_class=f"{row['dklb']} {LAND_CLASS.get(row['dklb'], '')}".strip(),
        land_use_type=f"{row['tdlylx']} {LAND_USE_TYPE.get(row['tdlylx'], '')}".strip(),
        grade=row["dldj"],
        basic_farmland=row["sfjbnt"] == "1",
        version=row["version"],
        issuer={"fbfbm": row["fbfbm"], "name": row["issuer_name"]},
        contractor=contractor,
        contract_code=row["cbhtbm"],
        bbox=[min(xs), min(ys), max(xs), max(ys)],
        geometry=json.loads(row["geometry"]),
    )


def _cards(prefixes: list[str], where: str, params: dict[str, Any], limit: int) -> list[ParcelCard]:
    if not prefixes:
        return []
    with connection.cursor() as cur:
        cur.execute(_CARD_SQL.format(where=where, limit=int(limit)), {"prefixes": _like_any(prefixes), **params})
        cols = [c.name for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    seen: set[int] = set()
    out = []
    for r in rows:
        if r["id"] not in seen:
            seen.add(r["id"])
            out.append(_card(r))
    return out


def parcel_card(*, prefixes: list[str], parcel_id: int) -> ParcelCard:
    """The card of a current parcel; NotFoundError also when it exists outside the caller's scope."""
    cards = _cards(prefixes, "p.id = %(id)s", {"id": parcel_id}, 5)
    if not cards:
        raise NotFoundError("未找到该地块，或无权查看", "parcel not found or not visible to you", field="id")
    return cards[0]


def parcel_at(*, prefixes: list[str], lon: float, lat: float) -> ParcelCard:
    """The current parcel under a point (EPSG:4490 lon/lat)."""
    where = "ST_Intersects(p.geom_3857, ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4490), 3857))"
    cards = _cards(prefixes, where, {"lon": lon, "lat": lat}, 5)
    if not cards:
        raise NotFoundError("此处没有可查看的地块", "no visible parcel at this point", field="point")
    return cards[0]


_DIGITS = re.compile(r"^\d+$")


def parcel_search(*, prefixes: list[str], query: str, limit: int = 20) -> list[ParcelCard]:
    """Search by full DKBM (19 digits), by its last five digits, or by the contractor's name."""
    q = (query or "").strip()
    if not q:
        return []
    if _DIGITS.match(q) and len(q) == 19:
        return _cards(prefixes, "p.dkbm = %(q)s", {"q": q}, limit)
    if _DIGITS.match(q) and len(q) == 5:
        return _cards(prefixes, "right(p.dkbm, 5) = %(q)s", {"q": q}, limit)
    if _DIGITS.match(q):
        raise CodeError(
            "请输入完整的 19 位地块编码或其后 5 位",
            "enter the full 19-digit parcel code or its last 5 digits",
            field="q",
        )
    return _cards(prefixes, "c.name = %(q)s AND c.valid_to IS NULL", {"q": q}, limit)


_GEOJSON_SQL = """
WITH page AS (
  SELECT p.id, p.dkbm, p.dkmc, p.dklb, p.tdlylx, p.scmj, p.scmjm, p.version, p.geom
  FROM spatial_parcel p
  WHERE p.valid_to IS NULL AND p.dkbm LIKE ANY(%(prefixes)s)
    AND p.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4490)
    AND ST_Intersects(p.geom, ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4490))
  ORDER BY p.id
  LIMIT %(limit)s OFFSET %(offset)s
)
SELECT json_build_object(
  'type', 'FeatureCollection',
  'features', COALESCE(json_agg(json_build_object(
      'type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 9)::json,
      'properties', json_build_object('dkbm', dkbm, 'dkmc', dkmc, 'dklb', dklb, 'tdlylx', tdlylx,
                                      'scmj', scmj, 'scmjm', scmjm, 'version', version))
    ORDER BY id), '[]'::json)
)::text, count(*) FROM page
"""


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        minx, miny, maxx, maxy = (float(v) for v in raw.split(","))
    except (ValueError, AttributeError):
        raise CodeError(
            "bbox 应为 minx,miny,maxx,maxy（经纬度）",
            "bbox must be minx,miny,maxx,maxy in lon/lat",
            field="bbox",
        ) from None
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise CodeError("bbox 范围无效", "bbox is not a valid lon/lat box", field="bbox")
    return minx, miny, maxx, maxy


def parcels_geojson(
    *, prefixes: list[str], bbox: tuple[float, float, float, float], limit: int, offset: int
) -> tuple[str, int]:
    """One page of current parcels in `bbox` as a GeoJSON FeatureCollection string, and its size."""
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    if not prefixes:
        return '{"type": "FeatureCollection", "features": []}', 0
    minx, miny, maxx, maxy = bbox
    with connection.cursor() as cur:
        cur.execute(
            _GEOJSON_SQL,
            {
                "prefixes": _like_any(prefixes),
                "minx": minx,
                "miny": miny,
                "maxx": maxx,
                "maxy": maxy,
                "limit": limit,
                "offset": offset,
            },
        )
        text, count = cur.fetchone()
    return text, int(count)


DEFAULT_EXTENT = [109.9, 24.9, 110.1, 25.1]  # Yongfu, when a user has no office yet


def region_extent(*, codes: list[str]) -> list[float]:
    """[minlon, minlat, maxlon, maxlat] of the regions with these codes (the user's offices)."""
    if not codes:
        return DEFAULT_EXTENT
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(outline) AS e FROM spatial_region WHERE code = ANY(%s)) s",
            [codes],
        )
        row = cur.fetchone()
    return [float(v) for v in row] if row and row[0] is not None else DEFAULT_EXTENT
