"""What approvals does when a lower app announces an event: a call to a service, nothing more."""

from typing import Any

from .services import application_filed, application_publicity_ended, application_survey_accepted


def on_survey_accepted(sender: Any, *, task: Any, actor: Any, **kwargs: Any) -> None:
    application_survey_accepted(task=task, actor=actor)


def on_notice_closed(sender: Any, *, notice: Any, actor: Any, **kwargs: Any) -> None:
    application_publicity_ended(notice=notice, actor=actor)


def on_contract_filed(sender: Any, *, entries: Any, actor: Any, **kwargs: Any) -> None:
    application_filed(entries=entries, actor=actor)
