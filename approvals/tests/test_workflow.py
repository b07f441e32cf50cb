"""The review workflow through its services: the no-survey path level by level, returns and rejections
with reasons, a survey-type change stopped until its survey, each level's region and turn, two officers
deciding at once, and the transition table itself."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Notification, User
from approvals.materials import material_upload
from approvals.models import Application, Step, transition_table
from approvals.registry import ChangeError
from approvals.selectors import inbox
from approvals.services import (
    ApprovalError,
    ConflictError,
    application_create,
    application_decide,
    application_publicise,
    application_submit,
    application_withdraw,
)
from approvals.workflow import REQUIRED_MATERIALS, BusinessType, State
from audit.models import AuditEvent
from contracts.models import Contract, Contractor
from core.errors import PermissionDeniedError
from surveys.services import SurveyError


def _u(name: str) -> User:
    return User.objects.get(username=name)


def scan(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% a scanned page\n", content_type="application/pdf")


def with_materials(app: Application, actor: User) -> Application:
    for name in REQUIRED_MATERIALS[BusinessType(app.business)]:
        material_upload(actor=actor, application=app, name=name, upload=scan())
    return app


@pytest.fixture
def member_change(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    farmer = _u("farmer")
    household = farmer.offices.get().contractor_code
    leaving = Contractor.objects.get(cbfbm=household, valid_to__isnull=True).members.exclude(relation="02").last()
    app = application_create(
        actor=farmer,
        business="1031",
        cbfbm=household,
        summary="女儿出嫁迁出，申请减少家庭成员",
        change_data={"members_removed": [leaving.pk]},
    )
    return application_submit(actor=farmer, application=with_materials(app, farmer))


def test_a_member_change_goes_through_every_level_to_approval(member_change):
    app = member_change
    assert app.state == State.ISSUER_REVIEW and app.step_due is not None
    assert Notification.objects.filter(recipient=_u("village"), title__contains=app.code).exists()
    assert list(inbox(_u("village"))) == [app] and list(inbox(_u("township"))) == []
    app = application_decide(actor=_u("village"), application=app, decision="approve", expected=State.ISSUER_REVIEW)
    assert app.state == State.TOWNSHIP_REVIEW and list(inbox(_u("township"))) == [app]
    app = application_decide(actor=_u("township"), application=app, decision="approve", comment="材料齐全")
    assert app.state == State.COUNTY_REVIEW
    app = application_decide(actor=_u("county"), application=app, decision="approve")
    assert app.state == State.APPROVED and app.step_due is not None  # the issuer publicises within 10 days
    assert list(inbox(_u("village"))) == [app] and list(inbox(_u("county"))) == []  # the issuer's turn now
    steps = list(Step.objects.filter(application=app).values_list("action", "from_state", "to_state"))
    assert steps == [
        ("created", "draft", "draft"),
        ("submitted", "draft", "issuer_review"),
        ("approved", "issuer_review", "township_review"),
        ("approved", "township_review", "county_review"),
        ("approved", "county_review", "approved"),
    ]
    assert AuditEvent.objects.filter(action="application.approved", subject_id=str(app.pk)).count() == 3
    assert Notification.objects.filter(recipient=_u("farmer"), title__contains="已批准").exists()


def test_a_return_needs_reasons_and_the_household_resubmits(member_change):
    app = member_change
    with pytest.raises(ApprovalError, match="写明理由"):
        application_decide(actor=_u("village"), application=app, decision="return")
    app = application_decide(actor=_u("village"), application=app, decision="return", comment="缺少户口簿")
    assert app.state == State.RETURNED and app.returned_from == State.ISSUER_REVIEW
    assert Notification.objects.filter(recipient=_u("farmer"), title__contains="已退回").exists()
    with pytest.raises(ApprovalError, match="请答复退回意见"):
        application_submit(actor=_u("farmer"), application=app)
    app = application_submit(actor=_u("farmer"), application=app, reply="已补充户口簿")
    assert app.state == State.ISSUER_REVIEW and app.returned_from == ""
    assert app.steps.last().comment == "已补充户口簿"
    app = application_decide(actor=_u("village"), application=app, decision="reject", comment="不符合条件")
    assert app.state == State.REJECTED
    with pytest.raises(ApprovalError):
        application_decide(actor=_u("township"), application=app, decision="approve")


def test_each_level_decides_only_in_its_turn_and_its_region(member_change):
    app = member_change
    for name in ("township", "county", "township2", "farmer", "surveyor"):  # not the issuer's turn for them
        with pytest.raises(PermissionDeniedError):
            application_decide(actor=_u(name), application=app, decision="approve")
    app = application_decide(actor=_u("village"), application=app, decision="approve")
    with pytest.raises(PermissionDeniedError):
        application_decide(actor=_u("township2"), application=app, decision="approve")  # another township
    assert Application.objects.get(pk=app.pk).state == State.TOWNSHIP_REVIEW
    assert list(inbox(_u("township2"))) == []


def test_two_officers_deciding_at_once_one_wins_and_the_other_is_told(member_change):
    seen_by_village = Application.objects.get(pk=member_change.pk)
    seen_by_group = Application.objects.get(pk=member_change.pk)
    application_decide(actor=_u("village"), application=seen_by_village, decision="approve", expected="issuer_review")
    with pytest.raises(ConflictError, match="已被他人处理"):
        application_decide(
            actor=_u("group"), application=seen_by_group, decision="return", comment="x", expected="issuer_review"
        )
    assert Application.objects.get(pk=member_change.pk).state == State.TOWNSHIP_REVIEW
    assert Step.objects.filter(application=member_change, action="returned").count() == 0


def test_a_change_of_parcels_waits_for_its_survey(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    farmer, village = _u("farmer"), _u("village")
    household = farmer.offices.get().contractor_code
    dkbm = Contract.objects.get(contractor__cbfbm=household, valid_to__isnull=True).parcels.first().dkbm
    app = application_create(actor=village, business="1033", cbfbm=household, summary="调整地块边界", dkbms=[dkbm])
    with pytest.raises(ApprovalError, match="还缺少材料"):
        application_submit(actor=village, application=app)
    app = application_submit(actor=village, application=with_materials(app, village))  # the issuer, for them
    app = application_decide(actor=village, application=app, decision="approve")
    app = application_decide(actor=_u("township"), application=app, decision="approve")
    with pytest.raises(ApprovalError, match="须先测绘"):
        application_decide(actor=_u("county"), application=app, decision="approve")
    with pytest.raises(SurveyError, match="测绘单位"):
        application_decide(actor=_u("county"), application=app, decision="survey", survey={"assignee": _u("surveyor")})
    app = application_decide(
        actor=_u("county"),
        application=app,
        decision="survey",
        survey={"assignee": _u("surveyor"), "company": "示范测绘有限公司"},
    )
    assert app.state == State.SURVEYING
    task = app.survey_task
    assert task.dkbms == [dkbm] and task.application_ref == app.code and task.assignee == _u("surveyor")
    assert Notification.objects.filter(recipient=_u("surveyor"), url=f"/surveys/{task.code}/").exists()


def test_only_the_applicant_withdraws_and_only_early(member_change):
    with pytest.raises(PermissionDeniedError):
        application_withdraw(actor=_u("village"), application=member_change)
    app = application_withdraw(actor=_u("farmer"), application=member_change, reason="不办了")
    assert app.state == State.WITHDRAWN


def test_an_application_is_for_ones_own_household_and_its_parcels(demo):
    before = Application.objects.count()  # a browser test's server may have committed some
    other = "450326100200010002"
    with pytest.raises(PermissionDeniedError):
        application_create(actor=_u("farmer"), business="1031", cbfbm=other, summary="x")
    with pytest.raises(PermissionDeniedError):  # another township's officer
        application_create(actor=_u("township2"), business="1031", cbfbm=other, summary="x")
    household = _u("farmer").offices.get().contractor_code
    with pytest.raises(ApprovalError, match="请选择涉及的地块"):  # a change of parcels names them
        application_create(actor=_u("farmer"), business="1033", cbfbm=household, summary="x")
    with pytest.raises(ApprovalError, match="不是该户承包的"):
        application_create(
            actor=_u("farmer"), business="1033", cbfbm=household, summary="x", dkbms=["4503261002000100099"]
        )
    assert Application.objects.count() == before


def test_the_transition_table_is_data():
    """Each transition with who takes it and on what condition (approvals.workflow's functions)."""
    table = transition_table()
    assert ("county_review", "county_approve", "approved", "at_level", "surveyed_if_needed") in table
    assert ("county_review", "county_order_survey", "surveying", "at_level", "may_order_survey") in table
    assert ("township_rereview", "township_reapprove", "county_review", "at_level", "") in table
    assert ("approved", "publicise_contract", "contract_publicity", "issuer", "makes_contract") in table
    assert ("contract_publicity", "publicity_ended", "signing", "system", "") in table  # the notice's end
    returns = {src for src, name, *_ in table if name == "return_for_revision"}
    assert returns == {"issuer_review", "township_review", "county_review", "township_rereview"}
    assert all(who for *_, who, _when in table)  # every transition names who takes it


ROLES = {"farmer", "group", "village", "township", "township2", "county", "surveyor", "ziyuan"}


def test_at_each_level_every_other_role_is_refused(member_change):
    """Each review level is decided by its own officers only: the household, the other levels, another
    township, the surveyor and the natural resources bureau are all refused, and nothing moves."""
    app = member_change
    for state, allowed in (
        (State.ISSUER_REVIEW, {"village", "group"}),
        (State.TOWNSHIP_REVIEW, {"township"}),
        (State.COUNTY_REVIEW, {"county"}),
    ):
        for name in sorted(ROLES - allowed):
            with pytest.raises(PermissionDeniedError):
                application_decide(actor=_u(name), application=app, decision="approve", expected=state)
        assert Application.objects.get(pk=app.pk).state == state
        app = application_decide(actor=_u(sorted(allowed)[0]), application=app, decision="approve")
    assert app.state == State.APPROVED
    for name in sorted(ROLES):  # no review level any more: no one decides
        with pytest.raises(ApprovalError):
            application_decide(actor=_u(name), application=app, decision="approve")
    for name in sorted(ROLES - {"village", "group"}):  # only the issuer publicises
        with pytest.raises(PermissionDeniedError):
            application_publicise(actor=_u(name), application=app)
    assert Application.objects.get(pk=app.pk).state == State.APPROVED


def test_two_household_changes_name_the_other_household_checked_on_entry(demo, settings, tmp_path):
    """A transfer, an exchange or a merge names another household of the same collective (an exchange,
    that household's parcels too); a split names the members who leave, not all of them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    farmer = _u("farmer")
    cbfbm = farmer.offices.get().contractor_code
    other = Contractor.objects.filter(cbfbm__startswith=cbfbm[:14], valid_to__isnull=True).exclude(cbfbm=cbfbm).first()
    elsewhere = Contractor.objects.filter(valid_to__isnull=True).exclude(cbfbm__startswith=cbfbm[:14]).first()
    mine = Contract.objects.get(contractor__cbfbm=cbfbm, valid_to__isnull=True).parcels.first().dkbm
    theirs = Contract.objects.get(contractor=other, valid_to__isnull=True).parcels.first().dkbm

    def make(business: str, **change):
        return application_create(
            actor=farmer, business=business, cbfbm=cbfbm, summary="x", dkbms=[mine], change_data=change
        )

    with pytest.raises(ChangeError, match="同一集体经济组织内另一户"):
        make("1021", other_cbfbm=elsewhere.cbfbm)
    with pytest.raises(ChangeError, match="对方用于互换的地块"):
        make("104", other_cbfbm=other.cbfbm, parcels_in=[mine])  # not theirs
    with pytest.raises(ChangeError, match="分出去的成员"):
        make("105", members_leaving=[])
    app = make("104", other_cbfbm=other.cbfbm, parcels_in=[theirs])
    assert app.change_data == {"other_cbfbm": other.cbfbm, "other_name": other.name, "parcels_in": [theirs]}
    assert make("1021", other_cbfbm=other.cbfbm).change_data["other_name"] == other.name
    everyone = list(Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True).members.values_list("pk", flat=True))
    with pytest.raises(ChangeError, match="不能是全部成员"):
        make("105", members_leaving=everyone)
