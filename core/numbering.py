"""Running numbers of the platform's codes (applications, notices, survey tasks, certificate serials)."""

from typing import Any

from django.db import connection


def next_number(model: Any, field: str, prefix: str, width: int) -> str:
    """The next running number after `prefix` in `model.field` ("YW4503262026" → …000001, …000002), under
    a transaction-scoped advisory lock on the prefix, so that two writers never take the same one. Call it
    inside the transaction that stores the code."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tianjie-number-{model._meta.label}-{prefix}"])
    last = (
        model._default_manager.filter(**{f"{field}__startswith": prefix})
        .order_by(f"-{field}")
        .values_list(field, flat=True)
        .first()
    )
    return f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:0{width}d}"
