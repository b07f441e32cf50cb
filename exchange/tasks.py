"""Celery entry points: an uploaded package is checked, and loaded unless it was a dry run."""

from pathlib import Path

from celery import shared_task

from core.progress import run_recording_failure

from .models import ImportJob
from .services import import_job_run


@shared_task(name="exchange.import_package")
def import_package(job_id: str) -> str:
    job = ImportJob.objects.get(pk=job_id)
    try:
        return run_recording_failure(ImportJob, job_id, lambda: import_job_run(job=job))
    finally:
        Path(job.file_path).unlink(missing_ok=True)
