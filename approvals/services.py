"""The transitions of an application as services: each checks who may act at that level and in that
region, moves the state through the model's transition table, logs a step (actor, time, action, comment,
attachments), audits it, sets the next step's deadline and tells the next level, in one transaction.

Partial (issue 8 continues): the survey branch stops at ordering the survey; contract publicity, signing
and filing (through the publicity and contracts apps), materials uploads and the pages come next.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransition

from accounts.models import Office, Role, User
from accounts.scoping import can, scope_prefixes
from accounts.selectors import household_codes
from audit import services as audit
from publicity.notify import notify_users, officers_of
from spatial.bulk import next_number
from spatial.codes import validate_cbfbm
from spatial.errors import DomainError, PermissionDeniedError
from spatial.subjects import resolve_subjects

from .models import Application, BusinessType, State, Step

# Who decides at each level (accounts.scoping.PERMISSIONS), and how long the level has (calendar days).
LEVEL_PERMISSION = {
    State.ISSUER_REVIEW: "applications.issuer_review",
    State.TOWNSHIP_REVIEW: "applications.township_review",
    State.TOWNSHIP_REREVIEW: "applications.township_review",
    State.COUNTY_REVIEW: "applications.county_review",
}
STEP_DAYS = {
    State.ISSUER_REVIEW: 5,
    State.TOWNSHIP_REVIEW: 5,
    State.COUNTY_REVIEW: 10,
    State.SURVEYING: 60,
    State.TOWNSHIP_REREVIEW: 5,
}


class ApprovalError(DomainError):
    default_code = "application_invalid"


class ConflictError(DomainError):
    default_code = "conflict"


def _log(app: Application, actor: User, action: str, before: str, comment: str = "", **data: Any) -> None:
    Step.objects.create(
        application=app, actor=actor, action=action, from_state=before, to_state=app.state, comment=comment
    )
    audit.record(
        actor=actor,
        action=f"application.{action}",
        subject=app,
        region_code=app.fbfbm,
        data={"code": app.code, "from": before, "to": app.state, **data},
    )


def _due(app: Application) -> None:
    days = STEP_DAYS.get(State(app.state))
    app.step_due = timezone.localdate() + timedelta(days=days) if days else None


def _tell_next(app: Application) -> None:
    """The users who act next: the issuer's officers, the township, the county; the household when it
    comes back to them."""
    state = State(app.state)
    if state == State.ISSUER_REVIEW:
        users = officers_of([app.fbfbm])
    elif state in (State.TOWNSHIP_REVIEW, State.TOWNSHIP_REREVIEW):
        users = [o.user for o in Office.objects.filter(active=True, role=Role.TOWNSHIP, region__code=app.fbfbm[:9])]
    elif state == State.COUNTY_REVIEW:
        users = [
            o.user for o in Office.objects.filter(active=True, role=Role.COUNTY_AGRICULTURE, region__code=app.fbfbm[:6])
        ]
    else:
        users = [o.user for o in Office.objects.filter(active=True, role=Role.FARMER, contractor_code=app.cbfbm)]
    notify_users(
        users,
        title=f"业务申请{state.label}：{app.code}",
        body=f"{BusinessType(app.business).label}：{app.summary}",
        url=f"/applications/{app.code}/",
    )


@transaction.atomic
def application_create(
    *,
    actor: User,
    business: str,
    cbfbm: str,
    summary: str,
    dkbms: list[str] | None = None,
    change_data: dict[str, Any] | None = None,
) -> Application:
    """A draft application for a household: by a member of it (on a phone) or by its issuer's officer."""
    if business not in BusinessType.values:
        raise ApprovalError(f"未知的业务类型 {business}", f"unknown business type {business}", field="business")
    cbfbm = validate_cbfbm(cbfbm.strip())
    if cbfbm not in household_codes(actor) and not can(actor, "applications.issuer_review", cbfbm):
        raise PermissionDeniedError("只能为本户或本发包方的承包方申请", "only for your household or your issuer's")
    if not resolve_subjects("households", [cbfbm]):
        raise ApprovalError(f"承包方 {cbfbm} 不存在", f"no household {cbfbm}", field="cbfbm")
    codes = sorted(set(dkbms or []))
    holders = resolve_subjects("parcel_holders", codes)
    foreign = [d for d in codes if holders.get(d, {}).get("cbfbm") != cbfbm]
    if foreign:
        raise ApprovalError(
            f"这些地块不是该户承包的：{'、'.join(foreign[:5])}",
            f"not this household's parcels: {', '.join(foreign[:5])}",
        )
    if not summary.strip():
        raise ApprovalError("请写明申请事由", "say what is applied for", field="summary")
    app = Application.objects.create(
        code=next_number(Application, "code", f"YW{cbfbm[:6]}{timezone.localdate().year}", 6),
        business=business,
        cbfbm=cbfbm,
        fbfbm=cbfbm[:14],
        dkbms=codes,
        summary=summary.strip()[:500],
        change_data=change_data or {},
        applicant=actor,
    )
    _log(app, actor, "created", State.DRAFT, business=business)
    return app


def _fresh(app: Application, expected: str | None) -> Application:
    current = Application.objects.get(pk=app.pk)
    if expected is not None and current.state != expected:
        raise ConflictError(
            f"这份申请已被他人处理（现为{State(current.state).label}），请刷新后再看",
            f"someone else has acted on it (now {current.state}): reload the page",
        )
    return current


def _save(app: Application) -> None:
    try:
        app.save()
    except ConcurrentTransition:
        raise ConflictError(
            "这份申请刚被他人处理，您的决定未保存，请刷新后再看",
            "someone else acted on it a moment ago; your decision was not saved: reload the page",
        ) from None


@transaction.atomic
def application_submit(*, actor: User, application: Application, expected: str | None = None) -> Application:
    """Send the draft (or the revised application) to the issuer's review."""
    app = _fresh(application, expected)
    if (
        app.applicant_id != actor.pk
        and app.cbfbm not in household_codes(actor)
        and not can(actor, "applications.issuer_review", app.cbfbm)
    ):
        raise PermissionDeniedError("只有申请人或发包方可以提交", "only the applicant or the issuer submits")
    if app.state not in (State.DRAFT, State.RETURNED):
        raise ApprovalError(f"申请{State(app.state).label}，不能提交", f"the application is {app.state}")
    before = app.state
    app.submit()
    app.returned_from = ""
    _due(app)
    _save(app)
    _log(app, actor, "submitted", before)
    _tell_next(app)
    return app


DECISIONS = ("approve", "return", "reject", "survey")


@transaction.atomic
def application_decide(
    *, actor: User, application: Application, decision: str, comment: str = "", expected: str | None = None
) -> Application:
    """An officer's decision at the application's current level: approve (to the next level), return
    for revision, reject (both with reasons) or, at the county, order a survey. `expected` is the state
    the officer saw: if it has moved on, the decision is refused as a conflict."""
    app = _fresh(application, expected)
    state = State(app.state)
    permission = LEVEL_PERMISSION.get(state)
    if permission is None:
        raise ApprovalError(f"申请{state.label}，不在审核环节", f"the application is {state}: not under review")
    if not can(actor, permission, app.fbfbm):
        raise PermissionDeniedError(
            f"现在是{state.label}环节，您无权在此审核", f"it is at {state}: not yours to decide here"
        )
    if decision not in DECISIONS:
        raise ApprovalError("决定应为同意、退回、不予批准或测绘", "approve, return, reject or survey", field="decision")
    if decision in ("return", "reject") and not comment.strip():
        raise ApprovalError("退回或不予批准须写明理由", "a return or a rejection needs the reasons", field="comment")
    before = app.state
    if decision == "return":
        app.return_for_revision()
        app.returned_from = before
    elif decision == "reject":
        app.reject()
    elif decision == "survey":
        if state != State.COUNTY_REVIEW:
            raise ApprovalError("只有县级审批可以安排测绘", "only the county orders a survey", field="decision")
        app.county_order_survey()
    elif state == State.ISSUER_REVIEW:
        app.issuer_approve()
    elif state == State.TOWNSHIP_REVIEW:
        app.township_approve()
    elif state == State.TOWNSHIP_REREVIEW:
        app.township_reapprove()
    else:  # the county approves: a change of parcels needs its survey first
        surveyed = Step.objects.filter(application=app, action="survey_accepted").exists()
        if app.needs_survey and not surveyed:
            raise ApprovalError(
                f"{BusinessType(app.business).label}须先测绘：请选择“安排测绘”",
                "this change needs a survey first: order one",
                field="decision",
            )
        app.county_approve()
    _due(app)
    _save(app)
    _log(
        app,
        actor,
        {"approve": "approved", "return": "returned", "reject": "rejected", "survey": "survey_ordered"}[decision],
        before,
        comment.strip(),
    )
    _tell_next(app)
    return app


@transaction.atomic
def application_withdraw(*, actor: User, application: Application, reason: str = "") -> Application:
    app = _fresh(application, None)
    if app.applicant_id != actor.pk:
        raise PermissionDeniedError("只有申请人可以撤回", "only the applicant withdraws")
    if app.state not in (State.DRAFT, State.RETURNED, State.ISSUER_REVIEW):
        raise ApprovalError("申请已进入审核，不能撤回", "the review has gone past the issuer: it cannot be withdrawn")
    before = app.state
    app.withdraw()
    app.step_due = None
    _save(app)
    _log(app, actor, "withdrawn", before, reason.strip())
    return app


def inbox(user: User) -> Any:
    """What waits for this user: applications at a level they decide, in their regions, overdue first."""
    q = Q(pk__in=[])
    for state, permission in LEVEL_PERMISSION.items():
        for prefix in scope_prefixes(user, permission):
            q |= Q(state=state, fbfbm__startswith=prefix)
    return Application.objects.filter(q).order_by("step_due", "created_at")
