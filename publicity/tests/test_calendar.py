"""Working days against the State Council notices and Guangxi's 壮族三月三, written out here by hand from
the notices' text (not read from the shipped table), and the county bureau editing the table."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from publicity.calendar import CalendarNotCoveredError, add_working_days, is_working_day, working_days_between
from publicity.models import CalendarYear

BEIJING, YONGFU = "110101", "450326"


def _days(first: str, last: str) -> list[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# (days off, make-up workdays) for Spring Festival and National Day, from the State Council notices.
STATE_COUNCIL = {
    2023: (
        _days("2023-01-21", "2023-01-27") + _days("2023-09-29", "2023-10-06"),
        ["2023-01-28", "2023-01-29", "2023-10-07", "2023-10-08"],
    ),
    2024: (
        _days("2024-02-10", "2024-02-17") + _days("2024-10-01", "2024-10-07"),
        ["2024-02-04", "2024-02-18", "2024-09-29", "2024-10-12"],
    ),
    2025: (
        _days("2025-01-28", "2025-02-04") + _days("2025-10-01", "2025-10-08"),
        ["2025-01-26", "2025-02-08", "2025-09-28", "2025-10-11"],
    ),
    2026: (
        _days("2026-02-15", "2026-02-23") + _days("2026-10-01", "2026-10-07"),
        ["2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"],
    ),
}


def _table(page: str, table_id: str) -> str:
    start = page.index(f'id="{table_id}"')
    return page[start : page.index("</table>", start)]


@pytest.mark.parametrize("year", sorted(STATE_COUNCIL))
def test_spring_festival_national_day_and_make_up_days(db, year):
    off, work = STATE_COUNCIL[year]
    for day in off:
        assert not is_working_day(day, BEIJING), day
    for raw in work:
        day = date.fromisoformat(raw)
        assert day.weekday() >= 5 and is_working_day(day, BEIJING), day  # a weekend day at work


def test_new_years_eve_2024_was_a_working_day(db):
    assert is_working_day(date(2024, 2, 9), BEIJING)  # 除夕 2024: only "encouraged" off, not a holiday


def test_a_ten_day_contract_notice_over_national_day(db):
    # Posted Friday 2025-09-26; counting from Saturday: 28 (Sunday, make-up), 29, 30, then 9, 10,
    # 11 (Saturday, make-up), 13, 14, 15, 16 October.
    assert add_working_days(date(2025, 9, 26), 10, YONGFU) == date(2025, 10, 16)
    assert working_days_between(date(2025, 9, 27), date(2025, 10, 16), YONGFU) == 10


def test_sanyuesan_counts_in_guangxi_only(db):
    # 2024: 11–12 April off in Guangxi ("4月11日至12日放假，与周末连休").
    assert add_working_days(date(2024, 4, 8), 5, YONGFU) == date(2024, 4, 17)
    assert add_working_days(date(2024, 4, 8), 5, BEIJING) == date(2024, 4, 15)
    # 2023: 21–23 April off in Guangxi; the 23rd (a Sunday) was a national make-up workday.
    assert is_working_day(date(2023, 4, 23), BEIJING) and not is_working_day(date(2023, 4, 23), YONGFU)
    assert not is_working_day(date(2023, 4, 21), YONGFU) and is_working_day(date(2023, 4, 21), BEIJING)
    # 2022: 2 April (Saturday) a national make-up workday, off in Guangxi; 6 April off too.
    assert is_working_day(date(2022, 4, 2), BEIJING) and not is_working_day(date(2022, 4, 2), YONGFU)
    assert not is_working_day(date(2022, 4, 6), YONGFU)
    # 2025: 31 March – 1 April.
    assert not is_working_day(date(2025, 3, 31), YONGFU) and not is_working_day(date(2025, 4, 1), YONGFU)


def test_a_year_not_in_the_table_is_an_error_not_a_guess(db):
    assert add_working_days(date(2026, 11, 30), 10, BEIJING) == date(2026, 12, 14)
    with pytest.raises(CalendarNotCoveredError, match="2026"):  # Guangxi's 2026 notice is not in the table
        add_working_days(date(2026, 11, 30), 10, YONGFU)
    with pytest.raises(CalendarNotCoveredError, match="2027"):  # the State Council's 2027 notice neither
        add_working_days(date(2026, 12, 20), 10, BEIJING)


def test_the_command_prints_the_last_day(db):
    out = StringIO()
    call_command("working_days", "--from", "2025-09-26", "--days", "10", "--region", YONGFU, stdout=out)
    assert out.getvalue().strip() == "2025-10-16"
    with pytest.raises(CommandError, match="2026"):
        call_command("working_days", "--from", "2026-11-30", "--days", "10", "--region", YONGFU, stdout=StringIO())


def test_the_county_bureau_enters_guangxis_2026_and_periods_follow(demo, login):
    client = login("county")
    days_set = AuditEvent.objects.filter(action="calendar.day_set").count()
    page = client.get("/manage/calendar/?year=2026").content.decode()
    assert "壮族三月三" not in _table(page, "days") and "国务院" in page and 'id="day-form"' in page
    for day in ("2026-04-20", "2026-04-21"):
        resp = client.post(
            "/manage/calendar/", {"form": "day", "date": day, "off": "1", "name": "壮族三月三", "region_prefix": "45"}
        )
        assert resp.status_code == 302
    resp = client.post(
        "/manage/calendar/",
        {"form": "year", "year": "2026", "region_prefix": "45", "source": "桂政办 2026 年壮族三月三放假通知"},
    )
    assert resp.status_code == 302
    assert add_working_days(date(2026, 4, 17), 2, YONGFU) == date(2026, 4, 23)  # 20th and 21st off: 22, 23
    assert add_working_days(date(2026, 11, 30), 10, YONGFU) == date(2026, 12, 14)
    assert AuditEvent.objects.filter(action="calendar.year_confirmed").exists()
    assert AuditEvent.objects.filter(action="calendar.day_set").count() == days_set + 2
    page = client.get("/manage/calendar/?year=2026").content.decode()
    assert "壮族三月三" in _table(page, "days") and "桂政办" in _table(page, "years")
    resp = client.post("/manage/calendar/", {"form": "calc", "posted": "2026-11-30", "days": "10"})
    assert "2026-12-14" in resp.content.decode()


def test_only_the_county_bureau_edits_and_mistakes_are_explained(demo, login):
    township = login("township")
    page = township.get("/manage/calendar/").content.decode()
    assert 'id="day-form"' not in page and 'id="calc-form"' in page  # everyone may compute a period
    resp = township.post(
        "/manage/calendar/", {"form": "day", "date": "2026-04-20", "off": "1", "name": "x", "region_prefix": "45"}
    )
    assert "只有县农业农村局" in resp.content.decode()
    county = login("county")
    for data, message in (
        ({"form": "day", "date": "2026-04-22", "off": "0", "name": "x", "region_prefix": ""}, "不必登记"),
        ({"form": "day", "date": "2026-04-22", "off": "1", "name": "x", "region_prefix": "44"}, "只能编辑本县"),
        ({"form": "year", "year": "2027", "region_prefix": "", "source": ""}, "请填写依据"),
        ({"form": "day", "date": "2026-13-01", "off": "1", "name": "x", "region_prefix": ""}, "日期格式"),
    ):
        resp = county.post("/manage/calendar/", data)
        assert resp.status_code == 200 and message in resp.content.decode(), data
    # a regional day off on a national make-up Sunday is a real difference, and allowed
    resp = county.post(
        "/manage/calendar/", {"form": "day", "date": "2026-09-20", "off": "1", "name": "试", "region_prefix": "45"}
    )
    assert resp.status_code == 302
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_year_that_is_not_a_number_is_a_bad_request_not_a_server_error(demo, login):
    client = login("county")
    for year in ("x", "99999", "2026.5"):
        resp = client.get(f"/manage/calendar/?year={year}")
        assert resp.status_code == 400 and "年份" in resp.content.decode(), year
    assert client.get("/manage/calendar/?year=2026").status_code == 200
