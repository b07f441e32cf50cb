"""The county bureau's calendar page: the years in the table, the days of a year, and the forms to edit
them; everybody logged in can use the period calculator."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render

from accounts.scoping import scope_prefixes
from core.codes import county_of
from core.errors import DomainError

from . import services
from .calendar import add_working_days
from .models import CalendarDay, CalendarYear


def _date(raw: str | None, field: str = "date") -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        raise DomainError("日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD", field=field) from None


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    counties = sorted({county_of(p) for p in scope_prefixes(request.user, "calendar.edit")})
    county = counties[0] if counties else ""
    own = sorted({county_of(p) for p in scope_prefixes(request.user)})
    region = own[0] if own else ""
    prefixes = ["", county[:2], county] if county else []
    error, result = None, None
    try:
        year = int(request.GET.get("year") or date.today().year)
        date(year, 1, 1)
    except ValueError:  # ?year=x or a year no calendar has: the request is wrong, not the server
        return HttpResponseBadRequest(
            "年份应为整数，如 2026 / the year must be a whole number, e.g. 2026",
            content_type="text/plain; charset=utf-8",
        )
    if request.method == "POST":
        form = request.POST.get("form", "")
        try:
            if form == "calc":
                posted = _date(request.POST.get("posted"), "posted")
                n = int(request.POST.get("days") or 10)
                result = (posted, n, add_working_days(posted, n, region))
            elif not county:
                raise DomainError("只有县农业农村局可以编辑节假日表", "only the county bureau edits the calendar")
            elif form == "day":
                services.calendar_day_set(
                    actor=request.user,
                    day=_date(request.POST.get("date")),
                    region_prefix=request.POST.get("region_prefix", ""),
                    off=request.POST.get("off") == "1",
                    name=request.POST.get("name", ""),
                )
                return redirect(f"{request.path}?year={_date(request.POST.get('date')).year}")
            elif form == "delete":
                services.calendar_day_delete(
                    actor=request.user,
                    day=_date(request.POST.get("date")),
                    region_prefix=request.POST.get("region_prefix", ""),
                )
                return redirect(f"{request.path}?year={year}")
            elif form == "year":
                services.calendar_year_confirm(
                    actor=request.user,
                    year=int(request.POST.get("year") or 0),
                    region_prefix=request.POST.get("region_prefix", ""),
                    source=request.POST.get("source", ""),
                )
                return redirect(f"{request.path}?year={year}")
        except (DomainError, ValueError) as exc:
            error = exc if isinstance(exc, DomainError) else DomainError("请输入整数", "enter a whole number")
    applies = [p for p in {y.region_prefix for y in CalendarYear.objects.all()} | {""} if region.startswith(p)]
    return render(
        request,
        "publicity/calendar.html",
        {
            "years": CalendarYear.objects.filter(region_prefix__in=applies).select_related("recorded_by"),
            "days": CalendarDay.objects.filter(date__year=year, region_prefix__in=applies),
            "year": year,
            "year_options": range(2022, date.today().year + 2),
            "can_edit": bool(county),
            "prefixes": prefixes,
            "region": region,
            "error": error,
            "result": result,
        },
    )
