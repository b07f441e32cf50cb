"""Writes of the surveys app: a task assigned by the county, a surveyor's upload queued and then read
and checked (surveys.tasks runs `survey_upload_run`). Each checks who may do it, runs in one
transaction and is audited; a file that cannot be read leaves its reason on the upload and writes
nothing else."""

import hashlib
from datetime import date
from pathlib import Path
from typing import Any, cast

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from accounts.scoping import can, scope_prefixes
from audit import services as audit
from spatial.codes import validate_dkbm
from spatial.errors import DomainError, PermissionDeniedError
from spatial.models import Parcel
from spatial.permissions import ensure
from spatial.progress import ProgressJob, store_upload

from .formats import SurveyFileError, read_survey_file
from .models import ProposedParcel, SurveyTask, SurveyUpload
from .validate import validate_parcels

MAX_UPLOAD_BYTES = 200 * 1024**2
SUFFIXES = (".geojson", ".json", ".zip", ".gpkg", ".kml", ".kmz", ".dxf", ".gpx", ".csv", ".txt", ".dat")


class SurveyError(DomainError):
    default_code = "survey_invalid"


def _region_of(dkbms: list[str]) -> str:
    """The smallest region holding every parcel: the common prefix of their issuer codes, cut to a
    region level (14 group, 12 village, 9 township, 6 county digits)."""
    issuers = {d[:14] for d in dkbms}
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
    if len({c[:6] for c in codes}) != 1:
        raise SurveyError("一个任务的地块须在同一个县", "a task's parcels lie in one county", field="dkbms")
    for code in codes:
        ensure(actor, "surveys.assign", code)
    found = set(Parcel.objects.filter(dkbm__in=codes, valid_to__isnull=True).values_list("dkbm", flat=True))
    missing = [c for c in codes if c not in found]
    if missing:
        raise SurveyError(
            f"地块不存在：{'、'.join(missing[:5])}", f"no such parcels: {', '.join(missing[:5])}", field="dkbms"
        )
    county = codes[0][:6]
    if not can(assignee, "surveys.upload", county):
        raise SurveyError(
            "所选人员不是本县的测绘单位人员", "the assignee is not a surveyor of this county", field="assignee"
        )
    if not reason.strip() or not company.strip():
        raise SurveyError("请填写测绘事由和测绘单位", "give the reason and the survey company", field="reason")
    if due_on < timezone.localdate():
        raise SurveyError("完成期限不能早于今天", "the due date is in the past", field="due_on")
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tianjie-survey-task-{county}"])
    prefix = f"{county}{timezone.localdate().year}"
    last = SurveyTask.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    task = SurveyTask.objects.create(
        code=f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:04d}",
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

    transaction.on_commit(lambda: run_survey_upload.delay(str(upload.pk)))


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
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
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


def tasks_visible(user: User) -> Any:
    """The tasks a user may see: a surveyor their own; an officer those with a parcel in their regions."""
    if scope_prefixes(user, "surveys.upload"):
        return SurveyTask.objects.filter(assignee=user)
    patterns = [p + "%" for p in scope_prefixes(user, "surveys.view")]
    if not patterns:
        return SurveyTask.objects.none()
    return SurveyTask.objects.annotate(
        in_scope=RawSQL("EXISTS (SELECT 1 FROM jsonb_array_elements_text(dkbms) d WHERE d LIKE ANY(%s))", (patterns,))
    ).filter(in_scope=True)
