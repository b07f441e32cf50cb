"""The in-app inbox (accounts.models.Notification): telling users, always in the list they see and, once
the caller's transaction commits, through the senders of accounts.messaging (SMS/WeChat; only a logging one
ships)."""

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from audit import services as audit
from core.codes import village_of

from .messaging import send_all
from .models import Notification, Office, Role, User


def _message(user: User, title: str, body: str, url: str) -> Notification:
    return Notification(recipient=user, title=title[:200], body=body, url=url[:300])


def notify_users(users: Any, *, title: str, body: str = "", url: str = "") -> int:
    """One in-app message per user (each user once), and each configured sender."""
    unique = {u.pk: u for u in users if u is not None}
    Notification.objects.bulk_create([_message(u, title, body, url) for u in unique.values()])
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


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    """The user has read their in-app messages (each their own only)."""
    count = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=datetime.now(UTC))
    if count:
        audit.record(actor=user, action="notifications.read", subject=("user", str(user.pk)), data={"count": count})
    return count


def notification_add(*, user: User, title: str, body: str = "", url: str = "") -> Notification:
    """One in-app message, and nothing else (the inbox as a sender of one-time codes, messaging.InboxSender)."""
    message = _message(user, title, body, url)
    message.save()
    return message


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
