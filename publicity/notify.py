"""Telling the unit that owns a notice (accounts.notifications tells users in general)."""

from accounts.models import Office
from accounts.notifications import notify_users
from accounts.scoping import PERMISSIONS

from .models import Notice


def notify_owner(notice: Notice, *, title: str, body: str = "", url: str = "") -> int:
    """The users of the unit that owns the notice (those who may post there)."""
    roles = PERMISSIONS["notices.post"]
    offices = Office.objects.filter(active=True, role__in=roles, region__code=notice.owner_code).select_related("user")
    return notify_users([o.user for o in offices], title=title, body=body, url=url)
