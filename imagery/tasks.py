"""Celery entry point for imagery jobs (imagery.jobs)."""

from celery import shared_task

from core.progress import run_recording_failure

from .jobs import imagery_job_run
from .models import ImageryJob


@shared_task(name="tiles.run_imagery_job")
def run_imagery_job(job_id: str) -> str:
    job = ImageryJob.objects.select_related("created_by").get(pk=job_id)
    return run_recording_failure(ImageryJob, job_id, lambda: imagery_job_run(job=job))
