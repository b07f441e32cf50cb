"""Ports: what a lower app needs from a higher one it may not import (ARCHITECTURE.md, "Crossing the app
layers"). The higher app registers its implementation when it is ready (its AppConfig.ready); until then
the port answers safely: every actor is refused, no subject is known, there is no imagery.

* Permission checks for the registry's services: `accounts` registers its `ensure_can`.
* Subjects by kind (households, contracts, parcel holders), as plain rows by code: `contracts` registers
  its resolvers, so that `publicity` and `approvals` read them without importing `contracts`' internals.
* Imagery (the layers a user may see, a map image of a box): the imagery app registers its provider;
  without one, maps draw without imagery.
"""

from collections.abc import Callable
from typing import Any, Protocol

from .errors import DomainError, PermissionDeniedError

# --- permission checks -------------------------------------------------------------------------------

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


# --- subjects by kind --------------------------------------------------------------------------------

Resolver = Callable[[list[str]], dict[str, dict[str, Any]]]
_resolvers: dict[str, Resolver] = {}


def register_subject_resolver(kind: str, resolver: Resolver) -> None:
    _resolvers[kind] = resolver


def resolve_subjects(kind: str, codes: list[str]) -> dict[str, dict[str, Any]]:
    """code → row for the current records of `kind` among `codes` (a code the resolver does not know is
    simply absent)."""
    resolver = _resolvers.get(kind)
    if resolver is None:
        raise DomainError(f"系统未提供“{kind}”数据", f"no resolver is registered for {kind}", code="no_resolver")
    return resolver(codes) if codes else {}


# --- imagery -----------------------------------------------------------------------------------------


class ImageryProvider(Protocol):
    def layers(self, user: Any) -> list[dict[str, Any]]: ...

    def county_png(self, county: str, box: tuple[float, float, float, float], width: int, height: int) -> bytes | None:
        """The county's imagery for a lon/lat box (EPSG:4490) as a PNG of width × height, or None."""
        ...


_provider: ImageryProvider | None = None


def register_imagery_provider(provider: ImageryProvider) -> None:
    global _provider
    _provider = provider


def imagery_layers(user: Any) -> list[dict[str, Any]]:
    return _provider.layers(user) if _provider else []


def county_imagery_png(county: str, box: tuple[float, float, float, float], width: int, height: int) -> bytes | None:
    return _provider.county_png(county, box, width, height) if _provider else None
