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


def senders() -> list[Sender]:
    return [import_string(path)() for path in getattr(settings, "TIANJIE_NOTIFY_SENDERS", [])]


def send_all(user: Any, *, title: str, body: str = "", url: str = "") -> None:
    for sender in senders():
        sender.send(user, title, body, url)
