"""Reads of applications, scoped: who sees which application, an officer's inbox, the county's counts
per township, the map of an application's parcels (old and new)."""

import json
from datetime import date
from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Substr
from django.utils import timezone

from accounts.models import User
from accounts.scoping import scope_prefixes
from accounts.selectors import household_codes
from contracts.models import ContractParcel
from spatial.models import Parcel, Region

from .models import Application
from .workflow import AFTER_REVIEW, LEVEL_PERMISSION, OPEN_STATES, State, is_overdue, overdue_q

VIEW_PERMISSIONS = (
    "applications.issuer_review",
    "applications.township_review",
    "applications.county_review",
    "contracts.sign_issuer",
    "contracts.file",
)


def applications_visible(user: User) -> QuerySet[Application]:
    """The household's own applications, and those in the regions where the user reviews, signs or files."""
    own = household_codes(user)
    # the other household of a transfer, say, or the new one of a split (text keys, as indexed)
    q = Q(cbfbm__in=own) | Q(other_household__in=own) | Q(new_household__in=own)
    prefixes = {p for permission in VIEW_PERMISSIONS for p in scope_prefixes(user, permission)}
    for prefix in sorted(prefixes):
        if not any(prefix.startswith(other) and prefix != other for other in prefixes):  # the widest only
            q |= Q(fbfbm__startswith=prefix)
    return Application.objects.alias(
        other_household=KT("change_data__other_cbfbm"), new_household=KT("staged__new_cbfbm")
    ).filter(q)


def visible_application(user: User, code: str) -> Application | None:
    """One application by its code, if the user may see it (None: not there, or not theirs to see)."""
    return (
        applications_visible(user)
        .select_related("applicant", "survey_task", "notice", "draft", "other_draft")
        .filter(code=code)
        .first()
    )


def inbox(user: User) -> Any:
    """What waits for this user: applications at a level they decide, in their regions, overdue first."""
    q = Q(pk__in=[])
    turns = [(state, permission, Q()) for state, permission in LEVEL_PERMISSION.items()] + AFTER_REVIEW
    for state, permission, which in turns:
        for prefix in scope_prefixes(user, permission):
            q |= Q(state=state, fbfbm__startswith=prefix) & which
    return Application.objects.filter(q).order_by("step_due", "created_at")


def is_officer(user: User) -> bool:
    return any(scope_prefixes(user, p) for p in VIEW_PERMISSIONS)


def with_overdue(rows: list[Application]) -> list[dict[str, Any]]:
    today = timezone.localdate()
    return [{"app": a, "overdue": is_overdue(a, today)} for a in rows]


def township_counts(county: str, today: date | None = None) -> list[dict[str, Any]]:
    """Per township of the county: applications in progress (approvals.workflow.OPEN_STATES), overdue (its
    one rule), and filed this month."""
    day = today or timezone.localdate()
    month = day.replace(day=1)
    rows = (
        Application.objects.filter(fbfbm__startswith=county)
        .annotate(township=Substr("fbfbm", 1, 9))
        .values("township")
        .annotate(
            waiting=Count("pk", filter=Q(state__in=OPEN_STATES)),
            overdue=Count("pk", filter=overdue_q(day)),
            filed=Count("pk", filter=Q(state=State.FILED, updated_at__date__gte=month)),
        )
    )
    counts = {r["township"]: r for r in rows}
    names = dict(Region.objects.filter(code__startswith=county, level="township").values_list("code", "name"))
    out = []
    for code in sorted(set(names) | set(counts)):
        r = counts.get(code, {})
        out.append(
            {
                "code": code,
                "name": names.get(code, code),
                "waiting": r.get("waiting", 0),
                "overdue": r.get("overdue", 0),
                "filed": r.get("filed", 0),
            }
        )
    return out


def parcels_geojson(app: Application) -> dict[str, Any]:
    """The application's parcels (or, for a change of members, the household's): the registry's (`status`
    old) and, once there are any, the new
    ones: the staged versions after approval, else the survey's submitted result."""
    features = []
    codes = [*app.dkbms, *app.change_data.get("parcels_in", [])] or list(
        ContractParcel.objects.filter(
            contract__contractor__cbfbm=app.cbfbm, contract__valid_to__isnull=True
        ).values_list("dkbm", flat=True)
    )
    for p in Parcel.objects.filter(dkbm__in=codes, valid_to__isnull=True).annotate(json=AsGeoJSON("geom")):
        features.append(_feature(p.json, "old", p.dkbm, f"{p.dkbm} {p.dkmc} {p.scmj} m²"))
    if app.staged.get("parcels"):
        for p in Parcel.objects.filter(pk__in=app.staged["parcels"]).annotate(json=AsGeoJSON("geom")):
            features.append(_feature(p.json, "new", p.dkbm, f"{p.dkbm}（新）{p.scmj} m²"))
    elif app.survey_task and app.survey_task.submitted:
        for q in app.survey_task.submitted.parcels.annotate(json=AsGeoJSON("geom")):
            features.append(_feature(q.json, "new", q.dkbm, f"{q.dkbm or '新地块'}（测绘）{q.area_m2} m²"))
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: str, status: str, dkbm: str, label: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": json.loads(geometry),
        "properties": {"status": status, "dkbm": dkbm, "label": label},
    }
