"""Side effects leave after commit (ARCHITECTURE.md, "Side effects after commit"): a message to a person,
a queued Celery job, a share with another system or a cache told to forget. A service that wants one
calls `after_commit`; a change that rolls back then tells nobody anything, and one that commits tells
them once, after its data is visible to the worker or the person the effect reaches.

Outside any transaction (autocommit) the effect runs at once, as Django's `on_commit` does. An effect
that fails after the commit is logged and does not stop the others: the change it follows is already
saved, and the person who made it must not see an error for it (the job or message can be sent again).
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger("tianjie.effects")


def after_commit(effect: Callable[..., Any], *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Run `effect(*args, **kwargs)` once the current transaction commits (never if it rolls back)."""

    def run() -> None:
        effect(*args, **kwargs)

    run.__qualname__ = getattr(effect, "__qualname__", "effect")  # what the robust handler's log names
    transaction.on_commit(run, using=using, robust=True)
