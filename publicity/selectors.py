"""Reads for notices: the neighbouring collectives of a set of issuers, and the notices a user may see."""

from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from accounts.scoping import scope_prefixes
from core.codes import village_of
from core.errors import NotFoundError
from core.ports import resolve_subjects

from .models import Notice

NEIGHBOUR_DISTANCE_M = 0.5
# Degrees around a parcel's box that surely hold everything within NEIGHBOUR_DISTANCE_M (1e-5° ≥ 0.5 m
# in latitude, and in longitude below 60°), so that the spatial index picks the candidates.
_MARGIN_DEG = 1e-5

_NEIGHBOURS_SQL = """
WITH own AS (
  SELECT p.geom FROM spatial_parcel p JOIN spatial_issuer i ON i.id = p.issuer_id
  WHERE i.fbfbm = ANY(%(own)s) AND p.valid_to IS NULL
)
SELECT DISTINCT i.fbfbm, i.name
FROM own o
JOIN spatial_parcel p ON p.geom && ST_Expand(o.geom, %(margin)s) AND p.valid_to IS NULL
JOIN spatial_issuer i ON i.id = p.issuer_id
WHERE NOT (i.fbfbm = ANY(%(own)s))
  AND ST_DWithin(ST_Transform(o.geom, %(srid)s), ST_Transform(p.geom, %(srid)s), %(distance)s)
ORDER BY i.fbfbm
"""


def neighbouring_issuers(own: list[str], measure_srid: int) -> list[tuple[str, str]]:
    """(FBFBM, name) of the issuers with a current parcel sharing an edge with, or closer than 0.5 m in the
    county plane to, a current parcel of one of the `own` issuers."""
    if not own:
        return []
    with connection.cursor() as cur:
        cur.execute(
            _NEIGHBOURS_SQL,
            {"own": own, "margin": _MARGIN_DEG, "srid": int(measure_srid), "distance": NEIGHBOUR_DISTANCE_M},
        )
        return [(r[0], r[1]) for r in cur.fetchall()]


def audience_q(prefixes: list[str]) -> Q:
    """Notices whose audience holds a collective inside one of the prefixes (township and village officers
    see those of their area), or the collective a group-level user belongs to (a farmer of group G sees
    notices to G, and to the village-level issuer of G's village)."""
    if not prefixes:
        return Q(pk__in=[])
    parts = []
    for p in prefixes:
        parts.append(Q(audience__fbfbm__startswith=p))
        if len(p) == 14:  # a group: also its village's own issuer (village code + "00")
            parts.append(Q(audience__fbfbm=village_of(p) + "00"))
    return reduce(or_, parts)


def notices_visible(user: Any) -> "QuerySet[Notice]":
    """Posted notices for the user's collectives, and every notice (drafts too) of the user's own units."""
    seen = scope_prefixes(user)
    owned = scope_prefixes(user, "notices.post")
    mine = reduce(or_, (Q(owner_code__startswith=p) for p in owned), Q(pk__in=[]))
    return Notice.objects.filter((audience_q(seen) & ~Q(status="draft")) | mine).distinct()


def notice_parcel_rows(notice: Notice) -> list[dict[str, Any]]:
    """The noticed parcels with their current contractor, for the page and the printed notice."""
    parcels = list(notice.parcels.order_by("dkbm"))
    holders = resolve_subjects("parcel_holders", [p.dkbm for p in parcels])
    return [
        {
            "dkbm": p.dkbm,
            "dkmc": p.dkmc,
            "scmj": p.scmj,
            "scmjm": p.scmjm,
            "four_sides": p.four_sides,
            "holder": holders.get(p.dkbm, {}).get("holder", ""),
        }
        for p in parcels
    ]


def notice_subject_rows(notice: Notice, kind: str) -> list[dict[str, Any]]:
    """The households or contracts as they were shown when the notice was made (ID numbers masked)."""
    return [s.data for s in notice.subjects.filter(kind=kind).order_by("code")]


def notice_parcels_geojson(notice: Notice) -> str:
    """The noticed parcels as a GeoJSON FeatureCollection (EPSG:4490 lon/lat), written by PostGIS."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
              'type', 'Feature', 'id', p.dkbm, 'geometry', ST_AsGeoJSON(p.geom, 8, 0)::json,
              'properties', json_build_object('dkbm', p.dkbm, 'dkmc', p.dkmc, 'scmjm', p.scmjm))
              ORDER BY p.dkbm), '[]'::json))::text
            FROM spatial_parcel p JOIN publicity_notice_parcels np ON np.parcel_id = p.id
            WHERE np.notice_id = %s
            """,
            [notice.pk],
        )
        return cur.fetchone()[0]


def running_notice_parcels_geojson(user: Any) -> str:
    """The parcels of the running notices the user may see, each with its notice (for the main map)."""
    ids = list(notices_visible(user).filter(status__in=["posted", "objected"]).values_list("pk", flat=True)[:200])
    if not ids:
        return '{"type": "FeatureCollection", "features": []}'
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
              'type', 'Feature', 'id', n.id || ':' || p.dkbm, 'geometry', ST_AsGeoJSON(p.geom, 8, 0)::json,
              'properties', json_build_object('dkbm', p.dkbm, 'notice', n.id, 'title', n.title,
                                              'ends_on', n.ends_on, 'kind', n.kind))), '[]'::json))::text
            FROM publicity_notice n
            JOIN publicity_notice_parcels np ON np.notice_id = n.id
            JOIN spatial_parcel p ON p.id = np.parcel_id
            WHERE n.id = ANY(%s)
            """,
            [ids],
        )
        return cur.fetchone()[0]


def notice_for(user: Any, pk: int) -> Notice:
    """A notice the user may see (notices_visible), else NotFoundError as for a missing one."""
    notice = notices_visible(user).filter(pk=pk).first()
    if notice is None:
        raise NotFoundError("没有这份公示，或不在您的范围内", "no such notice, or not for you")
    return notice
