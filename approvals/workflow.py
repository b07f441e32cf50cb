"""The application workflow as one table (ARCHITECTURE.md "The contract workflow"): the business types
and what each needs, the states, who takes each transition and on what condition, what follows the review,
each step's deadline, and the one rule of "overdue". The transitions themselves are django-fsm-2
@transition methods on `approvals.models.Application`, declared with the `permission=` and `conditions=`
of this module; `transition_table()` prints them.

Services, pages and the API ask this module what may happen: the services before they move the state (with
the refusal's own message), the pages and the API through `user_actions` (what this user may do now).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.scoping import can
from accounts.selectors import household_codes


class BusinessType(models.TextChoices):
    """DOMAIN.md's business codes (the 2019 change message's)."""

    INITIAL = "1011", "初始登记（家庭承包）/延包"
    TRANSFER = "1021", "转让"
    MEMBERS = "1031", "一般变更：家庭成员变化"
    REPRESENTATIVE = "1032", "一般变更：承包方代表变更"
    PARCELS = "1033", "一般变更：地块增减"
    EXCHANGE = "104", "互换"
    SPLIT = "105", "分户"
    MERGE = "106", "合户"
    CANCEL = "107", "注销"
    CERT_REISSUE = "201", "权证补发"
    CERT_REPLACE = "202", "权证换发"
    CERT_CANCEL = "203", "权证注销"


@dataclass(frozen=True)
class Business:
    """What a business type needs and how it runs."""

    materials: tuple[str, ...]  # the scans uploaded before submitting, by name
    survey: bool = False  # its change re-surveys parcels: the county orders a survey before approving
    pair: bool = False  # two households' contracts change together: drafted, publicised, signed, filed together
    moves_parcels: bool = False  # whole parcels move to the other household (转让, 互换)
    registers: bool = False  # no new contract: after approval the county registers it (no publicity, no signing)
    names_parcels: bool = False  # the application must name the parcels concerned


BUSINESS: dict[str, Business] = {
    BusinessType.INITIAL: Business(("承包方身份证", "户口簿", "原承包合同或权证")),
    BusinessType.TRANSFER: Business(
        ("转让协议", "发包方同意书", "受让方身份证"), pair=True, moves_parcels=True, names_parcels=True
    ),
    BusinessType.MEMBERS: Business(("户口簿", "成员变化证明（出生、死亡、婚迁等）")),
    BusinessType.REPRESENTATIVE: Business(("户口簿", "家庭成员一致同意书")),
    BusinessType.PARCELS: Business(("地块变化说明", "村民小组会议决议"), survey=True, names_parcels=True),
    BusinessType.EXCHANGE: Business(("互换协议", "发包方备案意见"), pair=True, moves_parcels=True, names_parcels=True),
    BusinessType.SPLIT: Business(("户口簿（分户后）", "分户协议"), pair=True, names_parcels=True),
    BusinessType.MERGE: Business(("户口簿（合户后）", "合户协议"), pair=True),
    BusinessType.CANCEL: Business(("注销原因证明",), registers=True),
    BusinessType.CERT_REISSUE: Business(("遗失声明",), registers=True),
    BusinessType.CERT_REPLACE: Business(("原权证",), registers=True),
    BusinessType.CERT_CANCEL: Business(("原权证", "注销原因证明"), registers=True),
}

# The table's columns by another name, for the code that asks "is it one of these".
REQUIRED_MATERIALS: dict[str, list[str]] = {b: list(t.materials) for b, t in BUSINESS.items()}
SURVEY_TYPES = {b for b, t in BUSINESS.items() if t.survey}
MOVE_TYPES = {b for b, t in BUSINESS.items() if t.moves_parcels}
PAIR_TYPES = {b for b, t in BUSINESS.items() if t.pair}
REGISTER_TYPES = {b for b, t in BUSINESS.items() if t.registers}
PARCEL_TYPES = {b for b, t in BUSINESS.items() if t.names_parcels}


class State(models.TextChoices):
    DRAFT = "draft", "草稿"
    ISSUER_REVIEW = "issuer_review", "发包方初审"
    TOWNSHIP_REVIEW = "township_review", "乡镇审核"
    COUNTY_REVIEW = "county_review", "县级审批"
    SURVEYING = "surveying", "测绘与指界"
    TOWNSHIP_REREVIEW = "township_rereview", "乡镇复核测绘成果"
    APPROVED = "approved", "已批准"
    CONTRACT_PUBLICITY = "contract_publicity", "合同公示"
    SIGNING = "signing", "合同签订"
    FILED = "filed", "已备案"
    RETURNED = "returned", "已退回"
    REJECTED = "rejected", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


REVIEW_STATES = [State.ISSUER_REVIEW, State.TOWNSHIP_REVIEW, State.COUNTY_REVIEW, State.TOWNSHIP_REREVIEW]
ENDED_STATES = [State.FILED, State.REJECTED, State.WITHDRAWN]
# In progress: someone (the applicant, an officer, the surveyor, the households) still has a step to take.
OPEN_STATES = [s for s in State if s not in ENDED_STATES]
WITHDRAWABLE_STATES = [State.DRAFT, State.RETURNED, State.ISSUER_REVIEW]  # before the issuer has decided
EDITABLE_STATES = [State.DRAFT, State.RETURNED]  # materials are added and the application (re)submitted

# Who decides at each review level (accounts.scoping.PERMISSIONS, at the issuer's region).
LEVEL_PERMISSION = {
    State.ISSUER_REVIEW: "applications.issuer_review",
    State.TOWNSHIP_REVIEW: "applications.township_review",
    State.TOWNSHIP_REREVIEW: "applications.township_review",
    State.COUNTY_REVIEW: "applications.county_review",
}
# What follows the review, in an officer's inbox: the issuer publicises the approved contract and signs it;
# for a certificate action or a cancellation the county registers it. (state, permission, which ones)
AFTER_REVIEW = [
    (State.APPROVED, "contracts.sign_issuer", ~Q(business__in=REGISTER_TYPES)),
    (State.SIGNING, "contracts.sign_issuer", Q()),
    (State.APPROVED, "contracts.file", Q(business__in=REGISTER_TYPES)),
]
# How long each step has, in calendar days from the day it starts (contract publicity: until its notice ends).
STEP_DAYS = {
    State.ISSUER_REVIEW: 5,
    State.TOWNSHIP_REVIEW: 5,
    State.COUNTY_REVIEW: 10,
    State.SURVEYING: 60,
    State.TOWNSHIP_REREVIEW: 5,
    State.APPROVED: 10,
    State.SIGNING: 20,
}
# An officer's decision at a review level, as the transition it takes.
DECISIONS = ("approve", "return", "reject", "survey")
APPROVE_TRANSITION = {
    State.ISSUER_REVIEW: "issuer_approve",
    State.TOWNSHIP_REVIEW: "township_approve",
    State.TOWNSHIP_REREVIEW: "township_reapprove",
    State.COUNTY_REVIEW: "county_approve",
}
DECISION_TRANSITION = {"return": "return_for_revision", "reject": "reject", "survey": "county_order_survey"}


# --- who may take a transition (django-fsm `permission=`: called with the application and the user) -------


def at_level(app: Any, user: Any) -> bool:
    """The officers of the application's current review level, in its region."""
    permission = LEVEL_PERMISSION.get(State(app.state))
    return bool(permission and can(user, permission, app.fbfbm))


def editor(app: Any, user: Any) -> bool:
    """The applicant, a member of the household, or the issuer's officer."""
    return (
        app.applicant_id == user.pk
        or app.cbfbm in household_codes(user)
        or can(user, "applications.issuer_review", app.cbfbm)
    )


def applicant(app: Any, user: Any) -> bool:
    return bool(app.applicant_id == user.pk)


def issuer(app: Any, user: Any) -> bool:
    """The issuer's village or group officer: publicises and signs the contract."""
    return can(user, "contracts.sign_issuer", app.fbfbm)


def county_files(app: Any, user: Any) -> bool:
    """The county bureau: files contracts and registers certificate business."""
    return can(user, "contracts.file", app.fbfbm)


def system(app: Any, user: Any) -> bool:
    """Taken by the platform when another app announces an event (a notice or a survey's publicity ends)."""
    return False


# --- on what condition (django-fsm `conditions=`: called with the application) -----------------------------


def needs_survey(app: Any) -> bool:
    return app.business in SURVEY_TYPES


def may_order_survey(app: Any) -> bool:
    """A change of parcel boundaries, with the parcels named."""
    return needs_survey(app) and bool(app.dkbms)


def surveyed_if_needed(app: Any) -> bool:
    """The county approves a change of parcels only after its survey was accepted."""
    return not needs_survey(app) or app.steps.filter(action="survey_accepted").exists()


def makes_contract(app: Any) -> bool:
    return app.business not in REGISTER_TYPES


def registers(app: Any) -> bool:
    return app.business in REGISTER_TYPES


# --- what a user may do now, and overdue -----------------------------------------------------------------


def user_actions(user: Any, app: Any) -> set[str]:
    """The transitions this user may take on the application now (django-fsm's available user
    transitions), plus what the pages show for them: "decide" (a decision at a review level), "edit"
    (upload materials), "file_together" (the two contracts of a pair, on the application's page) and
    "file" (a single contract, on the contracts' filing page)."""
    actions = {t.name for t in app.get_available_user_state_transitions(user)}
    if actions & {"return_for_revision", "reject", *APPROVE_TRANSITION.values(), "county_order_survey"}:
        actions.add("decide")
    if "submit" in actions:
        actions.add("edit")
    if State(app.state) == State.SIGNING and county_files(app, user):
        actions.add("file_together" if app.business in PAIR_TYPES else "file")
    return actions


def overdue_q(today: date | None = None) -> Q:
    """The one rule of overdue, as a filter: a step still in progress whose deadline has passed."""
    return Q(state__in=OPEN_STATES, step_due__lt=today or timezone.localdate())


def is_overdue(app: Any, today: date | None = None) -> bool:
    """The same rule for one application."""
    day = today or timezone.localdate()
    return bool(app.step_due and app.step_due < day and app.state in OPEN_STATES)
