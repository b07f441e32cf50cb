"""Celery entry point: an uploaded survey file read and checked."""

from celery import shared_task

from core.progress import run_recording_failure

from .models import SurveyUpload
from .services import survey_upload_run


@shared_task(name="surveys.run_upload")
def run_survey_upload(upload_id: str) -> str:
    upload = SurveyUpload.objects.select_related("task").get(pk=upload_id)
    return run_recording_failure(SurveyUpload, upload_id, lambda: survey_upload_run(upload=upload))
