"""A sender (accounts.messaging) that puts the message in the user's in-app inbox. Configured for the demo
and the tests as the one-time-code channel, where no SMS gateway exists; here because only the top app may
use both accounts' interface and publicity's inbox."""

from typing import Any

from publicity.notify import notification_add


class InboxSender:
    def send(self, user: Any, title: str, body: str, url: str) -> None:
        notification_add(user=user, title=title, body=body, url=url)
