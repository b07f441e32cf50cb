"""Messages to a person outside the app (SMS, WeChat): a `Sender` interface and the senders configured in
settings.TIANJIE_NOTIFY_SENDERS. No gateway is reachable from the build machines, so the only sender that
ships, LogSender, writes what would be sent to the log; a gateway's sender implements the same method.

`send_all` hands the message to the senders once the caller's transaction commits (core.effects): a change
that rolls back sends nothing. `OutboxSender` keeps what was sent in memory, as Django's mail outbox does,
for tests that check who was told what."""

import logging
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core.effects import after_commit

log = logging.getLogger("tianjie.notify")


class Sender(Protocol):
    def send(self, user: Any, title: str, body: str, url: str) -> None: ...


class LogSender:
    """The local implementation: to whom, and what, in the log."""

    def send(self, user: Any, title: str, body: str, url: str) -> None:
        log.info("notify %s: %s — %s %s", user.get_username(), title, body[:80], url)


class OutboxSender:
    """Keeps each message sent in `OUTBOX` (user name, title, body, url), in this process only."""

    def send(self, user: Any, title: str, body: str, url: str) -> None:
        OUTBOX.append((user.get_username(), title, body, url))


OUTBOX: list[tuple[str, str, str, str]] = []


class InboxSender:
    """Puts the message in the user's in-app inbox: the one-time-code channel of the demo and the tests,
    where no SMS gateway exists (TIANJIE_OTP_SENDERS)."""

    def send(self, user: Any, title: str, body: str, url: str) -> None:
        from .notifications import notification_add  # the inbox's service uses this module's send_all

        notification_add(user=user, title=title, body=body, url=url)


def senders(channel: str = "notify") -> list[Sender]:
    """The senders of a channel: "notify" (TIANJIE_NOTIFY_SENDERS) or "otp" (TIANJIE_OTP_SENDERS, the
    one-time codes: SMS in production)."""
    setting = "TIANJIE_OTP_SENDERS" if channel == "otp" else "TIANJIE_NOTIFY_SENDERS"
    return [import_string(path)() for path in getattr(settings, setting, [])]


def send_all(user: Any, *, title: str, body: str = "", url: str = "", channel: str = "notify") -> None:
    """Each sender of the channel sends the message after the caller's transaction commits."""
    for sender in senders(channel):
        after_commit(sender.send, user, title, body, url)
