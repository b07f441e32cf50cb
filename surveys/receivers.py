"""What the surveys app does when a lower app announces an event: a call to a service, nothing more."""

from typing import Any

from .services import survey_accept_on_notice


def on_notice_closed(sender: Any, *, notice: Any, actor: Any, **kwargs: Any) -> None:
    survey_accept_on_notice(notice=notice, actor=actor)
