"""Counting attempts per key in a window, in the shared cache (Redis: one count for every worker). Used where
an answer must not be guessable by repetition (phone login's first step by address and by phone)."""

from django.core.cache import cache


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt of `key` in `scope`; False once more than `limit` fall in the window, which starts at
    the first attempt and is not extended by later ones."""
    name = f"throttle:{scope}:{key}"
    if cache.add(name, 1, timeout=window_seconds):
        return True
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr: a new window
        cache.add(name, 1, timeout=window_seconds)
        return True
    return count <= limit
