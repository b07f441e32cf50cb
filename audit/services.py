"""Writing and verifying the audit chain. `record` is called by every service that writes."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction

from .models import AuditEvent

GENESIS = "0" * 64
# One advisory lock key serialises appends so that each event links to the true previous one.
_CHAIN_LOCK = 0x7469616E6A6965  # "tianjie"


def canonical_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """Data as it will read back from the JSON column (dates, decimals and UUIDs become strings)."""
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def event_hash(*, actor: str, action: str, subject: str, data: dict[str, Any], at: datetime, prev_hash: str) -> str:
    """SHA-256 over a canonical serialisation (sorted keys, no spaces, UTF-8) of the event and its link."""
    payload = json.dumps(
        {
            "actor": actor,
            "action": action,
            "subject": subject,
            "data": data,
            "time": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _subject_of(subject: models.Model | tuple[str, str]) -> tuple[str, str]:
    if isinstance(subject, tuple):
        return subject
    return subject._meta.label_lower, str(subject.pk)


def record(
    *,
    actor: Any,
    action: str,
    subject: models.Model | tuple[str, str],
    region_code: str = "",
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    subject_type, subject_id = _subject_of(subject)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    prev_hash = last or GENESIS
    at = datetime.now(UTC)
    clean = canonical_data(data)
    actor_pk = getattr(actor, "pk", None)
    actor_label = getattr(actor, "username", None) or (str(actor) if actor else "system")
    return AuditEvent.objects.create(
        at=at,
        actor_id=actor_pk,
        actor_label=actor_label,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        region_code=region_code,
        data=clean,
        ip=ip,
        prev_hash=prev_hash,
        hash=event_hash(
            actor=actor_label,
            action=action,
            subject=f"{subject_type}:{subject_id}",
            data=clean,
            at=at,
            prev_hash=prev_hash,
        ),
    )


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    reason: str


def _events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=5000)


@transaction.atomic
def chain_verify() -> tuple[int, BrokenLink | None]:
    """Walk the chain from the start; return the number of events checked and the first broken link."""
    prev = GENESIS
    checked = 0
    for event in _events():
        if event.prev_hash != prev:
            return checked, BrokenLink(event.id, "前一哈希不符 / previous-hash link broken")
        expected = event_hash(
            actor=event.actor_label,
            action=event.action,
            subject=f"{event.subject_type}:{event.subject_id}",
            data=event.data,
            at=event.at,
            prev_hash=event.prev_hash,
        )
        if expected != event.hash:
            return checked, BrokenLink(event.id, "内容被改动 / event content does not match its hash")
        prev = event.hash
        checked += 1
    return checked, None
