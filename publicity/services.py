"""Editing the holiday table (county bureau): a day off or a make-up workday, and a year marked complete.

A county administrator edits the national table ("") and the tables of the regions their county lies in
(Guangxi "45", the county itself): what the county's periods are counted with. Each change is audited.
"""

from datetime import date
from typing import Any

from django.db import transaction

from audit import services as audit
from core.codes import county_of
from core.errors import DomainError
from core.ports import ensure

from .models import CalendarDay, CalendarYear


def _county_of(actor: Any) -> str:
    """The county the actor administers (the first office allowed to edit the calendar)."""
    from accounts.scoping import scope_prefixes

    if actor is None:
        return ""
    counties = sorted({county_of(p) for p in scope_prefixes(actor, "calendar.edit")})
    if not counties:
        ensure(actor, "calendar.edit", "000000")  # raises PermissionDeniedError with the usual message
    return counties[0]


def _check_prefix(actor: Any, region_prefix: str) -> str:
    prefix = region_prefix.strip()
    if prefix and (not prefix.isdigit() or len(prefix) not in (2, 4, 6)):
        raise DomainError(
            "区域前缀应为空（全国）或 2、4、6 位区划代码", "the region prefix is empty (national) or 2, 4 or 6 digits"
        )
    county = _county_of(actor)
    if actor is not None:
        ensure(actor, "calendar.edit", county)
        if not county.startswith(prefix):
            raise DomainError(
                f"只能编辑本县（{county}）所适用的节假日表", f"only the calendars that apply to county {county}"
            )
    return prefix


def _off_below(day: date, prefix: str) -> bool:
    """Whether `day` is off without a record for `prefix`: the plain week, then the broader tables."""
    rows = CalendarDay.objects.filter(date=day).values_list("region_prefix", "off")
    broader = sorted((r for r in rows if len(r[0]) < len(prefix) and prefix.startswith(r[0])), key=lambda r: len(r[0]))
    return broader[-1][1] if broader else day.weekday() >= 5


@transaction.atomic
def calendar_day_set(*, actor: Any, day: date, region_prefix: str, off: bool, name: str) -> CalendarDay:
    prefix = _check_prefix(actor, region_prefix)
    if not name.strip():
        raise DomainError("请填写节日名称", "give the day a name", field="name")
    if _off_below(day, prefix) == off:
        kind, kind_en = ("放假", "a day off") if off else ("上班", "a working day")
        raise DomainError(
            f"{day} 本来就{kind}，不必登记", f"{day} is already {kind_en}: nothing to record", field="date"
        )
    row, _ = CalendarDay.objects.update_or_create(
        date=day, region_prefix=prefix, defaults={"off": off, "name": name.strip()[:50]}
    )
    audit.record(
        actor=actor,
        action="calendar.day_set",
        subject=row,
        region_code=prefix,
        data={"date": day.isoformat(), "region_prefix": prefix, "off": off, "name": row.name},
    )
    return row


@transaction.atomic
def calendar_day_delete(*, actor: Any, day: date, region_prefix: str) -> None:
    prefix = _check_prefix(actor, region_prefix)
    row = CalendarDay.objects.filter(date=day, region_prefix=prefix).first()
    if row is None:
        raise DomainError(f"{day} 没有登记", f"nothing is recorded for {day}", code="not_found")
    audit.record(
        actor=actor,
        action="calendar.day_deleted",
        subject=row,
        region_code=prefix,
        data={"date": day.isoformat(), "region_prefix": prefix, "off": row.off, "name": row.name},
    )
    row.delete()


@transaction.atomic
def calendar_year_confirm(*, actor: Any, year: int, region_prefix: str, source: str) -> CalendarYear:
    """Mark a year's arrangement as complete (after its days are entered), citing the notice."""
    prefix = _check_prefix(actor, region_prefix)
    if not 2000 <= year <= 2100:
        raise DomainError("年份无效", "not a valid year", field="year")
    if not source.strip():
        raise DomainError("请填写依据的通知（名称或网址）", "cite the notice (title or address)", field="source")
    row, _ = CalendarYear.objects.update_or_create(
        year=year, region_prefix=prefix, defaults={"source": source.strip()[:300], "recorded_by": actor}
    )
    audit.record(
        actor=actor,
        action="calendar.year_confirmed",
        subject=row,
        region_code=prefix,
        data={"year": year, "region_prefix": prefix, "source": row.source},
    )
    return row
