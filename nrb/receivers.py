"""What the bureau feed does when a lower app announces an event: a call to a service, nothing more."""

from typing import Any

from .services import share_enqueue


def on_contract_filed(sender: Any, *, entries: Any, actor: Any, **kwargs: Any) -> None:
    for entry in entries:
        share_enqueue(entry=entry, actor=actor)
