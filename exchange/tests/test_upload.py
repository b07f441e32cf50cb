"""The county administrator's upload page: a job per package, run by Celery, progress and a readable report."""

import re
import zipfile
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.models import User
from config.celery import app
from conftest import wait_until_finished
from exchange.export import package_export
from exchange.models import ImportJob
from exchange.services import import_job_create, import_job_run


def _zip_of(folder: Path, target: Path) -> bytes:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in folder.rglob("*"):
            zf.write(p, p.relative_to(folder.parent))
    return target.read_bytes()


@pytest.fixture
def package_zip(demo, tmp_path) -> bytes:
    folder = package_export(
        actor=None, county_code=demo.county, out_dir=tmp_path / "out", year=2026, progress=lambda m: None
    ).folder
    return _zip_of(folder, tmp_path / "pkg.zip")


def test_only_the_county_bureau_gets_the_upload_page(demo, login):
    assert login("township").get("/exchange/import/").status_code == 403
    page = login("county").get("/exchange/import/")
    assert page.status_code == 200 and "导入确权数据包" in page.content.decode()


def test_upload_creates_a_job_that_checks_the_package_and_shows_the_report(
    demo, login, package_zip, django_capture_on_commit_callbacks
):
    client = login("county")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resp = client.post(
            "/exchange/import/",
            {"county": demo.county, "dry_run": "1", "file": SimpleUploadedFile("永福县.zip", package_zip)},
        )
    assert resp.status_code == 302 and len(callbacks) == 1  # the Celery task is queued after the commit
    job = ImportJob.objects.latest("created_at")
    assert job.status == ImportJob.Status.QUEUED and Path(job.file_path).exists()
    import_job_run(job=job)  # what the task does (the worker itself is exercised below)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.progress == 100
    assert job.report["parcels_read"] > 0 and job.report["overlaps"] == []
    page = client.get(resp["Location"]).content.decode()
    assert "质检报告" in page and "地块重叠" in page and str(job.report["parcels_read"]) in page
    households = job.report["layers"]["tables"]["rows"]["CBF"]
    assert re.search(rf"<td>CBF（[^<]+\.gpkg）</td><td>{households}</td>", page)  # the counts per table
    status = client.get(f"/exchange/jobs/{job.pk}/status.json").json()
    assert status["progress"] == 100 and status["finished"] is True
    assert login("township").get(f"/exchange/jobs/{job.pk}/").status_code == 404


def test_a_file_that_is_not_a_zip_is_refused_on_the_page(demo, login):
    before = ImportJob.objects.count()  # the real-worker test commits its job
    resp = login("county").post(
        "/exchange/import/", {"county": demo.county, "file": SimpleUploadedFile("dk.shp", b"xx")}
    )
    assert resp.status_code == 200 and "请上传 .zip" in resp.content.decode()
    assert ImportJob.objects.count() == before


def test_a_real_worker_runs_an_uploaded_check(django_db_setup, django_db_blocker, tmp_path):
    """Committed for real (a dry run writes nothing to the registry), so the worker's connection sees it."""
    with django_db_blocker.unblock():
        folder = package_export(
            actor=None, county_code="450326", out_dir=tmp_path / "out", year=2026, progress=lambda m: None
        ).folder
        data = _zip_of(folder, tmp_path / "pkg.zip")
        county = User.objects.get(username="county")
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            with transaction.atomic():
                job = import_job_create(
                    actor=county, county_code="450326", upload=SimpleUploadedFile("pkg.zip", data), dry_run=True
                )
            wait_until_finished(job, 60)
        try:
            assert job.status == ImportJob.Status.DONE, job.message
            assert job.report["parcels_read"] > 0 and not job.report["rejected"]
            assert not Path(job.file_path).exists()  # the upload is removed once processed
        finally:
            ImportJob.objects.filter(pk=job.pk).delete()
