"""Celery entry points: an uploaded package is checked, and loaded unless it was a dry run."""

from datetime import UTC, datetime
from pathlib import Path

from celery import shared_task

from .models import ImportJob
from .services import import_job_run


@shared_task(name="exchange.import_package")
def import_package(job_id: str) -> str:
    job = ImportJob.objects.get(pk=job_id)
    try:
        import_job_run(job=job)
    except Exception as exc:  # the job records the failure for the user; the log keeps the trace
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            message=f"处理出错 / failed: {exc.__class__.__name__}",
            finished_at=datetime.now(UTC),
        )
        raise
    finally:
        Path(job.file_path).unlink(missing_ok=True)
    return ImportJob.objects.values_list("status", flat=True).get(pk=job_id)
