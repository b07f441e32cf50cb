"""Pages for county administrators: upload a package, follow the import, read the quality report; the
queue of filings shared with the natural resources bureau."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from accounts.scoping import scope_prefixes
from core.codes import county_of
from core.errors import DomainError
from core.progress import job_status_response

from .models import ImportJob
from .services import import_job_create


def _counties(request: HttpRequest) -> list[str]:
    return sorted({county_of(p) for p in scope_prefixes(request.user, "packages.import") if len(p) == 6})


def _job(request: HttpRequest, job_id: str) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id, county_code__in=_counties(request)).first()
    if job is None:
        raise Http404("没有这个导入任务，或无权查看 / no such import job, or not yours to see")
    return job


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    counties = _counties(request)
    if not counties:
        return render(request, "exchange/forbidden.html", status=403)
    error = None
    if request.method == "POST":
        try:
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError("请选择要上传的数据包", "choose a package to upload", code="missing_file")
            job = import_job_create(
                actor=request.user,
                county_code=request.POST.get("county", counties[0]),
                upload=upload,
                dry_run=request.POST.get("dry_run") == "1",
            )
            return redirect("exchange-job", job_id=job.pk)
        except DomainError as exc:
            error = exc
    jobs = ImportJob.objects.filter(county_code__in=counties)[:20]
    return render(request, "exchange/upload.html", {"counties": counties, "jobs": jobs, "error": error})


@login_required
def import_job(request: HttpRequest, job_id: str) -> HttpResponse:
    return render(request, "exchange/job.html", {"job": _job(request, job_id)})


@login_required
def import_job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    return job_status_response(_job(request, job_id))
