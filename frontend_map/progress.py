"""The progress of a background job (an import, an imagery ingest, a seeding) for the pages that poll it."""

from typing import Any

from django.http import JsonResponse


def job_status_response(job: Any) -> JsonResponse:
    """What a job page polls: status, its label, percent, the current step, and whether it has ended."""
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "progress": job.progress,
            "message": job.message,
            "finished": job.finished_at is not None,
        }
    )
