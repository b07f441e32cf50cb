"""The transitions of an application as services: each checks who may act at that level and in that
region, moves the state through the model's transition table, logs a step (actor, time, action, comment,
attachments), audits it, sets the next step's deadline and tells the next level, in one transaction.

After the review: the county's order of a survey makes a survey task (surveys), whose acceptance after
its publicity sends the application to the township's re-review; the county's approval stages the change
as pending registry versions (approvals.registry); the issuer drafts the new contract and publicises it
(contracts, publicity, at least 10 working days); the notice's end opens signing; the county's filing of
the signed contract (contracts.filing) puts the change in force and files the application with its change
record. The receivers of the other apps' signals call the `application_*` services below.
"""

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransition

from accounts.models import Office, Role, User
from accounts.notifications import notify_users, officers_of
from accounts.scoping import can
from accounts.selectors import household_codes
from audit import services as audit
from contracts.filing import (
    certificate_cancel,
    certificate_reissue,
    contract_cancel,
    contract_draft,
    contract_draft_first,
    contracts_file_together,
    contracts_hold,
    contracts_release,
)
from contracts.models import Certificate, CertificateStatus, Contract, ContractDocument, Contractor, RegisterEntry
from contracts.services import contractor_cancel
from core.codes import county_of, issuer_of, township_of, validate_cbfbm
from core.errors import DomainError, PermissionDeniedError
from core.numbering import next_number
from core.ports import resolve_subjects
from publicity.models import NoticeKind
from publicity.notices import notice_create, notice_post
from spatial.models import Parcel, VersionStatus
from spatial.services import parcel_retire
from surveys.services import survey_task_create

from . import workflow as wf
from .materials import decision_attachment
from .models import Application, ChangeRecord, Step
from .registry import (
    ACQUISITION,
    change_message,
    clean_change,
    combine_messages,
    current_contract,
    current_household,
    moved_parcels,
    other_household_code,
    parcels_for_draft,
    register_message,
    stage_change,
)
from .workflow import (
    APPROVE_TRANSITION,
    DECISION_TRANSITION,
    DECISIONS,
    LEVEL_PERMISSION,
    PAIR_TYPES,
    PARCEL_TYPES,
    REGISTER_TYPES,
    REQUIRED_MATERIALS,
    STEP_DAYS,
    WITHDRAWABLE_STATES,
    BusinessType,
    State,
)


class ApprovalError(DomainError):
    default_code = "application_invalid"


class ConflictError(DomainError):
    default_code = "conflict"
    http_status = 409


def _log(
    app: Application,
    actor: User | None,
    action: str,
    before: str,
    comment: str = "",
    attachments: list[dict[str, Any]] | None = None,
    **data: Any,
) -> None:
    Step.objects.create(
        application=app,
        actor=actor,
        action=action,
        from_state=before,
        to_state=app.state,
        comment=comment,
        attachments=attachments or [],
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
    elif state in (State.APPROVED, State.SIGNING):  # the issuer publicises or signs; the household follows
        users = officers_of([app.fbfbm]) + [
            o.user for o in Office.objects.filter(active=True, role=Role.FARMER, contractor_code=app.cbfbm)
        ]
    elif state in (State.TOWNSHIP_REVIEW, State.TOWNSHIP_REREVIEW):
        users = [
            o.user for o in Office.objects.filter(active=True, role=Role.TOWNSHIP, region__code=township_of(app.fbfbm))
        ]
    elif state == State.COUNTY_REVIEW:
        users = [
            o.user
            for o in Office.objects.filter(active=True, role=Role.COUNTY_AGRICULTURE, region__code=county_of(app.fbfbm))
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
    if business in PARCEL_TYPES and not codes:
        raise ApprovalError("请选择涉及的地块", "choose the parcels concerned", field="dkbms")
    app = Application.objects.create(
        code=next_number(Application, "code", f"YW{county_of(cbfbm)}{timezone.localdate().year}", 6),
        business=business,
        cbfbm=cbfbm,
        fbfbm=issuer_of(cbfbm),
        dkbms=codes,
        summary=summary.strip()[:500],
        change_data=clean_change(business, cbfbm, change_data or {}),
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
def application_submit(
    *, actor: User, application: Application, expected: str | None = None, reply: str = ""
) -> Application:
    """Send the draft to the issuer's review; a returned application goes back with the applicant's
    answer to the reasons (`reply`, required then)."""
    app = _fresh(application, expected)
    if not wf.editor(app, actor):
        raise PermissionDeniedError("只有申请人或发包方可以提交", "only the applicant or the issuer submits")
    if app.state not in wf.EDITABLE_STATES:
        raise ApprovalError(f"申请{State(app.state).label}，不能提交", f"the application is {app.state}")
    if app.state == State.RETURNED and not reply.strip():
        raise ApprovalError(
            "请答复退回意见：说明补充或修改了什么", "answer the return: say what you added or changed", field="reply"
        )
    missing = missing_materials(app)
    if missing:
        raise ApprovalError(
            f"还缺少材料：{'、'.join(missing)}", f"materials missing: {', '.join(missing)}", code="materials_missing"
        )
    before = app.state
    app.submit()
    app.returned_from = ""
    _due(app)
    _save(app)
    _log(app, actor, "submitted", before, reply.strip())
    _tell_next(app)
    return app


def missing_materials(app: Application) -> list[str]:
    have = set(app.materials.values_list("name", flat=True))
    return [name for name in REQUIRED_MATERIALS.get(BusinessType(app.business), []) if name not in have]


@transaction.atomic
def application_decide(
    *,
    actor: User,
    application: Application,
    decision: str,
    comment: str = "",
    expected: str | None = None,
    survey: dict[str, Any] | None = None,
    attachment: Any = None,
) -> Application:
    """An officer's decision at the application's current level: approve (to the next level), return
    for revision, reject (both with reasons) or, at the county, order a survey (`survey`: the assignee,
    the company and the due date of the survey task). `expected` is the state the officer saw: if it has
    moved on, the decision is refused as a conflict. The county's approval stages the change."""
    app = _fresh(application, expected)
    state = State(app.state)
    if state not in LEVEL_PERMISSION:
        raise ApprovalError(f"申请{state.label}，不在审核环节", f"the application is {state}: not under review")
    if not wf.at_level(app, actor):
        raise PermissionDeniedError(
            f"现在是{state.label}环节，您无权在此审核", f"it is at {state}: not yours to decide here"
        )
    if decision not in DECISIONS:
        raise ApprovalError("决定应为同意、退回、不予批准或测绘", "approve, return, reject or survey", field="decision")
    if decision in ("return", "reject") and not comment.strip():
        raise ApprovalError("退回或不予批准须写明理由", "a return or a rejection needs the reasons", field="comment")
    before = app.state
    if decision == "survey":
        if state != State.COUNTY_REVIEW:
            raise ApprovalError("只有县级审批可以安排测绘", "only the county orders a survey", field="decision")
        if not wf.may_order_survey(app):
            raise ApprovalError(
                f"{BusinessType(app.business).label}不需要测绘（地块边界变化请申请地块增减）",
                "this business needs no survey (a change of boundaries is a 1033)",
                field="decision",
            )
        survey = survey or {}
        app.survey_task = survey_task_create(
            actor=actor,
            dkbms=app.dkbms,
            reason=f"{BusinessType(app.business).label}（{app.code}）"[:200],
            company=str(survey.get("company", "")),
            assignee=survey.get("assignee"),  # type: ignore[arg-type]
            due_on=survey.get("due_on") or timezone.localdate() + timedelta(days=STEP_DAYS[State.SURVEYING]),
            application_ref=app.code,
        )
        notify_users(
            [app.survey_task.assignee],
            title=f"新测绘任务：{app.survey_task.code}",
            body=f"{app.survey_task.reason}，期限 {app.survey_task.due_on}",
            url=f"/surveys/{app.survey_task.code}/",
        )
    elif decision == "approve" and state == State.COUNTY_REVIEW:
        if not wf.surveyed_if_needed(app):
            raise ApprovalError(
                f"{BusinessType(app.business).label}须先测绘：请选择“安排测绘”",
                "this change needs a survey first: order one",
                field="decision",
            )
        app.staged = stage_change(actor, app)
    elif decision == "return":
        app.returned_from = before
    getattr(app, DECISION_TRANSITION.get(decision) or APPROVE_TRANSITION[state])()
    _due(app)
    _save(app)
    files = [decision_attachment(actor=actor, application=app, upload=attachment)] if attachment else []
    _log(
        app,
        actor,
        {"approve": "approved", "return": "returned", "reject": "rejected", "survey": "survey_ordered"}[decision],
        before,
        comment.strip(),
        attachments=[{"material": m.pk, "file_name": m.file_name, "sha256": m.sha256} for m in files],
    )
    _tell_next(app)
    return app


@transaction.atomic
def application_withdraw(*, actor: User, application: Application, reason: str = "") -> Application:
    app = _fresh(application, None)
    if not wf.applicant(app, actor):
        raise PermissionDeniedError("只有申请人可以撤回", "only the applicant withdraws")
    if app.state not in WITHDRAWABLE_STATES:
        raise ApprovalError("申请已进入审核，不能撤回", "the review has gone past the issuer: it cannot be withdrawn")
    before = app.state
    app.withdraw()
    app.step_due = None
    _save(app)
    _log(app, actor, "withdrawn", before, reason.strip())
    return app


# --- after the review: survey acceptance, contract publicity, signing, filing ------------------------


@transaction.atomic
def application_survey_accepted(*, task: Any, actor: User | None) -> Application | None:
    """The survey ordered for an application passed its publicity: the township re-reviews the result."""
    app = Application.objects.select_for_update().filter(survey_task=task, state=State.SURVEYING).first()
    if app is None:
        return None
    before = app.state
    app.survey_accepted()
    _due(app)
    _save(app)
    _log(app, actor, "survey_accepted", before, f"测绘任务 {task.code} 公示期满通过", task=task.code)
    _tell_next(app)
    return app


@transaction.atomic
def application_publicise(
    *,
    actor: User,
    application: Application,
    expected: str | None = None,
    posted_on: date | None = None,
    working_days: int | None = None,
) -> Application:
    """The issuer drafts the new contract with the approved change (contracts.filing.contract_draft) and
    publicises it to this and the neighbouring collectives (承包合同公示, at least 10 working days)."""
    app = _fresh(application, expected)
    if not wf.issuer(app, actor):
        raise PermissionDeniedError("合同公示由发包方发布", "the issuer publicises the contract")
    if app.state != State.APPROVED:
        raise ApprovalError(f"申请{State(app.state).label}，批准后才能公示合同", "approve it first")
    if not wf.makes_contract(app):
        raise ApprovalError("这项业务不签新合同，由县级直接登记", "no new contract here: the county registers it")
    contract = current_contract(app.cbfbm)
    if contract is None:
        raise ApprovalError("该户没有现行承包合同", "the household has no current contract", code="no_contract")
    splitting = app.business == BusinessType.SPLIT  # the other household is new: no contract yet
    other = current_contract(other_household_code(app)) if app.business in PAIR_TYPES and not splitting else None
    if app.business in PAIR_TYPES and not splitting and other is None:
        raise ApprovalError("另一户没有现行承包合同", "the other household has no current contract", code="no_contract")
    contracts = [c for c in (contract, other) if c is not None]
    for c in contracts:
        waiting = Contract.objects.filter(cbhtbm=c.cbhtbm, status=VersionStatus.PENDING).first()
        if waiting is not None:  # a draft made on the contracts page would not carry this change
            raise ApprovalError(
                f"合同 {c.cbhtbm} 已有一份待备案的草稿（第 {waiting.version} 版），请先在网签页面作废它",
                f"contract {c.cbhtbm} already has a draft waiting (version {waiting.version}): withdraw it first",
                code="draft_exists",
            )
    term_start, term_end = _day(app.change_data.get("term_start")), _day(app.change_data.get("term_end"))
    drafts: list[Contract | None]
    household = Contractor.objects.get(pk=app.staged["contractor"]) if app.staged.get("contractor") else None
    if splitting:
        given = set(app.dkbms)
        mine = list(
            Parcel.objects.filter(
                dkbm__in=[e.dkbm for e in contract.parcels.all() if e.dkbm not in given], valid_to__isnull=True
            )
        )
        new_household = Contractor.objects.get(pk=app.staged["new_contractor"])
        drafts = [
            contract_draft(actor=actor, contract=contract, household=household, parcels=mine) if mine else None,
            contract_draft_first(
                actor=actor,
                household=new_household,
                parcels=list(Parcel.objects.filter(dkbm__in=sorted(given), valid_to__isnull=True)),
                term_start=contract.term_start,
                term_end=contract.term_end,
                method=contract.method,
                previous_code=contract.cbhtbm,
            ),
        ]
        parcels = sorted(given)
    elif other is not None:  # a transfer, an exchange or a merge: both contracts change
        mine, theirs = moved_parcels(app, contract, other)
        code = ACQUISITION.get(BusinessType(app.business), "")
        drafts = [  # a side left with no parcel has no draft: its contract ends on filing
            contract_draft(actor=actor, contract=contract, household=household, parcels=mine, incoming_acquisition=code)
            if mine
            else None,
            contract_draft(actor=actor, contract=other, parcels=theirs, incoming_acquisition=code) if theirs else None,
        ]
        joining = {e.dkbm for e in other.parcels.all()} if app.business == BusinessType.MERGE else set()
        parcels = sorted(set(app.dkbms) | set(app.change_data.get("parcels_in", [])) | joining)  # those moving
    else:
        drafts = [
            contract_draft(
                actor=actor,
                contract=contract,
                household=household,
                parcels=parcels_for_draft(app, contract),
                term_start=term_start,
                term_end=term_end,
            )
        ]
        parcels = [e.dkbm for e in contract.parcels.all() if e.dkbm.startswith(app.fbfbm) and e.parcel.valid_to is None]
    lines = []
    sides: list[Contract | None] = [*contracts, None]
    for d, side in zip(drafts, sides, strict=False):
        if d is None:
            if side is not None:
                lines.append(f"承包方 {side.contractor.name}：全部地块转出，原合同 {side.cbhtbm} 备案时注销")
            continue
        lines.append(f"承包方：{d.contractor.name}，家庭成员 {d.contractor.member_count} 人，合同 {d.cbhtbm}")
        lines += [f"{e.dkbm} {e.parcel.dkmc}：合同面积 {e.htmj} m²（{e.htmjm} 亩）" for e in d.parcels.order_by("dkbm")]
        lines.append(f"合同总面积 {d.total_area_mu} 亩，承包期限 {d.term_start} 至 {d.term_end}")
    notice = notice_create(
        actor=actor,
        kind=NoticeKind.CONTRACT,
        owner_code=app.fbfbm,
        title=f"承包合同公示（{BusinessType(app.business).label}，{app.code}）",
        body="\n".join(lines),
        households=[c.contractor.cbfbm for c in contracts],
        contracts=[c.cbhtbm for c in contracts],
        parcels=parcels,
        working_days=working_days,
    )
    notice = notice_post(actor=actor, notice=notice, posted_on=posted_on)
    contracts_hold(
        actor=actor,
        drafts=[d for d in drafts if d is not None],
        application_code=app.code,
        reason=f"业务申请 {app.code} 的合同正在公示（{notice.code}，至 {notice.ends_on}）",
    )
    before = app.state
    app.publicise_contract()
    app.draft, app.notice = drafts[0], notice
    app.other_draft = drafts[1] if len(drafts) > 1 else None
    app.step_due = notice.ends_on
    _save(app)
    _log(app, actor, "contract_publicised", before, f"公示 {notice.code}，至 {notice.ends_on}", notice=notice.code)
    _tell_next(app)
    return app


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


@transaction.atomic
def application_publicity_ended(*, notice: Any, actor: User | None) -> Application | None:
    """The contract's notice ended without an open objection: the household and the issuer sign."""
    app = Application.objects.select_for_update().filter(notice=notice, state=State.CONTRACT_PUBLICITY).first()
    if app is None:
        return None
    contracts_release(actor=actor, application_code=app.code)
    before = app.state
    app.publicity_ended()
    app.step_due = timezone.localdate() + timedelta(days=STEP_DAYS[State.SIGNING])
    _save(app)
    _log(app, actor, "publicity_ended", before, f"公示 {notice.code} 期满，无未答复的异议")
    _tell_next(app)
    return app


@transaction.atomic
def application_filed(*, entries: list[RegisterEntry], actor: User) -> Application | None:
    """The county filed the application's new contracts (contracts.filing, same transaction; the contracts
    app has checked that the notice had ended and that a pair was filed together): the parcels the change
    ended are retired, the change record is kept and the application is filed."""
    filed = [e.contract for e in entries]
    app = Application.objects.select_for_update().filter(Q(draft__in=filed) | Q(other_draft__in=filed)).first()
    if app is None:
        return None
    drafts = [d for d in (app.draft, app.other_draft) if d is not None]
    entries = [e for e in entries if e.contract in drafts]
    retired = [
        p
        for d in app.staged.get("retire", [])
        if (p := parcel_retire(actor=actor, dkbm=d, reason=f"{BusinessType(app.business).label} {app.code}"))
    ]
    order = {d.pk: i for i, d in enumerate(drafts)}
    messages = [change_message(app, e, retired) for e in sorted(entries, key=lambda e: order[e.contract_id])]
    for cbfbm, draft in ((app.cbfbm, app.draft), (other_household_code(app), app.other_draft)):
        if draft is not None or app.business not in PAIR_TYPES:
            continue
        ended = (  # that side's contract ended on this filing (application_file_together)
            Contract.objects.filter(contractor__cbfbm=cbfbm, status=VersionStatus.CANCELLED)
            .select_related("issuer", "contractor")
            .order_by("-valid_to")
            .first()
        )
        if ended is not None:
            cert = Certificate.objects.filter(cbjyqzbm=ended.cbhtbm).order_by("-pk").first()
            messages.append(register_message(app, ended, cert, None))
    message = combine_messages(messages) if len(messages) > 1 else messages[0]
    ChangeRecord.objects.create(application=app, guid=message["HEAD"]["GUID"], message=message)
    before = app.state
    app.file()
    app.step_due = None
    _save(app)
    serials = "、".join(e.cbjyqzlsh for e in entries)
    _log(app, actor, "filed", before, f"备案，登记簿流水号 {serials}", serial=serials)
    _tell_next(app)
    return app


def _signed_document(draft: Contract) -> ContractDocument:
    document = (
        ContractDocument.objects.filter(
            contract=draft,
            status__in=[ContractDocument.Status.SIGNED, ContractDocument.Status.SIGNED_ON_PAPER],
        )
        .order_by("-created_at")
        .first()
    )
    if document is None:
        raise ApprovalError(
            f"{draft.contractor.name}户的合同（{draft.cbhtbm}）尚未由双方签署",
            f"the contract {draft.cbhtbm} is not yet signed by both parties",
            code="not_signed",
        )
    return document


@transaction.atomic
def application_file_together(*, actor: User, application: Application, expected: str | None = None) -> Application:
    """备案 of a transfer, an exchange or a merge: both households' signed contracts in one transaction
    (contracts.filing.contracts_file_together). A side left with no parcel has no new contract: its
    contract ends (注销) first; a household merged in ends too."""
    app = _fresh(application, expected)
    if not wf.county_files(app, actor):
        raise PermissionDeniedError("由县农业农村局备案", "the county bureau files it")
    if app.state != State.SIGNING or app.business not in PAIR_TYPES:
        raise ApprovalError(
            "只有签订中的转让、互换、合户或分户可以一并备案",
            "only a transfer, an exchange, a merge or a split being signed",
        )
    documents = [_signed_document(d) for d in (app.draft, app.other_draft) if d is not None]
    label = BusinessType(app.business).label
    for cbfbm, draft in ((app.cbfbm, app.draft), (other_household_code(app), app.other_draft)):
        ending = current_contract(cbfbm) if draft is None else None
        if ending is not None:
            contract_cancel(actor=actor, contract=ending, reason=f"{label}：地块全部转出（{app.code}）")
    if app.business == BusinessType.MERGE:
        joined = current_household(app.change_data["other_cbfbm"])
        if joined is not None:
            contractor_cancel(actor=actor, contractor=joined, reason=f"合户并入 {app.cbfbm}（{app.code}）")
    contracts_file_together(actor=actor, documents=documents)
    app.refresh_from_db()
    return app


@transaction.atomic
def application_register(
    *, actor: User, application: Application, reason: str = "", expected: str | None = None
) -> Application:
    """After approval, the county registers a change that makes no new contract: 201 补发 (a new
    certificate, the lost one cancelled), 202 换发 (a new certificate, the old one to be recovered), 203
    注销 of the certificate, 107 注销 of the contract. The change record is kept as for a filing."""
    app = _fresh(application, expected)
    if not wf.county_files(app, actor):
        raise PermissionDeniedError("由县农业农村局登记", "the county bureau registers it")
    if app.state != State.APPROVED or app.business not in REGISTER_TYPES:
        raise ApprovalError(
            "只有已批准的权证业务或注销可以直接登记", "only an approved certificate action or cancellation"
        )
    contract = current_contract(app.cbfbm)
    if contract is None:
        raise ApprovalError("该户没有现行承包合同", "the household has no current contract", code="no_contract")
    why = reason.strip() or app.summary
    old = Certificate.objects.filter(cbjyqzbm=contract.cbhtbm, status=CertificateStatus.ISSUED).first()
    new = None
    if app.business == BusinessType.CERT_REISSUE:
        new = certificate_reissue(actor=actor, contract=contract, lost=True, reason=why)
    elif app.business == BusinessType.CERT_REPLACE:
        new = certificate_reissue(actor=actor, contract=contract, lost=False, reason=why)
    elif app.business == BusinessType.CERT_CANCEL:
        certificate_cancel(actor=actor, contract=contract, reason=why)
    else:
        contract = contract_cancel(actor=actor, contract=contract, reason=why)
    message = register_message(app, contract, old, new)
    ChangeRecord.objects.create(application=app, guid=message["HEAD"]["GUID"], message=message)
    before = app.state
    app.register()
    app.step_due = None
    _save(app)
    note = (
        f"新权证流水号 {new.serial}"
        if new
        else ("合同已注销" if app.business == BusinessType.CANCEL else "权证待收回注销")
    )
    _log(app, actor, "registered", before, note)
    _tell_next(app)
    return app
