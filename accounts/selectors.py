"""Reads about the current user that every request needs, cached so that a tile costs no extra query."""

from django.core.cache import cache

from .models import User
from .scoping import scope_prefixes

_TTL = 60


def _key(user_id: int, permission: str) -> str:
    return f"scope:{user_id}:{permission}"


def cached_scope_prefixes(user: User, permission: str = "parcels.view") -> list[str]:
    """scope_prefixes through Redis; office changes call scope_cache_clear."""
    key = _key(user.pk, permission)
    prefixes = cache.get(key)
    if prefixes is None:
        prefixes = scope_prefixes(user, permission)
        cache.set(key, prefixes, _TTL)
    return prefixes


def scope_cache_clear(user_id: int) -> None:
    from .scoping import PERMISSIONS

    cache.delete_many([_key(user_id, p) for p in PERMISSIONS])
