"""Fixtures of the application tests."""

from datetime import date

import pytest

from publicity.tests.conftest import _Today

POSTED, AFTER = date(2025, 9, 26), date(2025, 10, 20)  # inside the demo's working-day calendar


@pytest.fixture
def posting_day(monkeypatch, settings, tmp_path):
    """Notices are posted on POSTED (their period ends before AFTER); media go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("publicity.notices.date", _Today(POSTED))
