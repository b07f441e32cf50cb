"""Permission checks for spatial services without importing accounts (which sits above spatial).

accounts registers its `ensure_can` here when the app is ready; until then every actor is refused.
"""

from collections.abc import Callable
from typing import Any

from .errors import PermissionDeniedError

_checker: Callable[[Any, str, str], None] | None = None


def register_checker(fn: Callable[[Any, str, str], None]) -> None:
    global _checker
    _checker = fn


def ensure(actor: Any, permission: str, code: str) -> None:
    """`actor` None is the system itself (management commands, loaders); anyone else must pass the check."""
    if actor is None:
        return
    if _checker is None:
        raise PermissionDeniedError("权限检查未配置", "no permission checker is configured")
    _checker(actor, permission, code)
