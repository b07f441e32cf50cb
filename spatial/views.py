"""Vector tiles for the map: plain Django views (no DRF) to keep the per-tile overhead near the query's."""

import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse

from accounts.selectors import tile_scope_prefixes

from . import selectors
from .errors import DomainError

MVT = "application/vnd.mapbox-vector-tile"


def _tile_response(request: HttpRequest, body: bytes) -> HttpResponse:
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    if request.headers.get("If-None-Match") == etag:
        resp: HttpResponse = HttpResponseNotModified()
    else:
        resp = HttpResponse(body, content_type=MVT)
    resp["ETag"] = etag
    # Tiles depend on who asks (scope), so only the browser may keep them.
    resp["Cache-Control"] = f"private, max-age={settings.TIANJIE_TILE_MAX_AGE}"
    resp["Vary"] = "Cookie, Authorization"
    return resp


def _tile(request: HttpRequest, z: int, x: int, y: int, which: str) -> HttpResponse:
    prefixes = tile_scope_prefixes(request)
    if prefixes is None:
        return JsonResponse(
            {"error": {"code": "not_authenticated", "message": "请先登录", "message_en": "log in first"}},
            status=401,
        )
    try:
        fn = selectors.parcel_tile if which == "parcels" else selectors.region_tile
        body = fn(prefixes=prefixes, z=z, x=x, y=y)
    except DomainError as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.http_status)
    return _tile_response(request, body)


def parcel_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    """/tiles/parcels/{z}/{x}/{y}.mvt: the user's parcels (group territories below the parcel zoom)."""
    return _tile(request, z, x, y, "parcels")


def region_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    """/tiles/regions/{z}/{x}/{y}.mvt: township, village and group boundaries of the user's county."""
    return _tile(request, z, x, y, "regions")
