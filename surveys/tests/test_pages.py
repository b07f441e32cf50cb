"""The survey pages: the county assigns on the list, the surveyor uploads on the task page and reads the
check there, with the old and new boundaries as GeoJSON for the map; others see only their regions."""

import re
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accounts.models import Notification, User
from surveys.models import LineConfirmation, SurveyTask, SurveyUpload
from surveys.services import survey_upload_create, survey_upload_run
from surveys.tests.test_uploads import _geojson, _plane


def _first_dkbm() -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT dkbm FROM spatial_parcel WHERE valid_to IS NULL AND dkbm LIKE '45032610020001%%' ORDER BY dkbm"
        )
        return cur.fetchone()[0]


def test_the_county_assigns_and_the_surveyor_uploads_and_reads_the_check(
    demo, login, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    dkbm = _first_dkbm()
    county = login("county")
    page = county.get("/surveys/").content.decode()
    assert 'id="task-form"' in page and "surveyor" in page
    resp = county.post(
        "/surveys/",
        {
            "dkbms": f"{dkbm}，",
            "reason": "分户重新测量",
            "company": "示范测绘有限公司",
            "assignee": User.objects.get(username="surveyor").pk,
            "due_on": str(timezone.localdate() + timedelta(days=20)),
        },
    )
    task = SurveyTask.objects.latest("pk")
    assert resp.status_code == 302 and resp["Location"] == f"/surveys/{task.code}/"
    bad = county.post("/surveys/", {"dkbms": "123", "reason": "x", "company": "x", "due_on": "2030-01-01"})
    assert "请选择测绘人员" in bad.content.decode() or "地块编码" in bad.content.decode()

    surveyor = login("surveyor")
    assert task.code in surveyor.get("/surveys/").content.decode()
    on_map = surveyor.get("/surveys/tasks.geojson").json()["features"]
    assert [(f["id"], f["properties"]["task"]) for f in on_map] == [(dkbm, task.code)]
    page = surveyor.get(f"/surveys/{task.code}/").content.decode()
    assert 'id="upload-form"' in page and "EPSG:4546" in page and "EPSG:4525" in page  # the county's plane first
    grown = _plane(dkbm).buffer(1.0, join_style="mitre")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        resp = surveyor.post(
            f"/surveys/{task.code}/",
            {
                "file": SimpleUploadedFile("r.geojson", _geojson([grown])),
                "srid": "",
            },
        )
    upload = SurveyUpload.objects.latest("created_at")
    assert resp["Location"] == f"/surveys/uploads/{upload.pk}/" and len(queued) == 1
    assert "检查测绘成果" in surveyor.get(resp["Location"]).content.decode()
    survey_upload_run(upload=upload)
    assert surveyor.get(f"/surveys/uploads/{upload.pk}/status.json").json()["finished"] is True
    page = surveyor.get(f"/surveys/{task.code}/").content.decode()
    assert 'class="check-error"' in page and "重叠" in page  # grown by a metre into its neighbours
    old = surveyor.get(f"/surveys/{task.code}/registry.geojson").json()
    new = surveyor.get(f"/surveys/uploads/{upload.pk}/proposed.geojson").json()
    assert [f["id"] for f in old["features"]] == [dkbm]
    assert [(f["properties"]["dkbm"], f["properties"]["status"]) for f in new["features"]] == [(dkbm, "error")]
    overlay = surveyor.get(f"/surveys/uploads/{upload.pk}/overlay.geojson").json()
    assert [f["properties"]["status"] for f in overlay["features"]] == ["added"]  # the metre grown all round

    assert login("township").get(f"/surveys/{task.code}/").status_code == 200  # 永福镇 holds the parcel
    assert login("township2").get(f"/surveys/{task.code}/").status_code == 404
    assert login("township2").get(f"/surveys/uploads/{upload.pk}/proposed.geojson").status_code == 404
    assert 'id="upload-form"' not in login("county").get(f"/surveys/{task.code}/").content.decode()
    assert login("farmer").get("/surveys/").status_code == 403
    assert login("township2").get("/surveys/tasks.geojson").json()["features"] == []


def test_the_surveyor_submits_and_the_farmer_confirms_on_the_page(
    farmer_parcel, login, django_capture_on_commit_callbacks
):
    task, dkbm, _neighbour, household = farmer_parcel
    upload = survey_upload_run(
        upload=survey_upload_create(
            actor=User.objects.get(username="surveyor"),
            task=task,
            upload=SimpleUploadedFile("r.geojson", _geojson([_plane(dkbm)])),
        )
    )
    surveyor = login("surveyor")
    assert 'id="submit-form"' in surveyor.get(f"/surveys/{task.code}/").content.decode()
    resp = surveyor.post(f"/surveys/{task.code}/", {"action": "submit", "upload": str(upload.pk)})
    assert resp.status_code == 302
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.CONFIRMING

    farmer = login("farmer")
    page = farmer.get(f"/surveys/{task.code}/confirm/").content.decode()
    mine = list(LineConfirmation.objects.filter(line__upload=upload, cbfbm=household))
    assert all(f'name="line-{c.line_id}"' in page for c in mine) and 'id="code-form"' in page
    assert 'class="card proxy-form"' not in page  # a farmer answers only for their own household
    with django_capture_on_commit_callbacks(execute=True):  # the code is sent once its request commits
        farmer.post(f"/surveys/{task.code}/confirm/", {"action": "code"})
    note = Notification.objects.filter(recipient__username="farmer", body__contains="指界").latest("created_at")
    code = re.search(r"验证码 (\d{6})", note.body).group(1)
    form = {f"line-{c.line_id}": "confirmed" for c in mine} | {"action": "confirm", "code": code}
    assert farmer.post(f"/surveys/{task.code}/confirm/", form).status_code == 302
    assert {c.decision for c in LineConfirmation.objects.filter(line__upload=upload, cbfbm=household)} == {"confirmed"}
    lines = farmer.get(f"/surveys/{task.code}/lines.geojson").json()
    assert len(lines["features"]) == upload.lines.count()

    village = login("village").get(f"/surveys/{task.code}/confirm/").content.decode()
    assert 'class="card proxy-form"' in village  # the neighbour's lines, for the officer to record
    assert 'class="card collective-form"' in village  # and the lines along roads and collective land
    assert login("township2").get(f"/surveys/{task.code}/confirm/").status_code == 404
