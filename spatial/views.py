"""Vector tiles for the map as Django views (tests, runserver); gunicorn serves the same answers through
the lean path in config.wsgi, which skips the middleware stack once a session's scope is known."""

from django.http import HttpRequest, HttpResponse

from accounts.selectors import tile_scope_prefixes

from .vector_tiles import tile_answer


def _tile(request: HttpRequest, z: int, x: int, y: int, which: str) -> HttpResponse:
    answer = tile_answer(
        which=which,
        prefixes=tile_scope_prefixes(request),
        z=z,
        x=x,
        y=y,
        if_none_match=request.headers.get("If-None-Match"),
    )
    resp = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        resp[name] = value
    return resp


def parcel_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    """/tiles/parcels/{z}/{x}/{y}.mvt: the user's parcels (group territories below the parcel zoom)."""
    return _tile(request, z, x, y, "parcels")


def region_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    """/tiles/regions/{z}/{x}/{y}.mvt: township, village and group boundaries of the user's county."""
    return _tile(request, z, x, y, "regions")
