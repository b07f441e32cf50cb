"""Writes of the surveys app: a task assigned by the county, a surveyor's upload queued and then read
and checked (surveys.tasks runs `survey_upload_run`). Each checks who may do it, runs in one
transaction and is audited; a file that cannot be read leaves its reason on the upload and writes
nothing else."""

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.contrib.gis.geos import LineString as GEOSLineString
from django.contrib.gis.geos import Point as GEOSPoint
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from pyproj import Transformer

from accounts.identity import otp_verify
from accounts.models import Office, Role, User
from accounts.notifications import notify_users, officers_of
from accounts.scoping import can
from accounts.selectors import household_codes
from audit import services as audit
from core.codes import county_of, issuer_of, validate_dkbm
from core.effects import after_commit
from core.errors import DomainError, PermissionDeniedError
from core.numbering import next_number
from core.ports import ensure
from core.progress import ProgressJob, check_image, store_upload
from publicity.models import NoticeKind
from publicity.notices import notice_create, notice_post
from spatial.models import Issuer, Parcel
from spatial.services import measure_srid_for

from .boundaries import boundaries_of, length_m
from .formats import SurveyFileError, read_survey_file
from .models import LineConfirmation, ProposedLine, ProposedParcel, ProposedPoint, SurveyTask, SurveyUpload
from .signals import survey_accepted
from .validate import validate_parcels

MAX_UPLOAD_BYTES = 200 * 1024**2
SUFFIXES = (".geojson", ".json", ".zip", ".gpkg", ".kml", ".kmz", ".dxf", ".gpx", ".csv", ".txt", ".dat")


class SurveyError(DomainError):
    default_code = "survey_invalid"


def _region_of(dkbms: list[str]) -> str:
    """The smallest region holding every parcel: the common prefix of their issuer codes, cut to a
    region level (14 group, 12 village, 9 township, 6 county digits)."""
    issuers = {issuer_of(d) for d in dkbms}
    for length in (14, 12, 9, 6):
        if len({i[:length] for i in issuers}) == 1:
            return next(iter(issuers))[:length]
    return ""


@transaction.atomic
def survey_task_create(
    *,
    actor: User,
    dkbms: list[str],
    reason: str,
    company: str,
    assignee: User,
    due_on: date,
    application_ref: str = "",
) -> SurveyTask:
    """The county sends parcels to a surveyor, with a due date."""
    codes = sorted({validate_dkbm(d.strip()) for d in dkbms if d.strip()})
    if not codes:
        raise SurveyError("请列出要测绘的地块编码", "list the parcel codes to survey", field="dkbms")
    if len({county_of(c) for c in codes}) != 1:
        raise SurveyError("一个任务的地块须在同一个县", "a task's parcels lie in one county", field="dkbms")
    for code in codes:
        ensure(actor, "surveys.assign", code)
    found = set(Parcel.objects.filter(dkbm__in=codes, valid_to__isnull=True).values_list("dkbm", flat=True))
    missing = [c for c in codes if c not in found]
    if missing:
        raise SurveyError(
            f"地块不存在：{'、'.join(missing[:5])}", f"no such parcels: {', '.join(missing[:5])}", field="dkbms"
        )
    county = county_of(codes[0])
    if not can(assignee, "surveys.upload", county):
        raise SurveyError(
            "所选人员不是本县的测绘单位人员", "the assignee is not a surveyor of this county", field="assignee"
        )
    if not reason.strip() or not company.strip():
        raise SurveyError("请填写测绘事由和测绘单位", "give the reason and the survey company", field="reason")
    if due_on < timezone.localdate():
        raise SurveyError("完成期限不能早于今天", "the due date is in the past", field="due_on")
    task = SurveyTask.objects.create(
        code=next_number(SurveyTask, "code", f"{county}{timezone.localdate().year}", 4),
        county_code=county,
        region_code=_region_of(codes),
        dkbms=codes,
        reason=reason.strip(),
        company=company.strip(),
        assignee=assignee,
        due_on=due_on,
        application_ref=application_ref,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="survey.task_created",
        subject=task,
        region_code=task.region_code,
        data={"code": task.code, "parcels": codes, "assignee": assignee.username, "due_on": str(due_on)},
    )
    return task


def _queue(upload: SurveyUpload) -> None:
    from .tasks import run_survey_upload

    after_commit(run_survey_upload.delay, str(upload.pk))


@transaction.atomic
def survey_upload_create(*, actor: User, task: SurveyTask, upload: Any, srid: int | None = None) -> SurveyUpload:
    """The task's surveyor uploads a result file; it is read and checked in the background."""
    task = SurveyTask.objects.select_for_update().get(pk=task.pk)
    if actor.pk != task.assignee_id or not can(actor, "surveys.upload", task.county_code):
        raise PermissionDeniedError("只有任务指派的测绘人员可以上传成果", "only the task's surveyor uploads results")
    if task.status not in (SurveyTask.Status.ASSIGNED, SurveyTask.Status.UPLOADED, SurveyTask.Status.DISPUTED):
        raise SurveyError(
            f"任务{task.get_status_display()}，不能再上传",
            f"the task is {task.status}: no more uploads",
            code="task_closed",
        )
    if upload is None:
        raise SurveyFileError("请选择文件", "choose a file", field="file")
    name = Path(upload.name or "").name
    if not name.lower().endswith(SUFFIXES):
        raise SurveyFileError(
            "请上传 GeoJSON、Shapefile（zip）、GeoPackage、KML/KMZ、DXF、GPX 或坐标表（CSV/TXT/DAT）",
            "upload GeoJSON, a zipped Shapefile, GeoPackage, KML/KMZ, DXF, GPX or a coordinate list",
            field="file",
        )
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise SurveyFileError("文件超过 200 MB", "the file is larger than 200 MB", field="file")
    path = store_upload(upload, "survey-uploads", Path(name).suffix.lower())
    sha = hashlib.sha256()
    with open(path, "rb") as stored:
        for chunk in iter(lambda: stored.read(1 << 20), b""):
            sha.update(chunk)
    digest = sha.hexdigest()
    job = SurveyUpload.objects.create(
        task=task, uploaded_by=actor, file_name=name, file_path=str(path), sha256=digest, srid_chosen=srid
    )
    audit.record(
        actor=actor,
        action="survey.uploaded",
        subject=job,
        region_code=task.region_code,
        data={"task": task.code, "file": name, "sha256": digest, "srid": srid},
    )
    _queue(job)
    return job


def survey_upload_run(*, upload: SurveyUpload) -> SurveyUpload:
    """Read and check an upload (the Celery task). A file that cannot be read is refused with its
    reason; otherwise the proposed parcels are stored with their findings."""
    SurveyUpload.objects.filter(pk=upload.pk).update(status=ProgressJob.Status.RUNNING, progress=10, message="读取文件")
    task = upload.task
    try:
        parsed = read_survey_file(Path(upload.file_path), name=upload.file_name, srid=upload.srid_chosen)
        SurveyUpload.objects.filter(pk=upload.pk).update(progress=50, message="与登记簿核对")
        checked, report = validate_parcels(parsed, county_code=task.county_code, task_dkbms=task.dkbms)
    except DomainError as exc:
        with transaction.atomic():
            SurveyUpload.objects.filter(pk=upload.pk).update(
                status=ProgressJob.Status.REJECTED,
                progress=100,
                message=str(exc.zh)[:255],
                report={"error": {"code": exc.code, "zh": exc.zh, "en": exc.en, "field": exc.field}},
                finished_at=timezone.now(),
            )
            audit.record(
                actor=None,
                action="survey.upload_refused",
                subject=upload,
                region_code=task.region_code,
                data={"task": task.code, "code": exc.code},
            )
        upload.refresh_from_db()
        return upload
    with transaction.atomic():
        ProposedParcel.objects.filter(upload=upload).delete()
        ProposedParcel.objects.bulk_create(
            [
                ProposedParcel(
                    upload=upload,
                    index=c.index,
                    source=c.source[:200],
                    dkbm=c.dkbm,
                    geom=cast(MultiPolygon, GEOSGeometry(memoryview(c.geom_4490.wkb), srid=4490)),
                    area_m2=c.area_m2,
                    registry_area_m2=c.registry_area_m2,
                    status=c.status,
                    messages=c.messages,
                )
                for c in checked
            ]
        )
        errors = sum(1 for c in checked if c.status == "error")
        report["summary"] = {"parcels": len(checked), "errors": errors}
        SurveyUpload.objects.filter(pk=upload.pk).update(
            status=ProgressJob.Status.DONE,
            progress=100,
            message=f"已检查 {len(checked)} 个地块，{errors} 个有错误",
            srid=parsed.srid,
            file_format=parsed.format,
            report=report,
            finished_at=timezone.now(),
        )
        SurveyTask.objects.filter(pk=task.pk, status=SurveyTask.Status.ASSIGNED).update(
            status=SurveyTask.Status.UPLOADED
        )
        audit.record(
            actor=None,
            action="survey.upload_checked",
            subject=upload,
            region_code=task.region_code,
            data={"task": task.code, "parcels": len(checked), "errors": errors, "srid": parsed.srid},
        )
    upload.refresh_from_db()
    return upload


# --- submitting a result for boundary confirmation 指界 ----------------------------------------------


def confirm_purpose(task: SurveyTask) -> str:
    """What a farmer's one-time code is for: their word on this task's boundaries."""
    return f"指界 {task.code}"


@transaction.atomic
def survey_submit(*, actor: User, upload: SurveyUpload) -> SurveyTask:
    """The surveyor submits a checked upload without errors: its boundary points and lines are made and
    each line waits for its parties (the parcel's household and the neighbouring right holder)."""
    task = SurveyTask.objects.select_for_update().get(pk=upload.task_id)
    if actor.pk != task.assignee_id:
        raise PermissionDeniedError("只有任务指派的测绘人员可以提交成果", "only the task's surveyor submits results")
    upload = SurveyUpload.objects.get(pk=upload.pk)
    if upload.status != SurveyUpload.Status.DONE:
        raise SurveyError("这次上传尚未检查完毕或已被拒绝", "this upload is not checked, or was refused")
    if task.status not in (SurveyTask.Status.UPLOADED, SurveyTask.Status.DISPUTED):
        raise SurveyError(
            f"任务{task.get_status_display()}，不能提交", f"the task is {task.status}", code="task_closed"
        )
    if not upload.parcels.exists():
        raise SurveyError("成果中没有地块", "the upload holds no parcel")
    if upload.parcels.filter(status=ProposedParcel.Status.ERROR).exists():
        raise SurveyError("有错误的地块，请修改后重新上传", "some parcels have errors: fix them and upload again")
    plane = measure_srid_for(task.county_code)
    to_storage = Transformer.from_crs(plane, 4490, always_xy=True)
    b = boundaries_of(upload, task)
    stored = {}
    for k, pt in b.points.items():
        lon, lat = to_storage.transform(pt.x, pt.y)
        stored[k] = ProposedPoint.objects.create(
            upload=upload,
            jzdh=pt.jzdh,
            geom=GEOSPoint(lon, lat, srid=4490),
            xzbz=Decimal(f"{pt.y:.3f}"),
            yzbz=Decimal(f"{pt.x:.3f}"),
            parcel_indexes=sorted(pt.parcels),
        )
    by_index = {p.index: p for p in upload.parcels.all()}
    households: set[str] = set()
    collectives: set[str] = set()
    issuers = dict(Issuer.objects.filter(fbfbm__startswith=task.county_code).values_list("fbfbm", "name"))
    for n, line in enumerate(b.lines):
        own = b.holders.get(b.parcel_holder.get(line.parcel, ""), {})
        neighbour_dkbm, neighbour = "", {}
        if line.neighbour and line.neighbour[0] == "registry":
            neighbour_dkbm = line.neighbour[1]
            neighbour = b.holders.get(neighbour_dkbm, {})
        elif line.neighbour:
            other = by_index[line.neighbour[1]]
            neighbour_dkbm = other.dkbm
            neighbour = b.holders.get(b.parcel_holder.get(other.index, ""), {})
        collective = ""
        if not neighbour.get("cbfbm"):  # a road, a ditch, collective land: the issuer speaks for it
            collective = issuer_of(neighbour_dkbm or b.parcel_holder.get(line.parcel) or task.dkbms[0])
            neighbour = {"holder": issuers.get(collective, collective)}
        coords = [to_storage.transform(b.points[k].x, b.points[k].y) for k in line.points]
        row = ProposedLine.objects.create(
            upload=upload,
            parcel=by_index[line.parcel],
            jzxh=f"L{n + 1}",
            start=stored[line.points[0]],
            end=stored[line.points[-1]],
            geom=GEOSLineString(coords, srid=4490),
            length_m=length_m(line, b.points),
            contractor_cbfbm=own.get("cbfbm", ""),
            contractor_name=own.get("holder", ""),
            neighbour_dkbm=neighbour_dkbm,
            neighbour_cbfbm=neighbour.get("cbfbm", ""),
            pldwqlr=neighbour.get("holder", ""),
        )
        parties = [(LineConfirmation.Party.CONTRACTOR, row.contractor_cbfbm)]
        if row.neighbour_cbfbm and row.neighbour_cbfbm != row.contractor_cbfbm:
            parties.append((LineConfirmation.Party.NEIGHBOUR, row.neighbour_cbfbm))
        if collective:
            parties.append((LineConfirmation.Party.COLLECTIVE, collective))
            collectives.add(collective)
        for party, cbfbm in parties:
            if cbfbm:
                LineConfirmation.objects.create(line=row, party=party, cbfbm=cbfbm)
                if party != LineConfirmation.Party.COLLECTIVE:
                    households.add(cbfbm)
    task.submitted, task.status = upload, SurveyTask.Status.CONFIRMING
    task.save(update_fields=["submitted", "status"])
    audit.record(
        actor=actor,
        action="survey.submitted",
        subject=task,
        region_code=task.region_code,
        data={"task": task.code, "upload": str(upload.pk), "points": len(b.points), "lines": len(b.lines)},
    )
    farmers = [
        o.user
        for o in Office.objects.filter(role=Role.FARMER, active=True, contractor_code__in=households).select_related(
            "user"
        )
    ]
    notify_users(
        farmers + officers_of(sorted(collectives)),
        title=f"请确认地块界线（指界）：{task.code}",
        body=f"测绘任务 {task.code} 的界线需要您确认或提出异议。",
        url=f"/surveys/{task.code}/confirm/",
    )
    _settle(task)
    return task


def _decide(
    *, actor: User, task: SurveyTask, rows: list[LineConfirmation], decisions: dict[int, tuple[str, str]], **proxy: Any
) -> int:
    done = 0
    for row in rows:
        if row.line_id not in decisions:
            continue
        decision, comment = decisions[row.line_id]
        if decision not in (LineConfirmation.Decision.CONFIRMED, LineConfirmation.Decision.DISPUTED):
            raise SurveyError("意见应为确认或有异议", "the answer is confirm or dispute", field="decision")
        if decision == LineConfirmation.Decision.DISPUTED and not comment.strip():
            raise SurveyError(
                f"对界线 {row.line.jzxh} 有异议时请写明理由",
                f"say why line {row.line.jzxh} is disputed",
                field="comment",
            )
        row.decision, row.comment = decision, comment.strip()[:500]
        row.decided_by, row.decided_at = actor, timezone.now()
        for name, value in proxy.items():
            setattr(row, name, value)
        row.save()
        audit.record(
            actor=actor,
            action=f"boundary.{decision}",
            subject=row,
            region_code=row.cbfbm,
            data={"task": task.code, "line": row.line.jzxh, "party": row.party, "on_behalf": row.on_behalf},
        )
        done += 1
    if not done:
        raise SurveyError("没有选择要确认的界线", "no line was answered", field="decision")
    return done


def _pending_for(task: SurveyTask, codes: list[str]) -> list[LineConfirmation]:
    """The unanswered confirmations of these households (or, by its code, the collective)."""
    return list(
        LineConfirmation.objects.select_for_update()
        .filter(line__upload=task.submitted, cbfbm__in=codes, decision=LineConfirmation.Decision.PENDING)
        .select_related("line")
    )


def boundary_confirm(*, actor: User, task: SurveyTask, decisions: dict[int, tuple[str, str]], code: str) -> int:
    """A farmer confirms or disputes the lines waiting for their household, with the one-time code sent to
    their phone (checked first, in its own transaction, so that a wrong try counts)."""
    households = household_codes(actor)
    if not households or task.status != SurveyTask.Status.CONFIRMING:
        raise PermissionDeniedError("没有待您确认的界线", "no boundary waits for you")
    otp_verify(user=actor, purpose=confirm_purpose(task), code=code)
    with transaction.atomic():
        task = SurveyTask.objects.select_for_update().get(pk=task.pk)
        rows = _pending_for(task, households)
        if not rows:
            raise PermissionDeniedError("没有待您确认的界线", "no boundary waits for you")
        done = _decide(actor=actor, task=task, rows=rows, decisions=decisions)
        _settle(task)
    return done


@transaction.atomic
def boundary_confirm_for(
    *,
    actor: User,
    task: SurveyTask,
    cbfbm: str,
    decisions: dict[int, tuple[str, str]],
    reason: str,
    signed_form: UploadedFile | None,
) -> int:
    """A village officer records a household's word for it (the person has no phone, say): the reason and
    the scan of the form the household signed are required and kept."""
    ensure(actor, "boundaries.proxy", cbfbm)
    if not reason.strip():
        raise SurveyError("请写明代为确认的原因", "say why you confirm for the household", field="reason")
    if signed_form is None:
        raise SurveyError("请上传户主签字的指界表扫描件", "upload the scan of the signed form", field="signed_form")
    check_image(signed_form, formats=("JPEG", "PNG"))
    scan = str(store_upload(signed_form, "boundary-forms", ".jpg"))
    task = SurveyTask.objects.select_for_update().get(pk=task.pk)
    if task.status != SurveyTask.Status.CONFIRMING:
        raise SurveyError("任务不在指界阶段", "the task is not awaiting confirmation", code="task_closed")
    rows = [r for r in _pending_for(task, [cbfbm]) if r.party != LineConfirmation.Party.COLLECTIVE]
    if not rows:
        raise SurveyError("该承包方没有待确认的界线", "no line waits for this household")
    done = _decide(
        actor=actor,
        task=task,
        rows=rows,
        decisions=decisions,
        on_behalf=True,
        proxy_reason=reason.strip()[:200],
        proxy_scan=scan,
    )
    _settle(task)
    return done


@transaction.atomic
def boundary_confirm_collective(
    *, actor: User, task: SurveyTask, fbfbm: str, decisions: dict[int, tuple[str, str]]
) -> int:
    """The collective's officer (village committee or group) answers for the lines along land no household
    holds: roads, ditches, the collective's own land."""
    ensure(actor, "boundaries.proxy", fbfbm)
    task = SurveyTask.objects.select_for_update().get(pk=task.pk)
    if task.status != SurveyTask.Status.CONFIRMING:
        raise SurveyError("任务不在指界阶段", "the task is not awaiting confirmation", code="task_closed")
    rows = [r for r in _pending_for(task, [fbfbm]) if r.party == LineConfirmation.Party.COLLECTIVE]
    if not rows:
        raise SurveyError("没有待集体确认的界线", "no line waits for the collective")
    done = _decide(actor=actor, task=task, rows=rows, decisions=decisions)
    _settle(task)
    return done


def _settle(task: SurveyTask) -> None:
    """Once every party has answered: a disputed line returns the task to the surveyor (争议界); with
    none, the lines are settled (已定界) and the result goes to publicity."""
    rows = LineConfirmation.objects.filter(line__upload=task.submitted)
    if rows.filter(decision=LineConfirmation.Decision.PENDING).exists():
        return
    disputed = rows.filter(decision=LineConfirmation.Decision.DISPUTED)
    lines = ProposedLine.objects.filter(upload=task.submitted)
    if disputed.exists():
        lines.filter(confirmations__decision=LineConfirmation.Decision.DISPUTED).update(
            jxxz=ProposedLine.Nature.DISPUTED
        )
        task.status = SurveyTask.Status.DISPUTED
        notify_users(
            [task.assignee],
            title=f"界线有争议，请核实：{task.code}",
            body="；".join(f"{d.line.jzxh}：{d.comment}" for d in disputed.select_related("line")[:10]),
            url=f"/surveys/{task.code}/",
        )
    else:
        lines.update(jxxz=ProposedLine.Nature.SETTLED)
        task.status = SurveyTask.Status.CONFIRMED
    task.save(update_fields=["status"])
    audit.record(
        actor=None,
        action="survey.boundaries_settled" if task.status == SurveyTask.Status.CONFIRMED else "survey.disputed",
        subject=task,
        region_code=task.region_code,
        data={"task": task.code, "disputed": disputed.count()},
    )


# --- publicity of the result, and its acceptance ----------------------------------------------------


@transaction.atomic
def survey_publicise(*, actor: User, task: SurveyTask, owner_code: str = "") -> SurveyTask:
    """The confirmed result is publicised (调查测绘结果公示) to this and the neighbouring collectives,
    through the publicity app: a notice of the task's parcels, its text listing the new areas. The
    notice's owner is the task's region (or the officer's narrower one)."""
    task = SurveyTask.objects.select_for_update().get(pk=task.pk)
    if task.status != SurveyTask.Status.CONFIRMED or task.submitted is None:
        raise SurveyError("指界完成后才能公示测绘结果", "the boundaries must be confirmed first", code="not_confirmed")
    owner = owner_code or task.region_code
    lines = []
    for p in task.submitted.parcels.order_by("index"):
        was = f"（原 {p.registry_area_m2} m²）" if p.registry_area_m2 is not None else "（新分地块）"
        lines.append(f"{p.dkbm or '新地块'}：{p.area_m2} m² {was}")
    notice = notice_create(
        actor=actor,
        kind=NoticeKind.SURVEY,
        owner_code=owner,
        title=f"调查测绘结果公示（{task.code}）",
        body=f"测绘单位：{task.company}。事由：{task.reason}。\n" + "\n".join(lines),
        parcels=[d for d in task.dkbms if d.startswith(owner)],
    )
    notice = notice_post(actor=actor, notice=notice)
    task.notice, task.status = notice, SurveyTask.Status.PUBLICITY
    task.save(update_fields=["notice", "status"])
    audit.record(
        actor=actor,
        action="survey.publicised",
        subject=task,
        region_code=task.region_code,
        data={"task": task.code, "notice": notice.code},
    )
    return task


@transaction.atomic
def survey_accept_on_notice(*, notice: Any, actor: Any) -> SurveyTask | None:
    """When its notice ends (no objection left open), the survey result is accepted and waits for the
    approval of the application; registry parcels change only then, never here."""
    task = SurveyTask.objects.select_for_update().filter(notice=notice, status=SurveyTask.Status.PUBLICITY).first()
    if task is None:
        return None
    task.status = SurveyTask.Status.ACCEPTED
    task.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="survey.accepted",
        subject=task,
        region_code=task.region_code,
        data={"task": task.code, "notice": notice.code, "objections": notice.objections.count()},
    )
    notify_users(
        [task.assignee, task.created_by],
        title=f"测绘结果公示期满，已通过：{task.code}",
        body="结果等待业务审批后写入登记簿。",
        url=f"/surveys/{task.code}/",
    )
    survey_accepted.send(sender=SurveyTask, task=task, actor=actor)
    return task
