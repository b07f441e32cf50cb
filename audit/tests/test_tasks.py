"""The nightly chain check runs in a real Celery worker over the real Redis broker."""

import pytest
from celery.contrib.testing.worker import start_worker

from audit.tasks import audit_verify_chain
from config.celery import app


@pytest.mark.django_db
def test_worker_verifies_the_committed_chain():
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        result = audit_verify_chain.delay().get(timeout=30)
    # The worker's own connection sees what the session committed: the demo county's events.
    assert result["broken_event"] is None
    assert result["checked"] >= 1
