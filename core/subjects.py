"""Records that a notice (or, later, a workflow) can be about but that live in an app its user may not
import (ARCHITECTURE.md): households and contracts belong to `contracts`, which `publicity` may not import.
The owning app registers a resolver per kind when it is ready; a caller gets plain rows (dicts) by code,
and a code the resolver does not know is simply absent."""

from collections.abc import Callable
from typing import Any

from .errors import DomainError

Resolver = Callable[[list[str]], dict[str, dict[str, Any]]]
_resolvers: dict[str, Resolver] = {}


def register_subject_resolver(kind: str, resolver: Resolver) -> None:
    _resolvers[kind] = resolver


def resolve_subjects(kind: str, codes: list[str]) -> dict[str, dict[str, Any]]:
    """code → row for the current records of `kind` among `codes`."""
    resolver = _resolvers.get(kind)
    if resolver is None:
        raise DomainError(f"系统未提供“{kind}”数据", f"no resolver is registered for {kind}", code="no_resolver")
    return resolver(codes) if codes else {}
