"""Celery entry point for imagery jobs (tiles.jobs)."""

from datetime import UTC, datetime

from celery import shared_task

from .jobs import imagery_job_run
from .models import ImageryJob


@shared_task(name="tiles.run_imagery_job")
def run_imagery_job(job_id: str) -> str:
    job = ImageryJob.objects.select_related("created_by").get(pk=job_id)
    try:
        imagery_job_run(job=job)
    except Exception as exc:  # the job records the failure for the user; the log keeps the trace
        ImageryJob.objects.filter(pk=job_id).update(
            status=ImageryJob.Status.FAILED,
            message=f"处理出错 / failed: {exc.__class__.__name__}",
            finished_at=datetime.now(UTC),
        )
        raise
    return ImageryJob.objects.values_list("status", flat=True).get(pk=job_id)
