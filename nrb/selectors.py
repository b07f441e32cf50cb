"""Reads of the bureau feed, scoped to the user."""

from typing import Any

from accounts.models import User
from accounts.scoping import scope_q

from .models import FilingShare


def shares_visible(user: User) -> Any:
    """The filings queued for the natural resources bureau that this user may pull (permission filings.pull)."""
    return FilingShare.objects.filter(scope_q(user, "cbhtbm", "filings.pull"))


def shares_for_view(user: Any) -> Any:
    """The queued filings the county bureau (or the natural resources bureau) may look at (filings.view)."""
    return FilingShare.objects.filter(scope_q(user, "cbhtbm", "filings.view"))
