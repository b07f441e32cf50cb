"""The county's imagery page: upload a GeoTIFF or ask for seeding, follow the job, read why it was refused."""

from pathlib import Path

from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.models import User
from audit.models import AuditEvent
from config.celery import app
from conftest import wait_until_finished
from imagery.jobs import imagery_job_ingest, imagery_job_run
from imagery.models import Imagery, ImageryJob

from .conftest import FIXTURES


def _post_and_run(client, data: dict, capture) -> tuple:
    """POST the form; run the queued task's work as the worker would (the worker itself: last test)."""
    with capture(execute=False) as callbacks:
        resp = client.post("/manage/imagery/", data)
    if resp.status_code != 302:
        return resp, None
    assert len(callbacks) == 1  # queued after the commit
    job = ImageryJob.objects.get(pk=resp["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.status == ImageryJob.Status.QUEUED
    imagery_job_run(job=ImageryJob.objects.select_related("created_by").get(pk=job.pk))
    job.refresh_from_db()
    return resp, job


def test_only_the_county_bureau_manages_imagery(demo, login):
    assert login("township").get("/manage/imagery/").status_code == 403
    page = login("county").get("/manage/imagery/").content.decode()
    assert "影像管理" in page and "导入影像" in page and "预生成瓦片" in page
    assert "/manage/imagery/" in login("county").get("/").content.decode()  # linked from the map
    assert "/manage/imagery/" not in login("township").get("/").content.decode()


def test_an_uploaded_utm_geotiff_becomes_a_layer(demo, login, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.IMAGERY_ROOT, settings.MEDIA_ROOT = tmp_path / "imagery", tmp_path / "media"
    client = login("county")
    data = (FIXTURES / "RGB.byte.tif").read_bytes()
    resp, job = _post_and_run(
        client,
        {
            "form": "ingest",
            "county": demo.county,
            "file": SimpleUploadedFile("RGB.byte.tif", data),
            "name": "river",
            "title": "河谷 2024",
            "date": "2024-05-01",
        },
        django_capture_on_commit_callbacks,
    )
    assert job.status == ImageryJob.Status.DONE, (job.error_zh, job.message)
    assert job.progress == 100 and job.finished_at is not None
    image = Imagery.objects.get(name="river")
    assert image.source_crs == "EPSG:32618" and image.title == "河谷 2024" and str(image.acquired_on) == "2024-05-01"
    assert (settings.IMAGERY_ROOT / image.cog_path).exists()
    assert not list((settings.MEDIA_ROOT / "imagery-uploads").iterdir())  # the upload is removed once ingested
    page = client.get(resp["Location"]).content.decode()
    assert "已完成" in page and "river" in page
    assert client.get(f"/manage/imagery/jobs/{job.pk}/status.json").json() == {
        "status": "done",
        "status_label": "已完成",
        "progress": 100,
        "message": "图层 layer river",
        "finished": True,
    }
    assert "river" in client.get("/manage/imagery/").content.decode()  # in the table of layers
    assert AuditEvent.objects.filter(action="imagery.ingest_queued").exists()
    assert AuditEvent.objects.filter(action="imagery.ingested", subject_id=str(image.pk)).exists()
    assert login("township").get(f"/manage/imagery/jobs/{job.pk}/").status_code == 404


def test_a_damaged_geotiff_is_refused_with_the_reason(
    demo, login, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.IMAGERY_ROOT, settings.MEDIA_ROOT = tmp_path / "imagery", tmp_path / "media"
    whole = (FIXTURES / "RGB.byte.tif").read_bytes()
    client = login("county")
    resp, job = _post_and_run(
        client,
        {"form": "ingest", "county": demo.county, "file": SimpleUploadedFile("cut.tif", whole[: len(whole) // 3])},
        django_capture_on_commit_callbacks,
    )
    assert job.status == ImageryJob.Status.REJECTED
    assert "不是可读的 GeoTIFF" in job.error_zh and "not a readable GeoTIFF" in job.error_en
    page = client.get(resp["Location"]).content.decode()
    assert "已拒绝" in page and "不是可读的 GeoTIFF" in page
    assert not Imagery.objects.filter(name="cut").exists()
    assert not list((settings.MEDIA_ROOT / "imagery-uploads").iterdir())
    assert not list(settings.IMAGERY_ROOT.glob("cut*"))


def test_form_mistakes_are_shown_on_the_page_and_queue_nothing(demo, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = login("county")
    jobs = ImageryJob.objects.count()  # the real-worker test commits its job
    for data, message in (
        ({"form": "ingest", "county": demo.county, "file": SimpleUploadedFile("a.jpg", b"x")}, "请上传 GeoTIFF"),
        ({"form": "ingest", "county": demo.county}, "请选择要上传的影像文件"),
        ({"form": "ingest", "county": "450327", "file": SimpleUploadedFile("a.tif", b"x")}, "无权"),
        ({"form": "seed", "layer": "nope", "region": demo.township, "zoom_from": "1", "zoom_to": "2"}, "没有名为"),
        ({"form": "seed", "layer": f"{demo.county}-mosaic", "region": demo.township, "zoom_from": "x"}, "整数"),
    ):
        resp = client.post("/manage/imagery/", data)
        assert resp.status_code == 200 and message in resp.content.decode(), data
    assert ImageryJob.objects.count() == jobs


def test_a_seeding_job_fills_the_region(aerial, login, settings, tmp_path, django_capture_on_commit_callbacks):
    client = login("county")
    resp, job = _post_and_run(
        client,
        {"form": "seed", "layer": "aerial", "region": "450326100299", "grid": "cgcs2000", "zoom_from": "13"}
        | {"zoom_to": "14"},
        django_capture_on_commit_callbacks,
    )
    assert job.status == ImageryJob.Status.DONE, job.error_zh
    cache = Path(settings.IMAGERY_ROOT) / "cache" / "aerial_4490_EPSG4490"
    assert {int(p.name) for p in cache.iterdir()} == {13, 14}
    assert "已完成" in client.get(resp["Location"]).content.decode()
    # another township's officer cannot ask for it
    resp = login("township").post(
        "/manage/imagery/",
        {"form": "seed", "layer": "aerial", "region": "450326100299", "zoom_from": 13, "zoom_to": 13},
    )
    assert resp.status_code == 403


def test_a_real_worker_runs_an_upload(django_db_setup, django_db_blocker, settings, tmp_path):
    """Committed for real, so the worker's connection sees the job; removed afterwards."""
    settings.IMAGERY_ROOT, settings.MEDIA_ROOT = tmp_path / "imagery", tmp_path / "media"
    with django_db_blocker.unblock():
        county = User.objects.get(username="county")
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            with transaction.atomic():
                job = imagery_job_ingest(
                    actor=county,
                    county_code="450326",
                    upload=SimpleUploadedFile("world.tif", (FIXTURES / "world.rgb.tif").read_bytes()),
                    name="worker-world",
                )
            wait_until_finished(job, 120)
        try:
            assert job.status == ImageryJob.Status.DONE, (job.message, job.error_zh)
            assert Imagery.objects.get(name="worker-world").source_crs == "EPSG:4326"
        finally:
            ImageryJob.objects.filter(pk=job.pk).delete()
            Imagery.objects.filter(name="worker-world").delete()
