"""Serving vector tiles: one function builds the HTTP answer for both the Django views and the lean
WSGI path in config.wsgi, so that both give the same bytes, headers and errors.

Below the parcel zoom a tile shows group territories, which change only when regions are edited or
imported; those tiles are kept per worker for LOW_ZOOM_TTL seconds (so an edit shows within 5 minutes).
Parcel tiles are always made fresh from the database.
"""

import hashlib
import json
import time
from dataclasses import dataclass

from django.conf import settings

from core.errors import DomainError

from . import selectors

MVT = "application/vnd.mapbox-vector-tile"
LOW_ZOOM_TTL = 300.0
_LOW_ZOOM_MAX = 5000
_low_zoom: dict[tuple[str, tuple[str, ...], int, int, int], tuple[float, bytes]] = {}


@dataclass(frozen=True)
class TileAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _make(which: str, prefixes: list[str], z: int, x: int, y: int) -> bytes:
    fn = selectors.parcel_tile if which == "parcels" else selectors.region_tile
    cacheable = which == "regions" or z < settings.TIANJIE_PARCEL_MIN_ZOOM
    if not cacheable:
        return fn(prefixes=prefixes, z=z, x=x, y=y)
    key = (which, tuple(prefixes), z, x, y)
    now = time.monotonic()
    hit = _low_zoom.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    body = fn(prefixes=prefixes, z=z, x=x, y=y)
    if len(_low_zoom) >= _LOW_ZOOM_MAX:
        _low_zoom.clear()
    _low_zoom[key] = (now + LOW_ZOOM_TTL, body)
    return body


def low_zoom_cache_clear() -> None:
    _low_zoom.clear()


def _error(status: int, payload: dict) -> TileAnswer:
    body = json.dumps({"error": payload}, ensure_ascii=False).encode("utf-8")
    return TileAnswer(status, [("Content-Type", "application/json; charset=utf-8")], body)


NOT_LOGGED_IN = {"code": "not_authenticated", "message": "请先登录", "message_en": "log in first", "field": None}


def tile_answer(
    *, which: str, prefixes: list[str] | None, z: int, x: int, y: int, if_none_match: str | None
) -> TileAnswer:
    """The complete HTTP answer for a tile request by someone with `prefixes` (None: not logged in)."""
    if prefixes is None:
        return _error(401, NOT_LOGGED_IN)
    try:
        body = _make(which, prefixes, z, x, y)
    except DomainError as exc:
        return _error(exc.http_status, exc.as_dict())
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = [
        ("ETag", etag),
        # Tiles depend on who asks (scope), so only the browser may keep them.
        ("Cache-Control", f"private, max-age={settings.TIANJIE_TILE_MAX_AGE}"),
        ("Vary", "Cookie, Authorization"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if if_none_match == etag:
        return TileAnswer(304, headers, b"")
    return TileAnswer(200, [("Content-Type", MVT), *headers], body)
