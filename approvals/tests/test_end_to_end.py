"""Applications from the farmer's request to a filed, signed contract, through the real services of every
app: a member change (no survey) and a parcel split (survey, 指界, publicity, re-review). The registry
changes only on filing, and the change record keeps before and after in the 2019 message's shape."""

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from approvals.models import Application, ChangeRecord, Step
from approvals.selectors import applications_visible, inbox, parcels_geojson
from approvals.services import (
    ApprovalError,
    application_create,
    application_decide,
    application_file_together,
    application_publicise,
    application_register,
    application_submit,
)
from approvals.tests.conftest import AFTER
from approvals.tests.test_workflow import with_materials
from approvals.workflow import State
from conftest import sign_online, verify_in_person
from contracts.filing import FilingError, contract_file
from contracts.models import Contract, ContractDocument, Contractor
from contracts.signing import signer_identity_verify
from core.codes import id_check_char
from core.errors import PermissionDeniedError
from nrb.models import FilingShare
from publicity.notices import notice_complete
from spatial.models import Parcel, VersionStatus
from surveys.models import LineConfirmation, SurveyTask
from surveys.services import boundary_confirm_collective, boundary_confirm_for, survey_publicise, survey_submit
from surveys.tests.test_confirmation import _jpeg
from surveys.tests.test_uploads import _geojson, _plane, _upload


def _u(name: str) -> User:
    return User.objects.get(username=name)


def household_name(cbfbm: str) -> str:
    return Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True).name


def _review(app: Application, *levels: str) -> Application:
    for officer in levels:
        app = application_decide(actor=_u(officer), application=app, decision="approve", expected=app.state)
    return app


def _publicise_and_sign(app: Application) -> ContractDocument:
    """The issuer publicises the draft; the notice ends; the household and the issuer sign online."""
    village = _u("village")
    app = application_publicise(actor=village, application=app, expected=State.APPROVED)
    assert app.state == State.CONTRACT_PUBLICITY and app.notice.kind == "contract" and app.notice.working_days >= 10
    notice_complete(actor=village, notice=app.notice, today=AFTER)
    app.refresh_from_db()
    assert app.state == State.SIGNING
    return _sign(app)


def _sign(app: Application) -> ContractDocument:
    """The village checks the farmer in person; both sign the draft online."""
    farmer, village = _u("farmer"), _u("village")
    household = Contractor.objects.get(cbfbm=app.cbfbm, valid_to__isnull=True)
    verify_in_person(farmer, household, village)
    return sign_online(app.draft, farmer, village)


def test_a_member_change_from_the_farmers_request_to_a_filed_contract(demo, posting_day):
    farmer = _u("farmer")
    cbfbm = farmer.offices.get().contractor_code
    before = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    leaving = before.members.exclude(name=before.name).order_by("pk").last()
    newborn_id = "45032620250301002" + id_check_char("45032620250301002")
    app = application_create(
        actor=farmer,
        business="1031",
        cbfbm=cbfbm,
        summary="女儿出嫁迁出，孙子出生",
        change_data={
            "members_removed": [leaving.name],
            "members_added": [{"name": "钟小宝", "sex": "1", "relation": "61", "id_number": newborn_id}],
        },
    )
    assert newborn_id not in str(app.change_data)  # stored encrypted, shown masked
    app = application_submit(actor=farmer, application=with_materials(app, farmer))
    app = _review(app, "village", "township", "county")
    assert app.state == State.APPROVED
    staged = Contractor.objects.get(pk=app.staged["contractor"])
    assert staged.status == VersionStatus.PENDING and staged.member_count == before.member_count
    assert Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True).pk == before.pk  # nothing current changed

    document = _publicise_and_sign(app)
    with pytest.raises(ApprovalError):  # an officer out of turn: the contract is signed, not under review
        application_decide(actor=_u("county"), application=app, decision="approve")
    entry = contract_file(actor=_u("county"), document=document)

    app.refresh_from_db()
    assert app.state == State.FILED and entry.contract == app.draft
    now = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    assert now.pk == staged.pk and now.version == before.version + 1
    names = set(now.members.values_list("name", flat=True))
    assert leaving.name not in names and "钟小宝" in names
    assert Contractor.objects.get(pk=before.pk).status == VersionStatus.SUPERSEDED
    assert FilingShare.objects.filter(entry=entry).exists()  # shared with the natural resources bureau
    message = ChangeRecord.objects.get(application=app).message
    assert message["HEAD"]["BUSINESS_CODE"] == "1031" and message["BUSINESS_DATA"]["YWLSH"] == app.code
    jtcy = {r["CYXM"]: r["CZFS"] for r in message["CHANGE_DATA"]["JTCY"]}
    assert jtcy[leaving.name] == "04" and jtcy["钟小宝"] == "02" and jtcy[before.name] == "01"
    assert {r["CZFS"] for r in message["CHANGE_DATA"]["CBDK"]} == {"01"}  # no parcel changed
    assert newborn_id not in str(message)  # people are referenced, not copied
    actions = list(Step.objects.filter(application=app).values_list("action", flat=True))
    assert actions[-4:] == ["approved", "contract_publicised", "publicity_ended", "filed"]


def test_a_contract_under_publicity_cannot_be_filed(demo, posting_day):
    farmer, village = _u("farmer"), _u("village")
    cbfbm = farmer.offices.get().contractor_code
    head = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    rep = head.members.exclude(name=head.name).order_by("pk").first()
    app = application_create(
        actor=village,
        business="1032",
        cbfbm=cbfbm,
        summary="户主年迈，改由配偶为代表",
        change_data={"representative": rep.pk},
    )
    app = _review(
        application_submit(actor=village, application=with_materials(app, village)), "village", "township", "county"
    )
    app = application_publicise(actor=village, application=app)
    household = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    document = _sign(app)  # signed while the notice still runs
    with pytest.raises(FilingError, match="公示期满"):
        contract_file(actor=_u("county"), document=document)
    assert Contract.objects.get(pk=app.draft.pk).status == VersionStatus.PENDING  # the filing was undone
    assert Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True).pk == household.pk


def test_a_parcel_split_through_the_survey_to_a_filed_contract(demo, posting_day):
    farmer, village, county = _u("farmer"), _u("village"), _u("county")
    cbfbm = farmer.offices.get().contractor_code
    contract = Contract.objects.get(contractor__cbfbm=cbfbm, valid_to__isnull=True)
    dkbm = contract.parcels.order_by("dkbm").first().dkbm
    old = Parcel.objects.get(dkbm=dkbm, valid_to__isnull=True)
    app = application_create(actor=farmer, business="1033", cbfbm=cbfbm, summary="修路后一块地分成两块", dkbms=[dkbm])
    app = _review(application_submit(actor=farmer, application=with_materials(app, farmer)), "village", "township")
    app = application_decide(
        actor=county,
        application=app,
        decision="survey",
        survey={"assignee": _u("surveyor"), "company": "示范测绘有限公司"},
    )
    task = app.survey_task

    # the surveyor splits the parcel in two; the households and the collective confirm the lines
    whole = _plane(dkbm)
    minx, miny, maxx, maxy = whole.bounds
    cx = whole.centroid.x
    west = whole.intersection(shapely.box(minx - 1, miny - 1, cx, maxy + 1))
    east = whole.intersection(shapely.box(cx, miny - 1, maxx + 1, maxy + 1))
    task = survey_submit(actor=_u("surveyor"), upload=_upload(task, "split.geojson", _geojson([west, east])))
    pending = LineConfirmation.objects.filter(line__upload=task.submitted)
    for household in sorted(set(pending.exclude(party="collective").values_list("cbfbm", flat=True))):
        rows = pending.filter(cbfbm=household)
        boundary_confirm_for(
            actor=village,
            task=task,
            cbfbm=household,
            decisions={c.line_id: ("confirmed", "") for c in rows},
            reason="现场指界，签字表已收",
            signed_form=_jpeg(),
        )
    collective = pending.filter(party="collective")
    if collective.exists():
        boundary_confirm_collective(
            actor=village, task=task, fbfbm=dkbm[:14], decisions={c.line_id: ("confirmed", "") for c in collective}
        )
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.CONFIRMED
    task = survey_publicise(actor=village, task=task)
    notice_complete(actor=village, notice=task.notice, today=AFTER)  # the survey's publicity ends
    app.refresh_from_db()
    assert app.state == State.TOWNSHIP_REREVIEW
    assert Step.objects.filter(application=app, action="survey_accepted", actor=village).exists()
    app = _review(app, "township", "county")
    assert app.state == State.APPROVED and len(app.staged["parcels"]) == 2 and app.staged["retire"] == []
    assert Parcel.objects.get(dkbm=dkbm, valid_to__isnull=True).pk == old.pk  # still the old one

    document = _publicise_and_sign(app)
    contract_file(actor=county, document=document)

    app.refresh_from_db()
    assert app.state == State.FILED
    versions = {p.dkbm: p for p in Parcel.objects.filter(pk__in=app.staged["parcels"])}
    assert all(p.status == VersionStatus.CURRENT and p.valid_to is None for p in versions.values())
    assert versions[dkbm].version == old.version + 1  # the larger half keeps the code
    new_code = next(c for c in versions if c != dkbm)
    assert new_code[:14] == dkbm[:14] and versions[new_code].version == 1
    halves = sum(p.scmj for p in versions.values())
    assert abs(halves - old.scmj) < 1  # the two halves make up the old parcel (m²)
    assert Parcel.objects.get(pk=old.pk).status == VersionStatus.SUPERSEDED
    filed = Contract.objects.get(cbhtbm=contract.cbhtbm, valid_to__isnull=True)
    assert filed.parcel_count == contract.parcel_count + 1
    assert set(filed.parcels.values_list("dkbm", flat=True)) >= {dkbm, new_code}
    cbdk = {r["DKBM"]: r["CZFS"] for r in ChangeRecord.objects.get(application=app).message["CHANGE_DATA"]["CBDK"]}
    assert cbdk[dkbm] == "03" and cbdk[new_code] == "02"


def test_the_whole_member_change_through_the_rest_api(demo, posting_day, django_capture_on_commit_callbacks):
    """Every action of the no-survey path by API token, as a client app would: only the notice's end is
    the night job's, and the one-time codes come from the inbox that stands in for SMS here."""
    import re

    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from accounts.models import Notification

    def api(username: str) -> APIClient:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=_u(username))[0].key}")
        return c

    def code_of(username: str) -> str:
        note = Notification.objects.filter(recipient=_u(username), body__contains="验证码").order_by("-pk").first()
        return re.search(r"验证码 (\d{6})", note.body).group(1)

    farmer_user = _u("farmer")
    cbfbm = farmer_user.offices.get().contractor_code
    household = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    leaving = household.members.exclude(name=household.name).order_by("pk").last()
    farmer, village = api("farmer"), api("village")
    resp = farmer.post(
        "/api/applications/",
        {
            "business": "1031",
            "cbfbm": cbfbm,
            "summary": "女儿出嫁",
            "change_data": {"members_removed": [str(leaving.pk)]},
        },
        format="json",
    )
    code = resp.json()["code"]
    for name in resp.json()["missing_materials"]:
        scan = SimpleUploadedFile("s.pdf", b"%PDF-1.4\n%scan\n", "application/pdf")
        assert farmer.post(f"/api/applications/{code}/materials/", {"name": name, "file": scan}).status_code == 201
    assert farmer.post(f"/api/applications/{code}/submit/", {}, format="json").status_code == 200
    for officer in ("village", "township", "county"):
        assert (
            api(officer).post(f"/api/applications/{code}/decide/", {"decision": "approve"}, format="json").status_code
            == 200
        )
    resp = village.post(f"/api/applications/{code}/publicise/", {}, format="json")
    assert resp.json()["state"] == "contract_publicity", resp.json()
    notice_complete(actor=None, notice=Application.objects.get(code=code).notice, today=AFTER)  # the night job
    cbhtbm = Application.objects.get(code=code).draft.cbhtbm
    assert farmer.post(f"/api/contracts/{cbhtbm}/document/").status_code == 404  # the issuer's, not the household's
    resp = village.post(
        f"/api/contracts/{cbhtbm}/identity/",
        {"person": "farmer", "name": household.name, "id_number": household.id_number, "attested": True},
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    document = village.post(f"/api/contracts/{cbhtbm}/document/").json()["id"]
    for client, who in ((farmer, "farmer"), (village, "village")):
        with django_capture_on_commit_callbacks(execute=True):  # the code is sent once its request commits
            assert client.post(f"/api/contracts/documents/{document}/code/").status_code == 202
        resp = client.post(f"/api/contracts/documents/{document}/sign/", {"code": code_of(who)}, format="json")
        assert resp.status_code == 200, resp.json()
    assert resp.json()["status"] == "signed"
    assert api("township").post(f"/api/contracts/documents/{document}/file/").status_code == 404  # the county files
    resp = api("county").post(f"/api/contracts/documents/{document}/file/")
    assert resp.status_code == 200 and resp.json()["contract"] == cbhtbm
    detail = farmer.get(f"/api/applications/{code}/").json()
    assert detail["state"] == "filed" and [s["action"] for s in detail["steps"]][-2:] == ["publicity_ended", "filed"]


@pytest.mark.parametrize("business", ["201", "107"])
def test_a_certificate_reissue_or_a_cancellation_is_registered_by_the_county(demo, posting_day, business):
    """No new contract: after the review the county registers it. 201 補发: a new certificate with a new
    serial, the lost one cancelled. 107 注销: the contract ends, its certificate is to be recovered."""
    from contracts.models import Certificate
    from core.ports import resolve_subjects

    farmer = _u("farmer")
    cbfbm = farmer.offices.get().contractor_code
    contract = Contract.objects.get(contractor__cbfbm=cbfbm, valid_to__isnull=True)
    old = Certificate.objects.get(cbjyqzbm=contract.cbhtbm, status="issued")
    summary = "权证遗失，申请补发" if business == "201" else "全家迁入城镇，自愿交回承包地"
    app = application_create(actor=farmer, business=business, cbfbm=cbfbm, summary=summary)
    app = _review(
        application_submit(actor=farmer, application=with_materials(app, farmer)), "village", "township", "county"
    )
    assert app.state == State.APPROVED
    with pytest.raises(ApprovalError, match="不签新合同"):
        application_publicise(actor=_u("village"), application=app)
    assert app not in inbox(_u("village")) and app in inbox(_u("county"))
    with pytest.raises(PermissionDeniedError):
        application_register(actor=_u("village"), application=app)
    app = application_register(actor=_u("county"), application=app, expected=State.APPROVED)
    assert app.state == State.FILED
    old.refresh_from_db()
    certs = ChangeRecord.objects.get(application=app).message["CHANGE_DATA"]["CBJYQZ"]
    if business == "201":
        new = Certificate.objects.get(cbjyqzbm=contract.cbhtbm, status="issued")
        assert old.status == "cancelled" and new.replaces == old and new.serial and new.serial != old.serial
        assert [(c["CZFS"], c["SERIAL"]) for c in certs] == [("04", old.serial), ("02", new.serial)]
        assert Contract.objects.get(pk=contract.pk).valid_to is None  # the contract itself is unchanged
    else:
        assert Contract.objects.get(pk=contract.pk).status == VersionStatus.CANCELLED
        assert old.status == "recall" and not Certificate.objects.filter(cbjyqzbm=contract.cbhtbm, status="issued")
        dkbms = list(contract.parcels.values_list("dkbm", flat=True))
        assert resolve_subjects("parcel_holders", dkbms) == {}  # back with the collective
    assert Step.objects.filter(application=app, action="registered", actor=_u("county")).exists()


def test_a_draft_made_beside_the_application_stops_its_publicity(demo, posting_day):
    """A draft made on the contracts page would not carry the approved change: the issuer is told to
    withdraw it first, and nothing is posted."""
    from contracts.filing import contract_draft

    farmer, village = _u("farmer"), _u("village")
    cbfbm = farmer.offices.get().contractor_code
    head = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    leaving = head.members.exclude(name=head.name).order_by("pk").last()
    app = application_create(
        actor=farmer, business="1031", cbfbm=cbfbm, summary="女儿出嫁", change_data={"members_removed": [leaving.pk]}
    )
    app = _review(
        application_submit(actor=farmer, application=with_materials(app, farmer)), "village", "township", "county"
    )
    contract_draft(actor=village, contract=Contract.objects.get(contractor=head, valid_to__isnull=True))
    with pytest.raises(ApprovalError, match="已有一份待备案的草稿"):
        application_publicise(actor=village, application=app)
    app.refresh_from_db()
    assert app.state == State.APPROVED and app.notice is None and app.draft is None


def _neighbour_household() -> tuple[Contractor, User]:
    """The demo's other household of the farmer's group (login `farmer2`), checked in person for signing."""
    user = _u("farmer2")
    other = Contractor.objects.get(cbfbm=user.offices.get().contractor_code, valid_to__isnull=True)
    assert other.cbfbm[:14] == _u("farmer").offices.get().contractor_code[:14]
    verify_in_person(user, other, _u("village"))
    return other, user


def _to_signing(app: Application) -> Application:
    app = application_submit(actor=_u("farmer"), application=with_materials(app, _u("farmer")))
    app = _review(app, "village", "township", "county")
    app = application_publicise(actor=_u("village"), application=app, expected=State.APPROVED)
    notice_complete(actor=None, notice=app.notice, today=AFTER)
    app.refresh_from_db()
    assert app.state == State.SIGNING
    return app


def test_an_exchange_moves_each_parcel_to_the_other_contract_filed_together(demo, posting_day):
    farmer, village = _u("farmer"), _u("village")
    cbfbm = farmer.offices.get().contractor_code
    other, farmer_b = _neighbour_household()
    mine = Contract.objects.get(contractor__cbfbm=cbfbm, valid_to__isnull=True)
    theirs = Contract.objects.get(contractor=other, valid_to__isnull=True)
    x = mine.parcels.order_by("dkbm").first().dkbm
    y = theirs.parcels.order_by("dkbm").first().dkbm
    app = application_create(
        actor=farmer,
        business="104",
        cbfbm=cbfbm,
        summary="两块地互换，便于连片耕种",
        dkbms=[x],
        change_data={"other_cbfbm": other.cbfbm, "parcels_in": [y]},
    )
    assert app in applications_visible(farmer_b)  # the other household follows it too
    shown = {f["properties"]["dkbm"] for f in parcels_geojson(app)["features"]}
    assert shown == {x, y}  # the map shows both parcels of the exchange
    app = _to_signing(app)
    assert {c.cbhtbm for c in (app.draft, app.other_draft)} == {mine.cbhtbm, theirs.cbhtbm}
    assert set(app.notice.subjects.filter(kind="households").values_list("code", flat=True)) == {cbfbm, other.cbfbm}
    doc_a = _sign(app)
    with pytest.raises(ApprovalError, match="尚未由双方签署"):
        application_file_together(actor=_u("county"), application=app)
    doc_b = sign_online(app.other_draft, farmer_b, village)
    with pytest.raises((FilingError, ApprovalError)):  # one alone: its new parcel is still the other's
        contract_file(actor=_u("county"), document=doc_a)
    with pytest.raises(PermissionDeniedError):
        application_file_together(actor=_u("township"), application=app)
    app = application_file_together(actor=_u("county"), application=app, expected=State.SIGNING)
    assert app.state == State.FILED
    now_mine = Contract.objects.get(cbhtbm=mine.cbhtbm, valid_to__isnull=True)
    now_theirs = Contract.objects.get(cbhtbm=theirs.cbhtbm, valid_to__isnull=True)
    assert y in set(now_mine.parcels.values_list("dkbm", flat=True)) - {x}
    assert x in set(now_theirs.parcels.values_list("dkbm", flat=True)) - {y}
    assert now_theirs.parcels.get(dkbm=x).acquisition == "300" and now_mine.parcels.get(dkbm=y).acquisition == "300"
    assert {doc_a.contract_id, doc_b.contract_id} == {now_mine.pk, now_theirs.pk}
    message = ChangeRecord.objects.get(application=app).message
    assert message["BUSINESS_DATA"]["RELATED"] == [{"CBFBM": other.cbfbm, "CBHTBM": theirs.cbhtbm}]
    rows = {(r["CBHTBM"], r["DKBM"]): r["CZFS"] for r in message["CHANGE_DATA"]["CBDKXX"]}
    assert rows[(mine.cbhtbm, x)] == "04" and rows[(theirs.cbhtbm, x)] == "02"
    assert rows[(theirs.cbhtbm, y)] == "04" and rows[(mine.cbhtbm, y)] == "02"


def test_a_transfer_of_every_parcel_ends_the_transferors_contract(demo, posting_day):
    from contracts.models import Certificate

    farmer = _u("farmer")
    cbfbm = farmer.offices.get().contractor_code
    other, farmer_b = _neighbour_household()
    mine = Contract.objects.get(contractor__cbfbm=cbfbm, valid_to__isnull=True)
    all_mine = sorted(mine.parcels.values_list("dkbm", flat=True))
    theirs = Contract.objects.get(contractor=other, valid_to__isnull=True)
    app = application_create(
        actor=farmer,
        business="1021",
        cbfbm=cbfbm,
        summary="全家进城落户，承包地全部转让给同组邻户",
        dkbms=all_mine,
        change_data={"other_cbfbm": other.cbfbm},
    )
    app = _to_signing(app)
    assert app.draft is None and app.other_draft.parcel_count == theirs.parcel_count + len(all_mine)
    sign_online(app.other_draft, farmer_b, _u("village"))
    app = application_file_together(actor=_u("county"), application=app)
    assert app.state == State.FILED
    assert Contract.objects.get(pk=mine.pk).status == VersionStatus.CANCELLED
    assert not Certificate.objects.filter(cbjyqzbm=mine.cbhtbm, status="issued").exists()
    now_theirs = Contract.objects.get(cbhtbm=theirs.cbhtbm, valid_to__isnull=True)
    assert set(all_mine) <= set(now_theirs.parcels.values_list("dkbm", flat=True))
    assert {e.acquisition for e in now_theirs.parcels.filter(dkbm__in=all_mine)} == {"200"}
    cbht = {r["CBHTBM"]: r["CZFS"] for r in ChangeRecord.objects.get(application=app).message["CHANGE_DATA"]["CBHT"]}
    assert cbht == {mine.cbhtbm: "04", theirs.cbhtbm: "03"}


def test_a_merge_brings_the_other_households_members_and_parcels_and_ends_it(demo, posting_day):
    farmer = _u("farmer")
    cbfbm = farmer.offices.get().contractor_code
    other, _farmer_b = _neighbour_household()
    mine = Contract.objects.get(contractor__cbfbm=cbfbm, valid_to__isnull=True)
    theirs = Contract.objects.get(contractor=other, valid_to__isnull=True)
    before = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    joining = sorted(other.members.values_list("name", flat=True))
    app = application_create(
        actor=farmer, business="106", cbfbm=cbfbm, summary="两户合为一户", change_data={"other_cbfbm": other.cbfbm}
    )
    app = _to_signing(app)
    assert app.other_draft is None and app.draft.contractor.status == VersionStatus.PENDING
    assert app.draft.parcel_count == mine.parcel_count + theirs.parcel_count
    _sign(app)
    app = application_file_together(actor=_u("county"), application=app)
    assert app.state == State.FILED
    merged = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    assert merged.member_count == before.member_count + len(joining)
    assert set(joining) <= set(merged.members.values_list("name", flat=True))
    assert not merged.members.filter(relation="02").exclude(name=merged.name).exists()  # one head
    assert not Contractor.objects.filter(cbfbm=other.cbfbm, valid_to__isnull=True).exists()  # merged away
    assert Contract.objects.get(pk=theirs.pk).status == VersionStatus.CANCELLED
    filed = Contract.objects.get(cbhtbm=mine.cbhtbm, valid_to__isnull=True)
    assert set(theirs.parcels.values_list("dkbm", flat=True)) <= set(filed.parcels.values_list("dkbm", flat=True))
    cbf = {r["CBFBM"]: r["CZFS"] for r in ChangeRecord.objects.get(application=app).message["CHANGE_DATA"]["CBF"]}
    assert cbf == {cbfbm: "03", other.cbfbm: "04"}


def test_a_split_makes_a_new_household_with_its_first_contract(demo, posting_day):
    """分户: the leaving members become a new household (the issuer's next code, its first member the
    representative) whose first contract holds the parcels they take; both households sign, both filed."""
    from accounts.models import Role
    from accounts.services import office_assign, user_create
    from spatial.models import Region

    farmer, village = _u("farmer"), _u("village")
    cbfbm = farmer.offices.get().contractor_code
    before = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    leaving = before.members.exclude(name=before.name).order_by("pk").last()
    mine = Contract.objects.get(contractor=before, valid_to__isnull=True)
    taken = mine.parcels.order_by("dkbm").first().dkbm
    app = application_create(
        actor=farmer,
        business="105",
        cbfbm=cbfbm,
        summary="儿子成家，分户另立",
        dkbms=[taken],
        change_data={"members_leaving": [leaving.pk]},
    )
    app = _to_signing(app)
    new_code = app.staged["new_cbfbm"]
    assert new_code[:14] == cbfbm[:14] and not Contractor.objects.filter(cbfbm=new_code, valid_to__isnull=True)
    assert app.other_draft.cbhtbm == f"{new_code}J" and app.other_draft.previous_code == mine.cbhtbm
    page = Client()
    page.force_login(village)  # the issuer prepares the new household's first contract on its page
    assert "本户还没有账号" in page.get(f"/contracts/{new_code}J/prepare/").content.decode()
    _sign(app)
    son = user_create(actor=None, username="son", password="x-test-pass-1", real_name=leaving.name)
    office_assign(
        actor=None, user=son, role=Role.FARMER, region=Region.objects.get(code=cbfbm[:14]), contractor_code=new_code
    )
    signer_identity_verify(
        actor=village,
        person=son,
        household=app.other_draft.contractor,
        name=leaving.name,
        id_number=leaving.id_number,
        attested=True,
    )
    assert app in applications_visible(son)  # the new household follows its application
    sign_online(app.other_draft, son, village)
    app = application_file_together(actor=_u("county"), application=app)
    assert app.state == State.FILED
    new = Contractor.objects.get(cbfbm=new_code, valid_to__isnull=True)
    assert new.name == leaving.name and list(new.members.values_list("name", "relation")) == [(leaving.name, "02")]
    old = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    assert old.member_count == before.member_count - 1 and leaving.name not in old.members.values_list(
        "name", flat=True
    )
    first = Contract.objects.get(cbhtbm=f"{new_code}J", valid_to__isnull=True)
    assert list(first.parcels.values_list("dkbm", flat=True)) == [taken] and first.version == 1
    assert taken not in Contract.objects.get(cbhtbm=mine.cbhtbm, valid_to__isnull=True).parcels.values_list(
        "dkbm", flat=True
    )
    cbf = {r["CBFBM"]: r["CZFS"] for r in ChangeRecord.objects.get(application=app).message["CHANGE_DATA"]["CBF"]}
    assert cbf == {cbfbm: "03", new_code: "02"}
