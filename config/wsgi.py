"""WSGI entry point (gunicorn config.wsgi:application).

Tile requests from a session (or an API token) whose scope this worker already knows (accounts.selectors,
30 s) are answered here without Django's middleware stack: the same answer (spatial.vector_tiles.tile_answer), at
a fraction of the overhead. Everything else, and every first request of a session, goes to Django.
Imagery (/imagery/…, MapProxy) takes the same lean path: a known session, or public layers only, goes
straight to MapProxy after the access check (imagery.access); anything else goes through Django's view.
"""

import os
import re
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from wsgiref.types import StartResponse

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")  # make run sets local
django_app = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after Django is set up
from django.db import close_old_connections  # noqa: E402

from accounts.selectors import tile_scope_known, token_scope_key  # noqa: E402
from imagery.access import access_allowed, requested_layers  # noqa: E402
from imagery.views import PREFIX as IMAGERY  # noqa: E402
from imagery.views import call_mapproxy, mapproxy_environ  # noqa: E402
from spatial.vector_tiles import tile_answer  # noqa: E402

_TILE = re.compile(r"^/tiles/(parcels|regions)/(\d{1,2})/(\d{1,8})/(\d{1,8})\.mvt$")
_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


def _session_key(environ: dict[str, Any]) -> str | None:
    raw = environ.get("HTTP_COOKIE")
    if not raw or settings.SESSION_COOKIE_NAME not in raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(settings.SESSION_COOKIE_NAME)
    except CookieError:  # a malformed Cookie header: let Django deal with it
        return None
    return morsel.value if morsel else None


def _known_scope(environ: dict[str, Any]) -> list[str] | None:
    """The scope this worker already resolved for the request's session, or for its API token."""
    known = tile_scope_known(_session_key(environ))
    if known is None and environ.get("HTTP_AUTHORIZATION"):
        known = tile_scope_known(token_scope_key(environ["HTTP_AUTHORIZATION"]))
    return known


def _imagery(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes] | None:
    """MapProxy directly, when the access check needs no database; None: let Django decide."""
    layers = requested_layers(environ.get("PATH_INFO", "")[len(IMAGERY) :], environ.get("QUERY_STRING", ""))
    prefixes = _known_scope(environ)
    if not access_allowed(prefixes, layers):
        return None  # Django resolves the session (or token) and answers, 401/404 included
    status, headers, body = call_mapproxy(mapproxy_environ(environ))
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    start_response(f"{status} {_REASONS.get(status, '')}", [*headers, ("Content-Length", str(len(body)))])
    return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(IMAGERY + "/") and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        answered = _imagery(environ, start_response)
        if answered is not None:
            return answered
    m = _TILE.match(environ.get("PATH_INFO", ""))
    if m and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        prefixes = _known_scope(environ)
        if prefixes is not None:
            close_old_connections()  # what Django does at each request's start: drop broken or old connections
            which, z, x, y = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
            answer = tile_answer(
                which=which, prefixes=prefixes, z=z, x=x, y=y, if_none_match=environ.get("HTTP_IF_NONE_MATCH")
            )
            body = b"" if environ["REQUEST_METHOD"] == "HEAD" else answer.body
            start_response(
                f"{answer.status} {_REASONS.get(answer.status, '')}",
                [*answer.headers, ("Content-Length", str(len(answer.body)))],
            )
            return [body]
    return django_app(environ, start_response)
