"""The audit log is append-only and hash-chained; tampering is found and named."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import services as audit
from audit.models import AuditEvent
from audit.services import GENESIS, chain_verify


def _record(n: int = 3) -> list[AuditEvent]:
    with transaction.atomic():
        return [
            audit.record(actor=None, action="test.event", subject=("test.thing", str(i)), data={"i": i, "名": "值"})
            for i in range(n)
        ]


@pytest.mark.django_db
def test_each_event_links_to_the_previous_one():
    events = _record(3)
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    first = AuditEvent.objects.order_by("id").first()
    assert first.prev_hash == GENESIS
    checked, broken = chain_verify()
    assert broken is None
    assert checked == AuditEvent.objects.count()


@pytest.mark.django_db
def test_database_refuses_update_delete_and_truncate():
    event = _record(1)[0]
    for sql in (
        "UPDATE audit_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [event.id])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.get(id=event.id).action == "test.event"


def _tamper(sql: str, params: list) -> None:
    """What an attacker with superuser rights could do: switch the trigger off, change a row."""
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_update_delete")
        cur.execute(sql, params)
        cur.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_no_update_delete")


@pytest.mark.django_db
def test_changed_content_is_detected_at_that_event(capsys):
    events = _record(3)
    _tamper("UPDATE audit_auditevent SET data = '{\"i\": 99}' WHERE id = %s", [events[1].id])
    checked, broken = chain_verify()
    assert broken is not None and broken.event_id == events[1].id
    assert checked == AuditEvent.objects.filter(id__lt=events[1].id).count()  # all before it are intact
    with pytest.raises(CommandError, match=str(events[1].id)):
        call_command("audit_verify")


@pytest.mark.django_db
def test_deleted_event_breaks_the_next_link():
    events = _record(3)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].id])
    _, broken = chain_verify()
    assert broken is not None and broken.event_id == events[2].id


@pytest.mark.django_db
def test_audit_verify_command_passes_on_an_intact_chain(capsys):
    _record(2)
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out
