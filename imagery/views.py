"""/imagery/…: MapProxy behind the access check. The first request of a session comes here (Django
resolves the session or token once); later ones take the lean path in config/wsgi.py."""

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.selectors import tile_scope_prefixes

from .access import access_allowed, requested_layers
from .mapproxy import mapproxy_app

PREFIX = "/imagery"


def call_mapproxy(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run MapProxy's WSGI app on `environ` (PATH_INFO below /imagery)."""
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        got["status"], got["headers"] = status, headers

    result: Iterable[bytes] = mapproxy_app()(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return int(got["status"].split()[0]), got["headers"], body


def mapproxy_environ(environ: dict[str, Any]) -> dict[str, Any]:
    inner = dict(environ)
    path = inner.get("PATH_INFO", "")
    inner["SCRIPT_NAME"] = inner.get("SCRIPT_NAME", "").rstrip("/") + PREFIX
    inner["PATH_INFO"] = path[len(PREFIX) :] if path.startswith(PREFIX) else path
    return inner


@require_safe
def imagery(request: HttpRequest, path: str) -> HttpResponse:
    prefixes = tile_scope_prefixes(request)
    if not access_allowed(prefixes, requested_layers("/" + path, request.META.get("QUERY_STRING", ""))):
        status = 401 if prefixes is None else 404  # never say that a layer of another county exists
        refused = HttpResponse(
            "无权查看此影像 / not allowed to view this imagery", status=status, content_type="text/plain; charset=utf-8"
        )
        if status == 401:  # GIS software then sends the user name and API token (accounts.auth)
            refused["WWW-Authenticate"] = 'Basic realm="tianjie"'
        return refused
    status, headers, body = call_mapproxy(mapproxy_environ(request.META))
    response = HttpResponse(body, status=status)
    for name, value in headers:
        if name.lower() not in ("content-length", "connection"):
            response[name] = value
    return response
