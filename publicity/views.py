"""Notice pages: the list a user's collectives can see, a new notice, a notice with its map, objections and
the owner's actions, the printable PDF, and the in-app notifications."""

import re
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from accounts.scoping import active_offices, can, scope_prefixes
from core.errors import DomainError
from core.ports import imagery_layers

from . import notices as svc
from .models import NoticeKind, NoticeStatus, Objection, ObjectionStatus
from .printing import notice_pdf
from .selectors import (
    notice_for,
    notice_parcel_rows,
    notice_parcels_geojson,
    notice_subject_rows,
    notices_visible,
    running_notice_parcels_geojson,
)


def _codes(raw: str | None) -> list[str]:
    return [c for c in re.split(r"[\s,，;；]+", raw or "") if c]


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    rows = notices_visible(request.user).order_by("-created_at")[:200]
    return render(
        request,
        "publicity/list.html",
        {"notices": rows, "can_post": bool(scope_prefixes(request.user, "notices.post"))},
    )


@login_required
def notice_new(request: HttpRequest) -> HttpResponse:
    owners = [o.region for o in active_offices(request.user) if can(request.user, "notices.post", o.scope_code)]
    if not owners:
        return render(request, "publicity/forbidden.html", status=403)
    error = None
    if request.method == "POST":
        try:
            days_raw = (request.POST.get("working_days") or "").strip()
            notice = svc.notice_create(
                actor=request.user,
                kind=request.POST.get("kind", ""),
                owner_code=request.POST.get("owner_code", ""),
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                parcels=_codes(request.POST.get("parcels")),
                households=_codes(request.POST.get("households")),
                contracts=_codes(request.POST.get("contracts")),
                working_days=int(days_raw) if days_raw.isdigit() else None,
            )
            return redirect("notice", pk=notice.pk)
        except DomainError as exc:
            error = exc
    return render(
        request,
        "publicity/new.html",
        {
            "owners": owners,
            "kinds": NoticeKind.choices,
            "error": error,
            "form": request.POST,
        },
    )


def _actions(request: HttpRequest, notice: svc.Notice) -> None:
    action = request.POST.get("action", "")
    if action == "post":
        posted = (request.POST.get("posted_on") or "").strip()
        svc.notice_post(actor=request.user, notice=notice, posted_on=date.fromisoformat(posted) if posted else None)
    elif action == "complete":
        svc.notice_complete(actor=request.user, notice=notice)
    elif action == "object":
        svc.objection_file(
            actor=request.user, notice=notice, reason=request.POST.get("reason", ""), photo=request.FILES.get("photo")
        )
    elif action == "answer":
        objection = Objection.objects.filter(pk=request.POST.get("objection") or 0, notice=notice).first()
        if objection is None:
            raise DomainError("没有这条异议", "no such objection", code="not_found")
        svc.objection_answer(actor=request.user, objection=objection, answer=request.POST.get("answer", ""))
    else:
        raise DomainError("未知操作", "unknown action")


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notice = notice_for(request.user, pk)
    except DomainError as exc:
        return render(request, "publicity/missing.html", {"error": exc}, status=404)
    error = None
    if request.method == "POST":
        try:
            _actions(request, notice)
            return redirect("notice", pk=notice.pk)
        except (DomainError, ValueError) as exc:
            error = exc if isinstance(exc, DomainError) else DomainError("日期格式应为 YYYY-MM-DD", "use YYYY-MM-DD")
            notice.refresh_from_db()
    is_owner = can(request.user, "notices.post", notice.owner_code)
    running = (
        notice.status in (NoticeStatus.POSTED, NoticeStatus.OBJECTED)
        and notice.ends_on is not None
        and date.today() <= notice.ends_on
    )
    return render(
        request,
        "publicity/detail.html",
        {
            "notice": notice,
            "error": error,
            "is_owner": is_owner,
            "may_object": running and svc.audience_collective(request.user, notice) is not None,
            "parcels": notice_parcel_rows(notice),
            "households": notice_subject_rows(notice, "households"),
            "contracts": notice_subject_rows(notice, "contracts"),
            "audience": notice.audience.all(),
            "objections": notice.objections.select_related("filed_by", "answered_by"),
            "open_status": ObjectionStatus.OPEN,
            "map_config": {
                "geojson": f"/notices/{notice.pk}/parcels.geojson",
                "imagery": imagery_layers(request.user),
            },
        },
    )


@require_safe
@login_required
def notice_geojson(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notice = notice_for(request.user, pk)
    except DomainError:
        return HttpResponse(
            '{"type": "FeatureCollection", "features": []}', status=404, content_type="application/geo+json"
        )
    return HttpResponse(notice_parcels_geojson(notice), content_type="application/geo+json")


@require_safe
@login_required
def running_geojson(request: HttpRequest) -> HttpResponse:
    """/notices/running.geojson: the parcels on notice for the user's collectives, for the main map."""
    return HttpResponse(running_notice_parcels_geojson(request.user), content_type="application/geo+json")


@require_safe
@login_required
def notice_print(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notice = notice_for(request.user, pk)
    except DomainError as exc:
        return render(request, "publicity/missing.html", {"error": exc}, status=404)
    if notice.status == NoticeStatus.DRAFT or notice.posted_on is None:
        return render(
            request,
            "publicity/missing.html",
            {"error": DomainError("草稿发布后才能打印", "a draft is printed once it is posted")},
            status=409,
        )
    size = request.GET.get("size", "A4").upper()
    pdf = notice_pdf(notice, url=request.build_absolute_uri(f"/notices/{notice.pk}/"), size=size)
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{notice.code}-{size}.pdf"'
    return resp


@require_safe
@login_required
def objection_photo(request: HttpRequest, pk: int, objection_id: int) -> HttpResponseBase:
    """An objection's photo, for those who may see the notice."""
    from pathlib import Path

    from django.http import FileResponse, Http404

    try:
        notice = notice_for(request.user, pk)
    except DomainError:
        raise Http404("没有这张照片 / no such photo") from None
    objection = Objection.objects.filter(pk=objection_id, notice=notice).exclude(photo="").first()
    if objection is None or not Path(objection.photo).is_file():
        raise Http404("没有这张照片 / no such photo")
    kind = "image/png" if objection.photo.endswith(".png") else "image/jpeg"
    return FileResponse(open(objection.photo, "rb"), content_type=kind)
