"""Working days: the plain week (Monday–Friday) corrected by the holiday table (publicity.models).

A period "of N working days from posting" counts from the day after posting: its last day is the N-th
working day after the posting date (DOMAIN.md, "Publicity and working days"). For a region the national
table applies, overridden by the tables of every region prefix it lies in (Guangxi "45": 壮族三月三).
A date in a year that one of those tables does not cover raises CalendarNotCoveredError: the table is
extended by an administrator, never guessed.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import DomainError

from .models import CalendarDay, CalendarYear

MAX_DAYS = 366  # a period longer than a year is a mistake, not a publicity period


class CalendarNotCoveredError(DomainError):
    default_code = "calendar_not_covered"


@dataclass(frozen=True)
class _Table:
    """The calendars that apply to one region, loaded once per computation."""

    prefixes: tuple[str, ...]  # "" and the region prefixes with a table, shortest first
    covered: frozenset[tuple[int, str]]
    days: dict[date, bool]  # date → off, the longest prefix winning


def _table(region_code: str, first: date, last: date) -> _Table:
    with_tables = set(CalendarYear.objects.values_list("region_prefix", flat=True).distinct())
    prefixes = tuple(sorted((p for p in with_tables | {""} if region_code.startswith(p)), key=len))
    covered = frozenset(
        CalendarYear.objects.filter(region_prefix__in=prefixes, year__gte=first.year, year__lte=last.year).values_list(
            "year", "region_prefix"
        )
    )
    days: dict[date, bool] = {}
    rows = CalendarDay.objects.filter(region_prefix__in=prefixes, date__gte=first, date__lte=last)
    for day, _prefix, off in sorted(rows.values_list("date", "region_prefix", "off"), key=lambda r: len(r[1])):
        days[day] = off  # later (longer) prefixes override
    return _Table(prefixes, covered, days)


def _check(table: _Table, day: date) -> None:
    for prefix in table.prefixes:
        if (day.year, prefix) not in table.covered:
            where = "全国" if not prefix else f"区域 {prefix}"
            where_en = "the national calendar" if not prefix else f"the calendar of region {prefix}"
            raise CalendarNotCoveredError(
                f"节假日表还没有{where} {day.year} 年的安排，无法计算工作日；请县管理员在“节假日”页面录入",
                f"{where_en} has no arrangement for {day.year} yet, so working days cannot be counted; "
                "a county administrator adds it on the calendar page",
            )


def _working(table: _Table, day: date) -> bool:
    _check(table, day)
    off = table.days.get(day)
    if off is None:
        return day.weekday() < 5
    return not off


def is_working_day(day: date, region_code: str = "") -> bool:
    return _working(_table(region_code, day, day), day)


def add_working_days(posted: date, days: int, region_code: str = "") -> date:
    """The last day of a period of `days` working days counted from the day after `posted`."""
    if not 1 <= days <= MAX_DAYS:
        raise DomainError(f"工作日数应在 1–{MAX_DAYS} 之间", f"the number of working days must be 1–{MAX_DAYS}")
    # A window that weekends and the longest holidays (9 days) do not exhaust; widened if ever they do.
    last = posted + timedelta(days=days * 2 + 30)
    table = _table(region_code, posted, last)
    day, counted = posted, 0
    while counted < days:
        day += timedelta(days=1)
        if day > last:
            last += timedelta(days=days + 30)
            table = _table(region_code, posted, last)
        if _working(table, day):
            counted += 1
    return day


def working_days_between(first: date, last: date, region_code: str = "") -> int:
    """Working days in first..last, both included."""
    if last < first:
        return 0
    table = _table(region_code, first, last)
    return sum(_working(table, first + timedelta(days=i)) for i in range((last - first).days + 1))
