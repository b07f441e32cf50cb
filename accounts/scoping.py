"""The one scoping function: a user sees and acts only inside the regions of their active offices.

Every selector calls `scope_q` (or `scope_prefixes` for raw SQL); every service calls `ensure_can`.
"""

from functools import reduce
from operator import or_

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from core.errors import PermissionDeniedError

from .models import Office, Role, User

# What each role may do. The region check comes on top: the subject's code must be inside the office.
# Later issues add their actions here (contract filing, survey upload, notice posting, …).
PERMISSIONS: dict[str, set[str]] = {
    "parcels.view": set(Role.values),
    "regions.edit": {Role.COUNTY_AGRICULTURE},
    "parcels.edit": {Role.COUNTY_AGRICULTURE},
    "contractors.edit": {Role.COUNTY_AGRICULTURE, Role.TOWNSHIP},
    "offices.edit": {Role.COUNTY_AGRICULTURE},
    "packages.export": {Role.COUNTY_AGRICULTURE},
    "packages.import": {Role.COUNTY_AGRICULTURE},
    "imagery.ingest": {Role.COUNTY_AGRICULTURE},
    "calendar.edit": {Role.COUNTY_AGRICULTURE},
    "notices.post": {Role.COUNTY_AGRICULTURE, Role.TOWNSHIP, Role.VILLAGE, Role.GROUP_ISSUER},
    "notices.object": {Role.FARMER, Role.VILLAGE, Role.GROUP_ISSUER},
    "identity.attest": {Role.VILLAGE, Role.GROUP_ISSUER, Role.TOWNSHIP},
    "contracts.sign_issuer": {Role.VILLAGE, Role.GROUP_ISSUER},
    "contracts.file": {Role.COUNTY_AGRICULTURE},
    "certificates.recall": {Role.COUNTY_AGRICULTURE, Role.TOWNSHIP, Role.VILLAGE, Role.GROUP_ISSUER},
    "filings.pull": {Role.COUNTY_NATURAL_RESOURCES},
    "filings.view": {Role.COUNTY_AGRICULTURE, Role.COUNTY_NATURAL_RESOURCES},
    "surveys.assign": {Role.COUNTY_AGRICULTURE},
    "surveys.upload": {Role.SURVEYOR},
    "boundaries.proxy": {Role.VILLAGE, Role.GROUP_ISSUER},
    "applications.issuer_review": {Role.VILLAGE, Role.GROUP_ISSUER},
    "applications.township_review": {Role.TOWNSHIP},
    "applications.county_review": {Role.COUNTY_AGRICULTURE},
    "surveys.view": {
        Role.COUNTY_AGRICULTURE,
        Role.COUNTY_NATURAL_RESOURCES,
        Role.TOWNSHIP,
        Role.VILLAGE,
        Role.GROUP_ISSUER,
        Role.SURVEYOR,
    },
}


def active_offices(user: User | AnonymousUser) -> list[Office]:
    if not user or not user.is_authenticated:
        return []
    cached: list[Office] | None = getattr(user, "_tianjie_offices", None)
    if cached is None:
        cached = list(Office.objects.filter(user=user, active=True).select_related("region"))
        setattr(user, "_tianjie_offices", cached)  # noqa: B010 - a per-request memo on the user object
    return cached


def scope_prefixes(user: User | AnonymousUser, permission: str = "parcels.view") -> list[str]:
    """Region code prefixes inside which `user` holds `permission` (empty: nothing)."""
    roles = PERMISSIONS.get(permission, set())
    return sorted({o.scope_code for o in active_offices(user) if o.role in roles})


def scope_q(user: User | AnonymousUser, field: str, permission: str = "parcels.view") -> Q:
    """A filter keeping rows whose code `field` lies inside the user's regions; matches nothing otherwise."""
    prefixes = scope_prefixes(user, permission)
    if not prefixes:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in prefixes))


def can(user: User | AnonymousUser, permission: str, code: str) -> bool:
    return any(code.startswith(p) for p in scope_prefixes(user, permission))


def ensure_can(user: User | AnonymousUser, permission: str, code: str) -> None:
    """Raise PermissionDeniedError unless `user` holds `permission` at a region containing `code`."""
    if not can(user, permission, code):
        raise PermissionDeniedError(
            f"无权在 {code} 范围内执行此操作（{permission}）",
            f"not allowed to do {permission} for {code}",
        )
