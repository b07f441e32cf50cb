"""Celery entry points of the publicity app (run by beat: see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .notices import notices_close_ended


@shared_task(name="publicity.close_ended_notices")
def close_ended_notices() -> dict[str, int]:
    """Every night: end the notices whose period is over (or mark them waiting for answers)."""
    return notices_close_ended()
