"""The application pages and the REST API as their users meet them: the farmer applies and uploads from a
phone, the issuer finds it in the inbox and decides on the page; another township sees nothing; the API
does every action with the same permissions; the county's dashboard counts per township."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from approvals.models import Application
from approvals.workflow import REQUIRED_MATERIALS, BusinessType, State
from contracts.models import Contractor
from core.codes import id_check_char


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _leaving(cbfbm: str):
    head = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    return head.members.exclude(name=head.name).order_by("pk").last()


def test_the_farmer_applies_uploads_and_submits_and_the_village_decides(demo, media, login):
    client = login("farmer")
    cbfbm = User.objects.get(username="farmer").offices.get().contractor_code
    page = client.get("/applications/new/")
    assert page.status_code == 200 and "家庭成员变化" in page.content.decode()
    leaving = _leaving(cbfbm)
    resp = client.post(
        "/applications/new/",
        {"business": "1031", "summary": "女儿出嫁迁出", "remove": [str(leaving.pk)], "cbfbm": cbfbm},
    )
    app = Application.objects.latest("pk")  # the one just made (others may be committed)
    assert resp.status_code == 302 and resp["Location"] == f"/applications/{app.code}/"
    page = client.post(f"/applications/{app.code}/", {"action": "submit", "expected": "draft"}).content.decode()
    assert "还缺少材料" in page  # refused, with what is missing
    bad = client.post(
        f"/applications/{app.code}/",
        {"action": "upload", "name": "户口簿", "file": SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not an image")},
    )
    assert "JPG、PNG 照片或 PDF" in bad.content.decode() and not app.materials.exists()
    for name in REQUIRED_MATERIALS[BusinessType.MEMBERS]:
        client.post(
            f"/applications/{app.code}/",
            {"action": "upload", "name": name, "file": SimpleUploadedFile("p.jpg", _jpeg(), "image/jpeg")},
        )
    material = app.materials.first()
    assert client.get(f"/applications/{app.code}/materials/{material.pk}/")["Content-Type"] == "image/jpeg"
    client.post(f"/applications/{app.code}/", {"action": "submit", "expected": "draft"})
    app.refresh_from_db()
    assert app.state == State.ISSUER_REVIEW

    client = login("village")
    listing = client.get("/applications/").content.decode()
    assert app.code in listing.split('id="inbox"')[1].split("</table>")[0]
    page = client.get(f"/applications/{app.code}/").content.decode()
    assert 'id="decide-form"' in page and leaving.name in page
    geo = client.get(f"/applications/{app.code}/parcels.geojson").json()
    assert geo["features"] and {f["properties"]["status"] for f in geo["features"]} == {"old"}
    page = client.post(
        f"/applications/{app.code}/", {"action": "decide", "decision": "return", "expected": "issuer_review"}
    ).content.decode()
    assert "须写明理由" in page
    minutes = SimpleUploadedFile("minutes.pdf", b"%PDF-1.4\n% minutes of the group meeting\n", "application/pdf")
    client.post(
        f"/applications/{app.code}/",
        {"action": "decide", "decision": "approve", "expected": "issuer_review", "attachment": minutes},
    )
    app.refresh_from_db()
    assert app.state == State.TOWNSHIP_REVIEW
    step = app.steps.get(action="approved")
    assert [a["file_name"] for a in step.attachments] == ["minutes.pdf"]
    attached = app.materials.get(pk=step.attachments[0]["material"])
    assert "附件 minutes.pdf" in client.get(f"/applications/{app.code}/").content.decode()
    assert client.get(f"/applications/{app.code}/materials/{attached.pk}/")["Content-Type"] == "application/pdf"
    stale = client.post(
        f"/applications/{app.code}/", {"action": "decide", "decision": "approve", "expected": "issuer_review"}
    )
    assert "已被他人处理" in stale.content.decode()  # the second decision on what the village saw

    client = login("township2")  # another township: nothing to see, nothing to do
    assert client.get(f"/applications/{app.code}/").status_code == 404
    assert client.get(f"/applications/{app.code}/materials/{material.pk}/").status_code == 404
    assert app.code not in client.get("/applications/").content.decode()

    client = login("farmer")
    page = client.get(f"/applications/{app.code}/").content.decode()
    assert 'id="timeline"' in page and "提交 Submitted" in page and "同意 Approved" in page


def test_every_action_through_the_api_with_the_pages_permissions(demo, media):
    def api(username: str) -> APIClient:
        c = APIClient()
        token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
        c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return c

    cbfbm = User.objects.get(username="farmer").offices.get().contractor_code
    farmer = api("farmer")
    before = Application.objects.count()  # a browser test's server may have committed some
    resp = farmer.post(
        "/api/applications/",
        {
            "business": "1031",
            "cbfbm": cbfbm,
            "summary": "孙子出生",
            "change_data": {
                "members_added": [{"name": "钟小宝", "sex": "1", "relation": "61", "id_number": "450326202503010021"}]
            },
        },
        format="json",
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_id_number"  # a wrong check digit
    assert Application.objects.count() == before
    good = "45032620250301002" + id_check_char("45032620250301002")
    resp = farmer.post(
        "/api/applications/",
        {
            "business": "1031",
            "cbfbm": cbfbm,
            "summary": "孙子出生",
            "change_data": {"members_added": [{"name": "钟小宝", "sex": "1", "relation": "61", "id_number": good}]},
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    code = resp.json()["code"]
    assert "id_number_enc" not in str(resp.json()) and resp.json()["change_data"]["members_added"][0]["id_masked"]
    assert good not in str(resp.json()) and resp.json()["missing_materials"] == REQUIRED_MATERIALS[BusinessType.MEMBERS]
    for name in REQUIRED_MATERIALS[BusinessType.MEMBERS]:
        upload = SimpleUploadedFile("p.pdf", b"%PDF-1.4\n%scan\n", "application/pdf")
        assert farmer.post(f"/api/applications/{code}/materials/", {"name": name, "file": upload}).status_code == 201
    assert farmer.post(f"/api/applications/{code}/submit/", {}, format="json").json()["state"] == "issuer_review"

    other = api("township2")
    assert other.get(f"/api/applications/{code}/").status_code == 404
    assert other.post(f"/api/applications/{code}/decide/", {"decision": "approve"}, format="json").status_code == 404
    township = api("township")
    resp = township.post(f"/api/applications/{code}/decide/", {"decision": "approve"}, format="json")
    assert resp.status_code == 403  # visible to the township, but the issuer decides first
    village = api("village")
    assert [a["code"] for a in village.get("/api/applications/inbox/").json()["results"]] == [code]
    resp = village.post(
        f"/api/applications/{code}/decide/", {"decision": "approve", "expected": "issuer_review"}, format="json"
    )
    assert resp.status_code == 200 and resp.json()["state"] == "township_review"
    resp = village.post(
        f"/api/applications/{code}/decide/",
        {"decision": "reject", "comment": "x", "expected": "issuer_review"},
        format="json",
    )
    assert resp.status_code == 409 and "已被他人处理" in resp.json()["error"]["message"]
    steps = township.get(f"/api/applications/{code}/").json()["steps"]
    assert [s["action"] for s in steps] == ["created", "submitted", "approved"]
    assert farmer.post(f"/api/applications/{code}/withdraw/", {}, format="json").status_code == 400  # too late

    schema = APIClient().get("/api/schema/").content.decode()
    for op in (
        "applications_create",
        "applications_decide",
        "applications_submit",
        "applications_withdraw",
        "applications_publicise",
        "applications_register",
        "applications_file_together",
        "applications_material_upload",
    ):
        assert op in schema


def test_the_county_dashboard_counts_per_township(demo, media, login):
    from approvals.services import application_create

    farmer = User.objects.get(username="farmer")
    cbfbm = farmer.offices.get().contractor_code
    application_create(
        actor=farmer, business="1031", cbfbm=cbfbm, summary="x", change_data={"members_removed": [_leaving(cbfbm).pk]}
    )
    page = login("county").get("/applications/dashboard/").content.decode()
    row = page.split(cbfbm[:9])[1].split("</tr>")[0]
    assert "<td>1</td>" in row  # one waiting in the farmer's township
    assert 'id="township-chart"' in page
    assert login("township").get("/applications/dashboard/").status_code == 404


def test_the_inbox_puts_the_overdue_first_and_marks_them(demo, media, login):
    from datetime import timedelta

    from django.utils import timezone

    from approvals.services import application_create

    farmer = User.objects.get(username="farmer")
    cbfbm = farmer.offices.get().contractor_code
    apps = [
        application_create(
            actor=farmer, business="1031", cbfbm=cbfbm, summary=s, change_data={"members_removed": [_leaving(cbfbm).pk]}
        )
        for s in ("第一份", "第二份")
    ]
    today = timezone.localdate()
    Application.objects.filter(pk=apps[0].pk).update(state=State.ISSUER_REVIEW, step_due=today + timedelta(days=3))
    Application.objects.filter(pk=apps[1].pk).update(state=State.ISSUER_REVIEW, step_due=today - timedelta(days=2))
    inbox = login("village").get("/applications/").content.decode().split('id="inbox"')[1].split("</table>")[0]
    assert inbox.index(apps[1].code) < inbox.index(apps[0].code)  # the overdue one first
    first_row = inbox.split("<tr")[2]
    assert 'class="overdue"' in first_row and "已逾期" in first_row and apps[1].code in first_row
    api = login("village").get("/api/applications/inbox/").json()["results"]
    assert [(a["code"], a["overdue"]) for a in api] == [(apps[1].code, True), (apps[0].code, False)]


def test_the_page_the_inbox_and_the_dashboard_agree_on_overdue(demo, media, login):
    """One rule (approvals.workflow.is_overdue): a signing step past its deadline is overdue on the
    application's page, in the inbox, in the API and on the county's dashboard alike; a filed one is not."""
    from datetime import timedelta

    from django.utils import timezone

    from approvals.services import application_create

    farmer = User.objects.get(username="farmer")
    cbfbm = farmer.offices.get().contractor_code
    app = application_create(
        actor=farmer, business="1031", cbfbm=cbfbm, summary="x", change_data={"members_removed": [_leaving(cbfbm).pk]}
    )
    late = timezone.localdate() - timedelta(days=1)
    Application.objects.filter(pk=app.pk).update(state=State.SIGNING, step_due=late)
    village = login("village")
    page = village.get(f"/applications/{app.code}/").content.decode()
    inbox = village.get("/applications/").content.decode().split('id="inbox"')[1].split("</table>")[0]
    assert 'class="overdue"' in page and "已逾期" in inbox and app.code in inbox
    assert village.get(f"/api/applications/{app.code}/").json()["overdue"] is True
    row = login("county").get("/applications/dashboard/").content.decode().split(cbfbm[:9])[1].split("</tr>")[0]
    assert "<strong>1</strong>" in row  # counted overdue on the dashboard too

    Application.objects.filter(pk=app.pk).update(state=State.FILED)  # an ended application is never overdue
    assert 'class="overdue"' not in village.get(f"/applications/{app.code}/").content.decode()
    assert village.get(f"/api/applications/{app.code}/").json()["overdue"] is False


def test_pages_and_api_show_each_user_what_the_services_allow(demo, media, login):
    """approvals.workflow.user_actions is what the page shows and the API lists; each action offered is
    one the service then accepts, and another township sees nothing to do."""
    from approvals.services import application_create, application_decide, application_submit
    from approvals.tests.test_workflow import with_materials

    farmer = User.objects.get(username="farmer")
    cbfbm = farmer.offices.get().contractor_code
    app = application_create(
        actor=farmer, business="1031", cbfbm=cbfbm, summary="x", change_data={"members_removed": [_leaving(cbfbm).pk]}
    )

    def actions(username: str) -> set[str]:
        return set(login(username).get(f"/api/applications/{app.code}/").json()["actions"])

    assert {"submit", "edit", "withdraw"} <= actions("farmer") and "decide" not in actions("farmer")
    assert 'id="submit-form"' in login("farmer").get(f"/applications/{app.code}/").content.decode()
    app = application_submit(actor=farmer, application=with_materials(app, farmer))
    assert actions("village") == {"decide", "issuer_approve", "return_for_revision", "reject"}
    assert actions("farmer") == {"withdraw"}  # still before the issuer's decision
    assert login("township").get(f"/api/applications/{app.code}/").json()["actions"] == []  # not its turn
    assert login("township2").get(f"/api/applications/{app.code}/").status_code == 404  # not its region
    assert 'id="decide-form"' in login("village").get(f"/applications/{app.code}/").content.decode()
    assert 'id="decide-form"' not in login("township").get(f"/applications/{app.code}/").content.decode()
    for officer in ("village", "township"):
        app = application_decide(actor=User.objects.get(username=officer), application=app, decision="approve")
    county = actions("county")
    assert {"decide", "county_approve"} <= county and "county_order_survey" not in county  # no survey for 1031
    assert 'value="survey"' not in login("county").get(f"/applications/{app.code}/").content.decode()
    app = application_decide(actor=User.objects.get(username="county"), application=app, decision="approve")
    assert actions("village") == {"publicise_contract"} and actions("county") == set()
    assert 'id="publicise-form"' in login("village").get(f"/applications/{app.code}/").content.decode()
