"""Applications 业务申请 and their multi-level review (ARCHITECTURE.md, "The contract workflow").

The states and the transitions between them are an explicit table: django-fsm-2's @transition methods
on `Application`, each naming who may take it (`permission=`) and on what condition (`conditions=`) from
approvals.workflow, which holds the rest of the table; `transition_table()` prints it. A transition method
only moves the state; the step log, the audit event and the notifications are approvals.services'. The row is saved
with optimistic locking (ConcurrentTransitionMixin): of two officers deciding the same application at
once, the second finds the state changed and gets a clear conflict message.

The survey branch, contract publicity, signing and filing run through the surveys, publicity and
contracts apps (approvals.services, approvals.receivers).
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from . import workflow as wf
from .workflow import REVIEW_STATES, WITHDRAWABLE_STATES, BusinessType, State


class Application(ConcurrentTransitionMixin, models.Model):
    code = models.CharField(max_length=24, unique=True, verbose_name="业务编号")
    business = models.CharField(max_length=4, choices=BusinessType.choices, verbose_name="业务类型")
    cbfbm = models.CharField(max_length=18, db_index=True, verbose_name="承包方编码")
    fbfbm = models.CharField(max_length=14, db_index=True, verbose_name="发包方编码")  # scoping
    dkbms = models.JSONField(default=list, verbose_name="涉及地块")
    summary = models.CharField(max_length=500, verbose_name="申请事由")
    change_data = models.JSONField(default=dict, verbose_name="变更内容")
    state = FSMField(default=State.DRAFT, choices=State.choices, protected=True, verbose_name="状态")
    returned_from = models.CharField(max_length=20, blank=True, verbose_name="退回自")
    step_due = models.DateField(null=True, blank=True, verbose_name="本环节期限")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # What the other apps hold for it: the survey task of the survey branch, the approved change staged
    # as pending registry versions, the draft contract and its publicity notice.
    survey_task = models.ForeignKey(
        "surveys.SurveyTask", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="测绘任务"
    )
    staged = models.JSONField(default=dict, blank=True, verbose_name="待备案的变更")  # {contractor, parcels, retire}
    draft = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="新合同"
    )
    notice = models.ForeignKey(
        "publicity.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="合同公示"
    )
    other_draft = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="另一户的新合同",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="创建时间")
    updated_at = models.DateTimeField(auto_now=True, verbose_name="更新时间")

    class Meta:
        verbose_name = verbose_name_plural = "业务申请"
        ordering = ["-created_at"]
        indexes = [
            # scoping is a prefix match on FBFBM: LIKE 'prefix%' needs the pattern operator class here
            models.Index(
                fields=["state", "fbfbm"],
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                name="application_state_scope",
            ),
            models.Index(fields=["fbfbm"], opclasses=["varchar_pattern_ops"], name="application_scope"),
            models.Index(fields=["state", "step_due"], name="application_state_due"),
            models.Index(fields=["-created_at"], name="application_newest"),
            # the other household of a two-household change sees the application too (selectors)
            models.Index(KT("change_data__other_cbfbm"), name="application_other_household"),
            models.Index(KT("staged__new_cbfbm"), name="application_new_household"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def needs_survey(self) -> bool:
        return wf.needs_survey(self)

    # --- the transition table (who: `permission`, when: `conditions`, both from approvals.workflow) -------
    @transition(field=state, source=wf.EDITABLE_STATES, target=State.ISSUER_REVIEW, permission=wf.editor)
    def submit(self) -> None: ...

    @transition(field=state, source=State.ISSUER_REVIEW, target=State.TOWNSHIP_REVIEW, permission=wf.at_level)
    def issuer_approve(self) -> None: ...

    @transition(field=state, source=State.TOWNSHIP_REVIEW, target=State.COUNTY_REVIEW, permission=wf.at_level)
    def township_approve(self) -> None: ...

    @transition(
        field=state,
        source=State.COUNTY_REVIEW,
        target=State.SURVEYING,
        permission=wf.at_level,
        conditions=[wf.may_order_survey],
    )
    def county_order_survey(self) -> None: ...

    @transition(field=state, source=State.SURVEYING, target=State.TOWNSHIP_REREVIEW, permission=wf.system)
    def survey_accepted(self) -> None: ...

    @transition(field=state, source=State.TOWNSHIP_REREVIEW, target=State.COUNTY_REVIEW, permission=wf.at_level)
    def township_reapprove(self) -> None: ...

    @transition(
        field=state,
        source=State.COUNTY_REVIEW,
        target=State.APPROVED,
        permission=wf.at_level,
        conditions=[wf.surveyed_if_needed],
    )
    def county_approve(self) -> None: ...

    @transition(
        field=state,
        source=State.APPROVED,
        target=State.CONTRACT_PUBLICITY,
        permission=wf.issuer,
        conditions=[wf.makes_contract],
    )
    def publicise_contract(self) -> None: ...

    @transition(field=state, source=State.CONTRACT_PUBLICITY, target=State.SIGNING, permission=wf.system)
    def publicity_ended(self) -> None: ...

    # the county's filing of the new contract(s) (contracts.filing), announced by contracts.signals
    @transition(field=state, source=State.SIGNING, target=State.FILED, permission=wf.system)
    def file(self) -> None: ...

    @transition(
        field=state, source=State.APPROVED, target=State.FILED, permission=wf.county_files, conditions=[wf.registers]
    )
    def register(self) -> None: ...

    @transition(field=state, source=REVIEW_STATES, target=State.RETURNED, permission=wf.at_level)
    def return_for_revision(self) -> None: ...

    @transition(field=state, source=REVIEW_STATES, target=State.REJECTED, permission=wf.at_level)
    def reject(self) -> None: ...

    @transition(field=state, source=WITHDRAWABLE_STATES, target=State.WITHDRAWN, permission=wf.applicant)
    def withdraw(self) -> None: ...


def transition_table() -> list[tuple[str, str, str, str, str]]:
    """(source, transition, target, who, condition) for every transition: what a test prints and a
    diagram is drawn from ("who" and "condition" name approvals.workflow's functions)."""
    rows = []
    field: Any = Application._meta.get_field("state")
    for t in field.get_all_transitions(Application):
        who = getattr(t.permission, "__name__", "")
        when = ", ".join(c.__name__ for c in t.conditions)
        rows.append((str(t.source), t.name, str(t.target), who, when))
    return sorted(rows)


STEP_ACTIONS = {
    "created": "创建 Created",
    "submitted": "提交 Submitted",
    "approved": "同意 Approved",
    "returned": "退回修改 Returned",
    "rejected": "不予批准 Rejected",
    "withdrawn": "撤回 Withdrawn",
    "survey_ordered": "安排测绘 Survey ordered",
    "survey_accepted": "测绘成果公示期满 Survey accepted",
    "contract_publicised": "合同公示 Contract publicised",
    "publicity_ended": "公示期满 Publicity ended",
    "filed": "备案 Filed",
    "registered": "登记 Registered",
}


class Step(models.Model):
    """One step of an application's history: who did what, when, from which state to which, and why."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="steps")
    # None: the system (a notice or a survey's publicity ending in the scheduled job)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=40, verbose_name="操作")
    from_state = models.CharField(max_length=20, verbose_name="原状态")
    to_state = models.CharField(max_length=20, verbose_name="新状态")
    comment = models.TextField(blank=True, verbose_name="意见")
    attachments = models.JSONField(default=list, verbose_name="附件")
    at = models.DateTimeField(auto_now_add=True, verbose_name="时间")

    class Meta:
        verbose_name = verbose_name_plural = "办理记录"
        ordering = ["application", "at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action}"

    def get_action_display(self) -> str:
        return STEP_ACTIONS.get(self.action, self.action)

    @property
    def to_state_label(self) -> str:
        return state_label(self.to_state)


class Material(models.Model):
    """An uploaded material 申请材料 (a scan or photo), kept with its hash; named after REQUIRED_MATERIALS."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="materials")
    name = models.CharField(max_length=100, verbose_name="材料名称")
    file_name = models.CharField(max_length=255, verbose_name="文件名")
    path = models.CharField(max_length=500, verbose_name="存储路径")
    content_type = models.CharField(max_length=40, verbose_name="类型")
    size = models.PositiveIntegerField(verbose_name="大小（字节）")
    sha256 = models.CharField(max_length=64, verbose_name="SHA-256")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name="上传时间")

    class Meta:
        verbose_name = verbose_name_plural = "申请材料"
        ordering = ["application", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.name}"


class ChangeRecord(models.Model):
    """The filed change, before and after, in the 2019 change message's shape (DOMAIN.md): HEAD,
    BUSINESS_DATA, ORIGINAL_DATA, CHANGE_DATA with CZFS per record, kept to be sent upward later. ID
    numbers are not copied in: each person record names the stored (versioned, encrypted) row it
    comes from, and the sender reads them from there."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="change_record")
    guid = models.UUIDField(unique=True, verbose_name="报文标识")
    message = models.JSONField(verbose_name="变更报文")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="生成时间")
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name="上报时间")

    class Meta:
        verbose_name = verbose_name_plural = "变更记录"

    def __str__(self) -> str:
        return str(self.guid)


def state_label(value: Any) -> str:
    return State(value).label if value in State.values else str(value)
