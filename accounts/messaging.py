"""Messages to a person outside the app (SMS, WeChat): a `Sender` interface and the senders configured in
settings.TIANJIE_NOTIFY_SENDERS. No gateway is reachable from the build machines, so the only sender that
ships, LogSender, writes what would be sent to the log; a gateway's sender implements the same method."""

import logging
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("tianjie.notify")


class Sender(Protocol):
    def send(self, user: Any, title: str, body: str, url: str) -> None: ...


class LogSender:
    """The local implementation: to whom, and what, in the log."""

    def send(self, user: Any, title: str, body: str, url: str) -> None:
        log.info("notify %s: %s — %s %s", user.get_username(), title, body[:80], url)


def senders(channel: str = "notify") -> list[Sender]:
    """The senders of a channel: "notify" (TIANJIE_NOTIFY_SENDERS) or "otp" (TIANJIE_OTP_SENDERS, the
    one-time codes: SMS in production)."""
    setting = "TIANJIE_OTP_SENDERS" if channel == "otp" else "TIANJIE_NOTIFY_SENDERS"
    return [import_string(path)() for path in getattr(settings, setting, [])]


def send_all(user: Any, *, title: str, body: str = "", url: str = "", channel: str = "notify") -> None:
    for sender in senders(channel):
        sender.send(user, title, body, url)
