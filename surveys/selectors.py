"""Reads of survey tasks, scoped to the user."""

from typing import Any

from django.db.models.expressions import RawSQL

from accounts.models import User
from accounts.scoping import scope_prefixes

from .models import SurveyTask


def tasks_visible(user: User) -> Any:
    """The tasks a user may see: a surveyor their own; an officer those with a parcel in their regions."""
    if scope_prefixes(user, "surveys.upload"):
        return SurveyTask.objects.filter(assignee=user)
    patterns = [p + "%" for p in scope_prefixes(user, "surveys.view")]
    if not patterns:
        return SurveyTask.objects.none()
    return SurveyTask.objects.annotate(
        in_scope=RawSQL("EXISTS (SELECT 1 FROM jsonb_array_elements_text(dkbms) d WHERE d LIKE ANY(%s))", (patterns,))
    ).filter(in_scope=True)
