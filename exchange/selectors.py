"""Reads of the exchange app, scoped to the user."""

from typing import Any

from accounts.models import User
from accounts.scoping import scope_q

from .models import FilingShare


def shares_visible(user: User) -> Any:
    """The filings queued for the natural resources bureau that this user may pull (permission filings.pull)."""
    return FilingShare.objects.filter(scope_q(user, "cbhtbm", "filings.pull"))
