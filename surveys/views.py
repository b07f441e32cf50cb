"""Survey pages: the task list (the county assigns; a surveyor sees their own), a task with its parcels,
the surveyor's upload form and each upload's check on a map of old and new boundaries."""

import json
import uuid
from datetime import date
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.identity import otp_issue
from accounts.models import Office, Role, User
from accounts.scoping import can, scope_prefixes
from accounts.selectors import household_codes
from core.codes import county_of
from core.errors import DomainError
from core.ports import imagery_layers
from core.progress import job_status_response
from spatial.models import Parcel
from spatial.services import measure_srid_for

from .formats import GEOGRAPHIC, GK3_CM, GK3_ZONE, srid_label
from .models import LineConfirmation, ProposedLine, SurveyTask, SurveyUpload
from .selectors import tasks_visible
from .services import (
    boundary_confirm,
    boundary_confirm_collective,
    boundary_confirm_for,
    confirm_purpose,
    survey_publicise,
    survey_submit,
    survey_task_create,
    survey_upload_create,
)

STATUS_STYLE = {
    "ok": {"color": "#2e7d32", "fillColor": "#a5d6a7"},
    "warning": {"color": "#ef6c00", "fillColor": "#ffcc80"},
    "error": {"color": "#c62828", "fillColor": "#ef9a9a"},
}


# the differences from the registry, and the file's reference features
OVERLAY_STYLE = {
    "added": {"color": "#c62828", "fillColor": "#e53935"},
    "removed": {"color": "#1565c0", "fillColor": "#90caf9", "dashArray": "2 3"},
    "line": {"color": "#6a1b9a", "weight": 2},
    "point": {"color": "#212121", "fillColor": "#ffffff", "fillOpacity": 1},
    "text": {"color": "#9e9e9e"},
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _task(request: HttpRequest, code: str) -> SurveyTask:
    task = tasks_visible(_user(request)).filter(code=code).select_related("assignee").first()
    if task is None:
        raise Http404("没有这个测绘任务，或无权查看 / no such survey task, or not yours to see")
    return task


def _srid_choices(county: str) -> list[tuple[int, str]]:
    """The CRSs a surveyor picks from: the county's plane first (by CM, and with the zone number), then
    CGCS2000 geographic, then every other 3° zone."""
    try:
        plane = measure_srid_for(county)
    except DomainError:
        plane = 0
    first = [plane, plane - 4534 + 4513] if plane in GK3_CM.values() else []  # by CM, then with the zone number
    rest = [GEOGRAPHIC, *GK3_CM.values(), *GK3_ZONE.values()]
    return [(s, srid_label(s)) for s in dict.fromkeys(x for x in first + rest if x)]


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """/surveys/: the tasks the user may see, overdue first; the county assigns new ones here."""
    user = _user(request)
    if not scope_prefixes(user, "surveys.view"):
        return render(request, "surveys/forbidden.html", status=403)
    counties = sorted({county_of(p) for p in scope_prefixes(user, "surveys.assign")})
    error = None
    if request.method == "POST" and counties:
        try:
            due = date.fromisoformat(request.POST.get("due_on") or "")
        except ValueError:
            due = None
        try:
            if due is None:
                raise DomainError("请填写完成期限", "give the due date", field="due_on")
            assignee = User.objects.filter(pk=request.POST.get("assignee") or 0).first()
            if assignee is None:
                raise DomainError("请选择测绘人员", "choose the surveyor", field="assignee")
            task = survey_task_create(
                actor=user,
                dkbms=(request.POST.get("dkbms") or "").replace("，", ",").replace(",", " ").split(),
                reason=request.POST.get("reason", ""),
                company=request.POST.get("company", ""),
                assignee=assignee,
                due_on=due,
            )
            return redirect("survey-task", code=task.code)
        except DomainError as exc:
            error = exc
    today = timezone.localdate()
    rows = [
        {"task": t, "overdue": t.due_on < today and t.status not in ("accepted", "cancelled")}
        for t in tasks_visible(user).select_related("assignee").order_by("due_on")[:300]
    ]
    rows.sort(key=lambda r: (not r["overdue"], r["task"].due_on))
    surveyors = (
        [o.user for o in Office.objects.filter(role=Role.SURVEYOR, active=True, region__code__in=counties)]
        if counties
        else []
    )
    return render(
        request,
        "surveys/list.html",
        {
            "rows": rows,
            "can_assign": bool(counties),
            "surveyors": surveyors,
            "error": error,
            "post": request.POST,
            "map_config": {"geojson": "/surveys/tasks.geojson", "imagery": imagery_layers(user)},
        },
    )


@login_required
def task_page(request: HttpRequest, code: str) -> HttpResponse:
    """/surveys/<code>/: the task's parcels; the surveyor uploads a result here; the latest check is shown
    on the map (registry boundaries in blue, the proposed ones coloured by their check)."""
    task = _task(request, code)
    user = _user(request)
    error = None
    if request.method == "POST" and request.POST.get("action") == "publicise":
        try:
            survey_publicise(actor=user, task=task)
            return redirect("survey-task", code=task.code)
        except DomainError as exc:
            error = exc
    elif request.method == "POST" and request.POST.get("action") == "submit":
        try:
            try:
                chosen = task.uploads.filter(pk=uuid.UUID(request.POST.get("upload") or "")).first()
            except ValueError:
                chosen = None
            if chosen is None:
                raise DomainError("没有这次上传", "no such upload", code="not_found")
            survey_submit(actor=user, upload=chosen)
            return redirect("survey-task", code=task.code)
        except DomainError as exc:
            error = exc
    elif request.method == "POST":
        try:
            srid = int(request.POST["srid"]) if request.POST.get("srid") else None
            job = survey_upload_create(actor=user, task=task, upload=request.FILES.get("file"), srid=srid)
            return redirect("survey-upload", upload_id=job.pk)
        except ValueError:
            error = DomainError("坐标系无效", "not a CRS", field="srid")
        except DomainError as exc:
            error = exc
    uploads = list(task.uploads.order_by("-created_at")[:20])
    latest = next((u for u in uploads if u.status == SurveyUpload.Status.DONE), None)
    layers: list[dict[str, Any]] = [
        {
            "url": f"/surveys/{task.code}/registry.geojson",
            "style": {"color": "#1565c0", "weight": 2, "fillOpacity": 0.1},
        }
    ]
    if latest:
        layers.append(
            {
                "url": f"/surveys/uploads/{latest.pk}/proposed.geojson",
                "style": {"weight": 3, "fillOpacity": 0.35, "dashArray": "6 4"},
                "byStatus": STATUS_STYLE,
            }
        )
        layers.append(
            {
                "url": f"/surveys/uploads/{latest.pk}/overlay.geojson",
                "style": {"weight": 1, "color": "#616161", "fillOpacity": 0.6},
                "byStatus": OVERLAY_STYLE,
                "label": False,
            }
        )
    return render(
        request,
        "surveys/task.html",
        {
            "task": task,
            "uploads": uploads,
            "latest": latest,
            "proposed": list(latest.parcels.order_by("index")) if latest else [],
            "can_upload": user.pk == task.assignee_id,
            "can_publicise": task.status == SurveyTask.Status.CONFIRMED and can(user, "notices.post", task.region_code),
            "can_submit": bool(
                latest
                and user.pk == task.assignee_id
                and task.status in (SurveyTask.Status.UPLOADED, SurveyTask.Status.DISPUTED)
                and latest.report.get("summary", {}).get("parcels")
                and not latest.report.get("summary", {}).get("errors")
            ),
            "srid_choices": _srid_choices(task.county_code),
            "error": error,
            "map_config": {"layers": layers, "imagery": imagery_layers(user)},
        },
    )


def _upload(request: HttpRequest, upload_id: str) -> SurveyUpload:
    upload = (
        SurveyUpload.objects.filter(pk=upload_id, task__in=tasks_visible(_user(request))).select_related("task").first()
    )
    if upload is None:
        raise Http404("没有这次上传 / no such upload")
    return upload


@login_required
def upload_page(request: HttpRequest, upload_id: str) -> HttpResponse:
    upload = _upload(request, upload_id)
    if upload.finished_at and upload.status == SurveyUpload.Status.DONE:
        return redirect("survey-task", code=upload.task.code)
    return render(request, "surveys/upload.html", {"job": upload, "task": upload.task})


@require_safe
@login_required
def upload_status(request: HttpRequest, upload_id: str) -> HttpResponse:
    return job_status_response(_upload(request, upload_id))


def _collection(features: list[dict[str, Any]]) -> JsonResponse:
    return JsonResponse({"type": "FeatureCollection", "features": features}, json_dumps_params={"ensure_ascii": False})


@require_safe
@login_required
def registry_geojson(request: HttpRequest, code: str) -> HttpResponse:
    task = _task(request, code)
    rows = Parcel.objects.filter(dkbm__in=task.dkbms, valid_to__isnull=True).annotate(
        gj=AsGeoJSON("geom", precision=8, crs=False)
    )
    return _collection(
        [
            {
                "type": "Feature",
                "id": p.dkbm,
                "geometry": json.loads(p.gj),
                "properties": {"dkbm": p.dkbm, "dkmc": p.dkmc, "scmj": float(p.scmj), "label": f"原 {p.dkbm[-5:]}"},
            }
            for p in rows
        ]
    )


@require_safe
@login_required
def proposed_geojson(request: HttpRequest, upload_id: str) -> HttpResponse:
    upload = _upload(request, upload_id)
    rows = upload.parcels.annotate(gj=AsGeoJSON("geom", precision=8, crs=False)).order_by("index")
    return _collection(
        [
            {
                "type": "Feature",
                "id": p.index + 1,
                "geometry": json.loads(p.gj),
                "properties": {
                    "index": p.index + 1,
                    "dkbm": p.dkbm,
                    "status": p.status,
                    "area_m2": float(p.area_m2),
                    "label": f"新 {p.index + 1}" + (f" → {p.dkbm[-5:]}" if p.dkbm else ""),
                },
            }
            for p in rows
        ]
    )


def _confirmation_task(request: HttpRequest, code: str) -> tuple[SurveyTask, list[str], bool]:
    """The task, the households the user answers for on it, and whether they may answer for others (the
    village officer). A farmer reaches it only when one of their households is a party."""
    user = _user(request)
    task = SurveyTask.objects.filter(code=code).select_related("submitted").first()
    if task is None or task.submitted is None:
        raise Http404("没有这个指界任务 / no such boundary confirmation")
    rows = LineConfirmation.objects.filter(line__upload=task.submitted)
    mine = sorted(set(rows.filter(cbfbm__in=household_codes(user)).values_list("cbfbm", flat=True)))
    proxy = bool(scope_prefixes(user, "boundaries.proxy")) and any(
        can(user, "boundaries.proxy", c) for c in rows.values_list("cbfbm", flat=True).distinct()
    )
    if not mine and not proxy:
        raise Http404("没有这个指界任务 / no such boundary confirmation")
    return task, mine, proxy


def _decisions(post: Any, line_ids: list[int]) -> dict[int, tuple[str, str]]:
    out = {}
    for line_id in line_ids:
        decision = post.get(f"line-{line_id}")
        if decision:
            out[line_id] = (decision, post.get(f"comment-{line_id}", ""))
    return out


@login_required
def confirm_page(request: HttpRequest, code: str) -> HttpResponse:
    """/surveys/<code>/confirm/: a household confirms or disputes each boundary line of theirs on a phone,
    with a one-time code; the village officer may answer for a household with a reason and the signed form."""
    task, mine, proxy = _confirmation_task(request, code)
    user = _user(request)
    error, sent = None, False
    pending = LineConfirmation.objects.filter(
        line__upload=task.submitted, decision=LineConfirmation.Decision.PENDING
    ).select_related("line")
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "code":
                otp_issue(user=user, purpose=confirm_purpose(task))
                sent = True
            elif action == "collective":
                fbfbm = request.POST.get("fbfbm", "")
                ids = [c.line_id for c in pending.filter(cbfbm=fbfbm, party=LineConfirmation.Party.COLLECTIVE)]
                boundary_confirm_collective(actor=user, task=task, fbfbm=fbfbm, decisions=_decisions(request.POST, ids))
                return redirect("survey-confirm", code=task.code)
            elif action == "proxy":
                household = request.POST.get("cbfbm", "")
                ids = [c.line_id for c in pending.filter(cbfbm=household)]
                boundary_confirm_for(
                    actor=user,
                    task=task,
                    cbfbm=household,
                    decisions=_decisions(request.POST, ids),
                    reason=request.POST.get("reason", ""),
                    signed_form=request.FILES.get("signed_form"),
                )
                return redirect("survey-confirm", code=task.code)
            else:
                ids = [c.line_id for c in pending.filter(cbfbm__in=mine)]
                boundary_confirm(
                    actor=user, task=task, decisions=_decisions(request.POST, ids), code=request.POST.get("code", "")
                )
                return redirect("survey-confirm", code=task.code)
        except DomainError as exc:
            error = exc
        task.refresh_from_db()
    all_rows = LineConfirmation.objects.filter(line__upload=task.submitted).select_related("line__start", "line__end")
    layers = [
        {"url": f"/surveys/{task.code}/lines.geojson", "style": {"weight": 5}, "byStatus": LINE_STYLE},
    ]
    return render(
        request,
        "surveys/confirm.html",
        {
            "task": task,
            "mine": [c for c in all_rows if c.cbfbm in mine],
            "others": [c for c in all_rows if c.cbfbm not in mine] if proxy else [],
            "proxy_households": sorted(
                {c.cbfbm for c in pending if c.cbfbm not in mine and c.party != LineConfirmation.Party.COLLECTIVE}
            )
            if proxy
            else [],
            "collective_codes": sorted(
                {
                    c.cbfbm
                    for c in pending
                    if c.party == LineConfirmation.Party.COLLECTIVE and can(user, "boundaries.proxy", c.cbfbm)
                }
            ),
            "my_pending": any(c.decision == "pending" for c in all_rows if c.cbfbm in mine),
            "error": error,
            "sent": sent,
            "map_config": {"layers": layers, "imagery": imagery_layers(user)},
        },
    )


LINE_STYLE = {
    "600001": {"color": "#2e7d32"},
    "600002": {"color": "#ef6c00"},
    "600003": {"color": "#c62828"},
}


@require_safe
@login_required
def lines_geojson(request: HttpRequest, code: str) -> HttpResponse:
    """The submitted result's boundary lines (with their numbers and state) for the confirmation map."""
    task, _mine, _proxy = _confirmation_task(request, code)
    rows = ProposedLine.objects.filter(upload=task.submitted).select_related("start", "end")
    rows = rows.annotate(gj=AsGeoJSON("geom", precision=8, crs=False))
    return _collection(
        [
            {
                "type": "Feature",
                "id": ln.jzxh,
                "geometry": json.loads(ln.gj),
                "properties": {
                    "jzxh": ln.jzxh,
                    "status": ln.jxxz,
                    "label": f"{ln.jzxh} {ln.start.jzdh}–{ln.end.jzdh}",
                    "neighbour": ln.pldwqlr,
                },
            }
            for ln in rows
        ]
    )


@require_safe
@login_required
def tasks_geojson(request: HttpRequest) -> HttpResponse:
    """The parcels of the user's open tasks, each labelled with its task, for the workspace map."""
    tasks = {
        d: t for t in tasks_visible(_user(request)).exclude(status__in=["accepted", "cancelled"])[:300] for d in t.dkbms
    }
    rows = Parcel.objects.filter(dkbm__in=list(tasks), valid_to__isnull=True).annotate(
        gj=AsGeoJSON("geom", precision=7, crs=False)
    )
    return _collection(
        [
            {
                "type": "Feature",
                "id": p.dkbm,
                "geometry": json.loads(p.gj),
                "properties": {"dkbm": p.dkbm, "task": tasks[p.dkbm].code, "label": tasks[p.dkbm].code[-4:]},
            }
            for p in rows
        ]
    )


@require_safe
@login_required
def overlay_geojson(request: HttpRequest, upload_id: str) -> HttpResponse:
    """The upload's differences from the registry and its reference features (made by surveys.validate)."""
    upload = _upload(request, upload_id)
    return _collection(upload.report.get("overlay", {}).get("features", []))
