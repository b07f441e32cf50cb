"""Reads about the current user that every request needs, cached so that a tile costs no extra query."""

import hashlib
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache

from .models import Office, Role, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest
from .scoping import scope_prefixes

_TTL = 60


def _key(user_id: int, permission: str) -> str:
    return f"scope:{user_id}:{permission}"


def cached_scope_prefixes(user: "User | AnonymousUser", permission: str = "parcels.view") -> list[str]:
    """scope_prefixes through Redis; office changes call scope_cache_clear."""
    if not user.is_authenticated:
        return []
    key = _key(user.pk, permission)
    prefixes = cache.get(key)
    if prefixes is None:
        prefixes = scope_prefixes(user, permission)
        cache.set(key, prefixes, _TTL)
    return prefixes


def scope_cache_clear(user_id: int) -> None:
    from .scoping import PERMISSIONS

    cache.delete_many([_key(user_id, p) for p in PERMISSIONS])


# --- the tile fast path ----------------------------------------------------------------------------
# A map view asks for dozens of tiles a second. Resolving the session (Redis), the user (a query) and the
# scope (Redis) for each costs more than the tile query itself, so each worker remembers, per session
# key (or per API token, for GIS software), the scope it resolved for TILE_SCOPE_TTL seconds. Consequence:
# after logout, an office change or a deleted token a worker may still serve tiles (shapes and codes and
# imagery, never personal data) for that session or token for up to 30 s.
TILE_SCOPE_TTL = 30.0
_TILE_SCOPE_MAX = 20000
_tile_scope: dict[str, tuple[float, list[str]]] = {}


def tile_scope_known(session_key: str | None) -> list[str] | None:
    """The scope this worker resolved for a session in the last TILE_SCOPE_TTL seconds, if any."""
    if not session_key:
        return None
    hit = _tile_scope.get(session_key)
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def token_scope_key(authorization: str | None) -> str | None:
    """The fast path's key for an API-token request (GIS software): a digest of its Authorization header."""
    if not authorization or not authorization.startswith(("Token ", "Basic ")):
        return None
    return "auth:" + hashlib.sha256(authorization.encode("utf-8", "replace")).hexdigest()


def tile_scope_prefixes(request: "HttpRequest") -> list[str] | None:
    """The region prefixes for a tile request; None when nobody is logged in. A session, or an API token
    (Authorization header), resolved here is remembered by this worker for TILE_SCOPE_TTL seconds."""
    from .auth import request_user

    session = getattr(request, "user", None) is not None and request.user.is_authenticated
    key = (
        request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if session or not request.headers.get("Authorization")
        else token_scope_key(request.headers.get("Authorization"))
    )
    known = tile_scope_known(key)
    if known is not None:
        return known
    now = time.monotonic()
    user = request_user(request)
    if user is None:
        return None
    prefixes = cached_scope_prefixes(user)
    if key:
        if len(_tile_scope) >= _TILE_SCOPE_MAX:
            _tile_scope.clear()
        _tile_scope[key] = (now + TILE_SCOPE_TTL, prefixes)
    return prefixes


def tile_scope_forget(session_key: str | None) -> None:
    if session_key:
        _tile_scope.pop(session_key, None)


def household_codes(user: Any) -> list[str]:
    """The households (CBFBM) a user belongs to as a farmer: their farmer offices say which."""
    if not user or not user.is_authenticated:
        return []
    return sorted(
        set(
            Office.objects.filter(user=user, active=True, role=Role.FARMER)
            .exclude(contractor_code="")
            .values_list("contractor_code", flat=True)
        )
    )
