"""WSGI entry point (gunicorn config.wsgi:application).

Tile requests from a session whose scope this worker already knows (accounts.selectors, 30 s) are
answered here without Django's middleware stack: the same answer (spatial.tiles.tile_answer), at a
fraction of the overhead. Everything else, and every first request of a session, goes to Django.
MapProxy is mounted beside Django in a later issue.
"""

import os
import re
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from wsgiref.types import StartResponse

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_app = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after Django is set up
from django.db import close_old_connections  # noqa: E402

from accounts.selectors import tile_scope_known  # noqa: E402
from spatial.tiles import tile_answer  # noqa: E402

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


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    m = _TILE.match(environ.get("PATH_INFO", ""))
    if m and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        prefixes = tile_scope_known(_session_key(environ))
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
