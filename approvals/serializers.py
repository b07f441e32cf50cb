"""Shapes of the applications API (for the OpenAPI schema and its input checks); the data comes from the
models through approvals.selectors, the writes go through approvals.services."""

from typing import Any

from rest_framework import serializers

from .models import Material, Step
from .workflow import BusinessType


class StepSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="办理人（系统为空）")
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = Step
        fields = ["at", "action", "action_label", "from_state", "to_state", "actor", "comment", "attachments"]

    def get_actor(self, step: Step) -> str | None:
        return (step.actor.real_name or step.actor.username) if step.actor else None


class MaterialSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Material
        fields = ["id", "name", "file_name", "content_type", "size", "sha256", "uploaded_at", "url"]

    def get_url(self, material: Material) -> str:
        return f"/applications/{material.application.code}/materials/{material.pk}/"


class ApplicationSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="业务编号")
    business = serializers.CharField(help_text="业务类型代码（2019 变更报文）")
    business_label = serializers.CharField(source="get_business_display")
    cbfbm = serializers.CharField(help_text="承包方编码")
    dkbms = serializers.ListField(child=serializers.CharField(), help_text="涉及地块编码")
    summary = serializers.CharField()
    change_data = serializers.SerializerMethodField(help_text="变更内容（证件号码仅脱敏）")
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    step_due = serializers.DateField(allow_null=True, help_text="本环节期限")
    overdue = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    survey_task = serializers.CharField(source="survey_task.code", allow_null=True, default=None)
    notice = serializers.CharField(source="notice.code", allow_null=True, default=None)

    def get_change_data(self, app: Any) -> dict[str, Any]:
        """The change as the pages show it: a new member's ID number only masked, never its ciphertext."""
        data = dict(app.change_data)
        if "members_added" in data:
            data["members_added"] = [
                {k: v for k, v in m.items() if k != "id_number_enc"} for m in data["members_added"]
            ]
        return data


class ApplicationDetailSerializer(ApplicationSerializer):
    steps = StepSerializer(many=True)
    materials = MaterialSerializer(many=True)
    missing_materials = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(
        child=serializers.CharField(),
        help_text="what the caller may do now (approvals.workflow.user_actions): decide, submit, withdraw, "
        "publicise_contract, register, file, file_together, …",
    )


class MemberAddedInput(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    sex = serializers.ChoiceField(choices=["1", "2"])
    relation = serializers.CharField(max_length=2)
    id_number = serializers.CharField(max_length=18)


class ChangeDataInput(serializers.Serializer):
    members_removed = serializers.ListField(child=serializers.CharField(), required=False, help_text="成员 id 或姓名")
    members_added = MemberAddedInput(many=True, required=False)
    representative = serializers.CharField(required=False, help_text="新代表：成员 id 或姓名")
    term_start = serializers.DateField(required=False)
    term_end = serializers.DateField(required=False)


class ApplicationCreateInput(serializers.Serializer):
    business = serializers.ChoiceField(choices=BusinessType.choices)
    cbfbm = serializers.CharField(max_length=18)
    summary = serializers.CharField(max_length=500)
    dkbms = serializers.ListField(child=serializers.CharField(max_length=19), required=False)
    change_data = ChangeDataInput(required=False)


class ExpectedInput(serializers.Serializer):
    expected = serializers.CharField(required=False, help_text="您看到的状态；已变化则 409 冲突")


class SubmitInput(ExpectedInput):
    reply = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="答复退回意见（退回后再提交时必填）"
    )


class DecideInput(ExpectedInput):
    decision = serializers.ChoiceField(choices=["approve", "return", "reject", "survey"])
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    assignee = serializers.CharField(required=False, help_text="安排测绘：测绘人员用户名")
    company = serializers.CharField(required=False, help_text="安排测绘：测绘单位")
    due_on = serializers.DateField(required=False, help_text="安排测绘：完成期限")
    attachment = serializers.FileField(required=False, help_text="附件（JPG、PNG 或 PDF）")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class MaterialInput(serializers.Serializer):
    name = serializers.CharField(help_text="材料名称（本业务所需材料之一，或“其他材料”）")
    file = serializers.FileField(help_text="JPG、PNG 或 PDF，10 MB 以内")
