"""Import jobs: create one for an upload, run it (from the Celery task) with progress."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from audit import services as audit
from core.codes import validate_region_code
from core.effects import after_commit
from core.errors import CodeError, DomainError
from core.ports import ensure
from core.progress import store_upload

from .importer import package_check, package_import
from .models import ImportJob
from .quality import Report

MAX_UPLOAD_BYTES = 4 * 1024**3
# The importer reports these steps in this order; each moves the bar.
_STEPS = ["读取 DK", "读取界址点", "读取权属数据", "检查完成", "导入完成"]


@transaction.atomic
def import_job_create(*, actor: Any, county_code: str, upload: UploadedFile, dry_run: bool) -> ImportJob:
    """Store an uploaded .zip and queue its import (the Celery task starts after the commit)."""
    validate_region_code(county_code, "county")
    ensure(actor, "packages.import", county_code)
    name = Path(upload.name or "package.zip").name
    if not name.lower().endswith(".zip"):
        raise CodeError("请上传 .zip 格式的数据包", "upload the package as a .zip file", field="file")
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise CodeError("数据包超过 4 GB 上限", "the package is larger than the 4 GB limit", field="file")
    path = store_upload(upload, "imports", ".zip")
    job = ImportJob.objects.create(
        county_code=county_code, uploaded_by=actor, file_name=name, file_path=str(path), dry_run=dry_run
    )
    audit.record(
        actor=actor,
        action="package.import_queued",
        subject=job,
        region_code=county_code,
        data={"file": name, "dry_run": dry_run},
    )
    from .tasks import import_package

    after_commit(import_package.delay, str(job.pk))
    return job


def import_job_run(*, job: ImportJob) -> None:
    """Run a job: check (and load) its package, recording progress and the report on the job."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, progress=5, message="打开数据包 / opening the package"
    )

    def progress(message: str) -> None:
        done = next((i + 1 for i, step in enumerate(_STEPS) if message.startswith(step)), 0)
        percent = 5 + int(90 * done / len(_STEPS)) if done else None
        fields: dict[str, Any] = {"message": message[:255]}
        if percent:
            fields["progress"] = percent
        ImportJob.objects.filter(pk=job.pk).update(**fields)

    path = Path(job.file_path)
    try:
        if job.dry_run:
            report = package_check(path=path, progress=progress)
            if not report.rejected and report.county != job.county_code:
                report.reject(
                    f"数据包属于 {report.county}，不是所选的县 {job.county_code}",
                    f"the package is of county {report.county}, not {job.county_code}",
                )
        else:
            report = package_import(actor=job.uploaded_by, path=path, county=job.county_code, progress=progress)
    except DomainError as exc:  # e.g. the uploader lost the office since the upload
        report = Report(county=job.county_code)
        report.reject(exc.zh, exc.en)
    status = ImportJob.Status.REJECTED if report.rejected else ImportJob.Status.DONE
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        progress=100,
        report=report.as_dict(),
        finished_at=datetime.now(UTC),
        message="已拒绝 / rejected" if report.rejected else "已完成 / done",
    )
