"""Applications 业务申请 and their multi-level review (ARCHITECTURE.md, "The contract workflow").

The states and the transitions between them are an explicit table: django-fsm-2's @transition methods
on `Application`, which `transition_table()` prints. A transition method only moves the state; who may
take it, the step log, the audit event and the notifications are approvals.services'. The row is saved
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


# The materials each type needs (uploaded scans), by name; the review pages check them off.
REQUIRED_MATERIALS: dict[str, list[str]] = {
    BusinessType.INITIAL: ["承包方身份证", "户口簿", "原承包合同或权证"],
    BusinessType.TRANSFER: ["转让协议", "发包方同意书", "受让方身份证"],
    BusinessType.MEMBERS: ["户口簿", "成员变化证明（出生、死亡、婚迁等）"],
    BusinessType.REPRESENTATIVE: ["户口簿", "家庭成员一致同意书"],
    BusinessType.PARCELS: ["地块变化说明", "村民小组会议决议"],
    BusinessType.EXCHANGE: ["互换协议", "发包方备案意见"],
    BusinessType.SPLIT: ["户口簿（分户后）", "分户协议"],
    BusinessType.MERGE: ["户口簿（合户后）", "合户协议"],
    BusinessType.CANCEL: ["注销原因证明"],
    BusinessType.CERT_REISSUE: ["遗失声明"],
    BusinessType.CERT_REPLACE: ["原权证"],
    BusinessType.CERT_CANCEL: ["原权证", "注销原因证明"],
}

# Types whose change needs a re-survey of the parcels (the survey branch).
SURVEY_TYPES = {BusinessType.PARCELS}
# Types that change two households' contracts of the same collective at once: whole parcels move to the
# transferee 受让方 or the exchange partner 互换对方, a household merges in 合户 with its members and
# parcels, or members split off 分户 as a new household with some parcels (its first contract). The
# contracts are drafted, publicised, signed and filed together; a side left with no parcel has no new
# contract: its contract ends on filing.
MOVE_TYPES = {BusinessType.TRANSFER, BusinessType.EXCHANGE}
PAIR_TYPES = {*MOVE_TYPES, BusinessType.MERGE, BusinessType.SPLIT}
# Types with no new contract: after approval the county registers the certificate action or the
# cancellation directly (no contract publicity, no signing).
REGISTER_TYPES = {BusinessType.CANCEL, BusinessType.CERT_REISSUE, BusinessType.CERT_REPLACE, BusinessType.CERT_CANCEL}


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
OPEN_STATES = [State.DRAFT, State.RETURNED, *REVIEW_STATES, State.SURVEYING]


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
        return self.business in SURVEY_TYPES

    # --- the transition table -----------------------------------------------------------------------
    @transition(field=state, source=[State.DRAFT, State.RETURNED], target=State.ISSUER_REVIEW)
    def submit(self) -> None: ...

    @transition(field=state, source=State.ISSUER_REVIEW, target=State.TOWNSHIP_REVIEW)
    def issuer_approve(self) -> None: ...

    @transition(field=state, source=State.TOWNSHIP_REVIEW, target=State.COUNTY_REVIEW)
    def township_approve(self) -> None: ...

    @transition(field=state, source=State.COUNTY_REVIEW, target=State.SURVEYING)
    def county_order_survey(self) -> None: ...

    @transition(field=state, source=State.SURVEYING, target=State.TOWNSHIP_REREVIEW)
    def survey_accepted(self) -> None: ...

    @transition(field=state, source=State.TOWNSHIP_REREVIEW, target=State.COUNTY_REVIEW)
    def township_reapprove(self) -> None: ...

    @transition(field=state, source=State.COUNTY_REVIEW, target=State.APPROVED)
    def county_approve(self) -> None: ...

    @transition(field=state, source=State.APPROVED, target=State.CONTRACT_PUBLICITY)
    def publicise_contract(self) -> None: ...

    @transition(field=state, source=State.CONTRACT_PUBLICITY, target=State.SIGNING)
    def publicity_ended(self) -> None: ...

    @transition(field=state, source=State.SIGNING, target=State.FILED)
    def file(self) -> None: ...

    @transition(field=state, source=State.APPROVED, target=State.FILED)
    def register(self) -> None: ...

    @transition(field=state, source=REVIEW_STATES, target=State.RETURNED)
    def return_for_revision(self) -> None: ...

    @transition(field=state, source=REVIEW_STATES, target=State.REJECTED)
    def reject(self) -> None: ...

    @transition(field=state, source=[State.DRAFT, State.RETURNED, State.ISSUER_REVIEW], target=State.WITHDRAWN)
    def withdraw(self) -> None: ...


def transition_table() -> list[tuple[str, str, str]]:
    """(source, transition, target) for every transition: what a test prints and a diagram is drawn from."""
    rows = []
    field: Any = Application._meta.get_field("state")
    for t in field.get_all_transitions(Application):
        rows.append((str(t.source), t.name, str(t.target)))
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
