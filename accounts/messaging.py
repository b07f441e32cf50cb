"""Messages to a person outside the app (SMS, WeChat): a `Sender` interface and the senders configured in
settings.TIANJIE_NOTIFY_SENDERS and TIANJIE_OTP_SENDERS (one-time codes).

* `HttpSmsSender`: an SMS gateway over HTTPS, the production channel of one-time codes.
* `LogSender`: to whom and what, in the log, with any six-digit code blanked (a code never reaches a log).
* `DemoPhoneSender`: the demo's stand-in for a phone, a file in the data folder (local settings only).
* `InboxSender` (the in-app inbox) and `OutboxSender` (in memory): the tests' channels.

Production refuses to start when one-time codes would reach no real channel (accounts.checks, run by
`manage.py check --deploy`, which the web unit runs before it starts).

`send_all` hands the message to the senders once the caller's transaction commits (core.effects): a change
that rolls back sends nothing. `OutboxSender` keeps what was sent in memory, as Django's mail outbox does,
for tests that check who was told what."""

import json
import logging
import re
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core.effects import after_commit

log = logging.getLogger("tianjie.notify")


class Sender(Protocol):
    def send(self, user: Any, title: str, body: str, url: str) -> None: ...


_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")  # a one-time code: six digits alone (serials and codes are longer)


def without_codes(text: str) -> str:
    return _CODE.sub("******", text)


class LogSender:
    """To whom, and what, in the log; a six-digit code is blanked."""

    def send(self, user: Any, title: str, body: str, url: str) -> None:
        log.info("notify %s: %s — %s %s", user.get_username(), title, without_codes(body[:80]), url)


class DemoPhoneSender:
    """The demo's phone: each message for a user with a phone number is appended to
    DATA_DIR/demo-phone.txt, which the demo's phone login points to. Not a channel for production (the deploy
    check refuses it)."""

    def send(self, user: Any, title: str, body: str, url: str) -> None:
        phone = getattr(user, "phone", "")
        if not phone:
            return
        path = Path(settings.DATA_DIR) / "demo-phone.txt"
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{datetime.now():%Y-%m-%d %H:%M:%S} 发往 to {phone}：{title} {body}\n")


class HttpSmsSender:
    """An SMS gateway over HTTPS: POST {"phone", "text"} as JSON to TIANJIE_SMS_URL with the bearer token
    TIANJIE_SMS_TOKEN. A gateway that does not answer 2xx in 10 s raises (after commit: logged, the change
    stands). A vendor whose platform wants another request writes a sender with the same `send`."""

    def send(self, user: Any, title: str, body: str, url: str) -> None:
        phone = getattr(user, "phone", "")
        if not phone:
            log.warning("no phone for user %s: message not sent by SMS", user.pk)
            return
        if not settings.TIANJIE_SMS_URL.startswith(("https://", "http://127.0.0.1:")):  # the tests' local gateway
            raise RuntimeError("TIANJIE_SMS_URL must be an https URL")
        request = urllib.request.Request(  # noqa: S310 - an https URL (checked above and by the deploy check)
            settings.TIANJIE_SMS_URL,
            data=json.dumps({"phone": phone, "text": f"【田界】{title}：{body}"}, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.TIANJIE_SMS_TOKEN}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            if not 200 <= answer.status < 300:
                raise RuntimeError(f"SMS gateway answered {answer.status}")


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
