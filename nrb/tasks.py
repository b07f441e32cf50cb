"""Celery beat: queued filings not yet in the natural resources bureau's folder are written there. (The task
keeps its name from the exchange app, so a running beat schedule finds it.)"""

from celery import shared_task


@shared_task(name="exchange.export_filings")
def export_filings() -> int:
    """Celery beat: queued filings not yet in the natural resources bureau's folder are written there."""
    from .services import filings_export_folder

    return len(filings_export_folder())
