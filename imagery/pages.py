"""The county's imagery page: the layers, an upload (ingest) form, a seeding form, and each job's progress."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from accounts.scoping import scope_prefixes
from core.codes import county_of
from core.errors import DomainError
from core.progress import job_status_response

from .jobs import imagery_job_ingest, imagery_job_seed
from .models import Imagery, ImageryJob


def _counties(request: HttpRequest) -> list[str]:
    return sorted({county_of(p) for p in scope_prefixes(request.user, "imagery.ingest") if len(p) == 6})


def _int(raw: str | None, field: str) -> int:
    if raw is None or not raw.strip().isdigit():
        raise DomainError(f"{field} 应为整数", f"{field} must be a whole number", field=field)
    return int(raw)


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError("日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD", field="date") from None


@login_required
def imagery_manage(request: HttpRequest) -> HttpResponse:
    counties = _counties(request)
    if not counties:
        return render(request, "imagery/forbidden.html", status=403)
    error, form = None, ""
    if request.method == "POST":
        form = request.POST.get("form", "")
        try:
            if form == "ingest":
                upload = request.FILES.get("file")
                if upload is None:
                    raise DomainError("请选择要上传的影像文件", "choose an image file to upload", field="file")
                job = imagery_job_ingest(
                    actor=request.user,
                    county_code=request.POST.get("county", counties[0]),
                    upload=upload,
                    name=request.POST.get("name", ""),
                    title=request.POST.get("title", ""),
                    acquired_on=_date(request.POST.get("date")),
                    public=request.POST.get("public") == "1",
                )
            else:
                job = imagery_job_seed(
                    actor=request.user,
                    layer=request.POST.get("layer", ""),
                    region_code=request.POST.get("region", "").strip(),
                    zoom_from=_int(request.POST.get("zoom_from"), "zoom_from"),
                    zoom_to=_int(request.POST.get("zoom_to"), "zoom_to"),
                    grid=request.POST.get("grid", "cgcs2000"),
                )
            return redirect("imagery-job", job_id=job.pk)
        except DomainError as exc:
            error = exc
    layers = Imagery.objects.filter(county__code__in=counties).select_related("county")
    jobs = ImageryJob.objects.filter(county_code__in=counties)[:20]
    return render(
        request,
        "imagery/manage.html",
        {"counties": counties, "layers": layers, "jobs": jobs, "error": error, "form": form},
    )


def _job(request: HttpRequest, job_id: str) -> ImageryJob:
    job = ImageryJob.objects.filter(pk=job_id, county_code__in=_counties(request)).first()
    if job is None:
        raise Http404("没有这个影像任务，或无权查看 / no such imagery job, or not yours to see")
    return job


@login_required
def imagery_job(request: HttpRequest, job_id: str) -> HttpResponse:
    return render(request, "imagery/job.html", {"job": _job(request, job_id)})


@login_required
def imagery_job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    return job_status_response(_job(request, job_id))
