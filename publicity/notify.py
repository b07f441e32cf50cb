"""Telling people: the in-app list (publicity.models.Notification) always, and SMS/WeChat through the
senders of accounts.messaging (settings.TIANJIE_NOTIFY_SENDERS; only a logging one ships)."""

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from accounts.messaging import send_all
from accounts.models import Office, Role, User
from accounts.scoping import PERMISSIONS
from audit import services as audit
from core.codes import village_of

from .models import Notice, Notification


def notify_users(users: Any, *, title: str, body: str = "", url: str = "") -> int:
    """One in-app message per user (each user once), and each configured sender."""
    unique = {u.pk: u for u in users if u is not None}
    Notification.objects.bulk_create(
        [Notification(recipient=u, title=title[:200], body=body, url=url[:300]) for u in unique.values()]
    )
    for user in unique.values():
        send_all(user, title=title, body=body, url=url)
    return len(unique)


def officers_of(fbfbms: list[str]) -> list[User]:
    """The village and group officers of these collectives (a group issuer's office at the group, the
    village committee at the village)."""
    regions = set(fbfbms) | {village_of(f) for f in fbfbms}
    offices = Office.objects.filter(
        active=True, role__in=[Role.VILLAGE, Role.GROUP_ISSUER], region__code__in=regions
    ).select_related("user")
    return [o.user for o in offices]


def notify_owner(notice: Notice, *, title: str, body: str = "", url: str = "") -> int:
    """The users of the unit that owns the notice (those who may post there)."""
    roles = PERMISSIONS["notices.post"]
    offices = Office.objects.filter(active=True, role__in=roles, region__code=notice.owner_code).select_related("user")
    return notify_users([o.user for o in offices], title=title, body=body, url=url)


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    """The user has read their in-app messages (each their own only)."""
    count = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=datetime.now(UTC))
    if count:
        audit.record(actor=user, action="notifications.read", subject=("user", str(user.pk)), data={"count": count})
    return count


def notification_add(*, user: User, title: str, body: str = "", url: str = "") -> Notification:
    """One in-app message, and nothing else (the inbox as a sender of one-time codes, frontend_map.senders)."""
    return Notification.objects.create(recipient=user, title=title[:200], body=body, url=url[:300])
