"""Telling people: the in-app list (publicity.models.Notification) always, and SMS/WeChat through senders
configured in settings.TIANJIE_NOTIFY_SENDERS. No SMS or WeChat gateway is reachable from here, so the
only sender shipped is LogSender, which writes what would be sent to the log; a gateway's sender
implements the same one method."""

import logging
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import Office, Role, User
from accounts.scoping import PERMISSIONS

from .models import Notice, Notification

log = logging.getLogger("tianjie.notify")


class Sender(Protocol):
    def send(self, user: User, title: str, body: str, url: str) -> None: ...


class LogSender:
    """The local implementation: the message, and to whom, in the log (phone numbers masked)."""

    def send(self, user: User, title: str, body: str, url: str) -> None:
        log.info("notify %s: %s — %s %s", user.get_username(), title, body[:80], url)


def _senders() -> list[Sender]:
    return [import_string(path)() for path in getattr(settings, "TIANJIE_NOTIFY_SENDERS", [])]


def notify_users(users: Any, *, title: str, body: str = "", url: str = "") -> int:
    """One in-app message per user (each user once), and each configured sender."""
    unique = {u.pk: u for u in users if u is not None}
    Notification.objects.bulk_create(
        [Notification(recipient=u, title=title[:200], body=body, url=url[:300]) for u in unique.values()]
    )
    for sender in _senders():
        for user in unique.values():
            sender.send(user, title, body, url)
    return len(unique)


def officers_of(fbfbms: list[str]) -> list[User]:
    """The village and group officers of these collectives (a group issuer's office at the group, the
    village committee at the village)."""
    regions = set(fbfbms) | {f[:12] for f in fbfbms}
    offices = Office.objects.filter(
        active=True, role__in=[Role.VILLAGE, Role.GROUP_ISSUER], region__code__in=regions
    ).select_related("user")
    return [o.user for o in offices]


def notify_owner(notice: Notice, *, title: str, body: str = "", url: str = "") -> int:
    """The users of the unit that owns the notice (those who may post there)."""
    roles = PERMISSIONS["notices.post"]
    offices = Office.objects.filter(active=True, role__in=roles, region__code=notice.owner_code).select_related("user")
    return notify_users([o.user for o in offices], title=title, body=body, url=url)
