"""Celery entry points for the audit log."""

from typing import Any

from celery import shared_task

from .services import chain_verify


@shared_task(name="audit.verify_chain")
def audit_verify_chain() -> dict[str, Any]:
    """Walk the hash chain (scheduled nightly by beat); the result names the first broken link, if any."""
    checked, broken = chain_verify()
    return {
        "checked": checked,
        "broken_event": broken.event_id if broken else None,
        "reason": broken.reason if broken else "",
    }
