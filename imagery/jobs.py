"""Imagery jobs for the county's imagery page: an uploaded GeoTIFF ingested, or a layer's tiles seeded, by a
Celery task (imagery.tasks) that records its progress on the job. Creating a job checks what can be checked
at once (permission, file type and size, the seeding request) so that a mistake is shown on the form."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import slugify

from audit import services as audit
from core.codes import validate_region_code
from core.effects import after_commit
from core.errors import DomainError
from core.ports import ensure
from core.progress import store_upload

from .ingest import MAX_BYTES, ImageryError, imagery_ingest
from .models import Imagery, ImageryJob
from .seed import imagery_seed, seed_plan

# The ingest reports these steps in this order; each moves the bar to its percentage.
_INGEST_STEPS = (("检查通过", 10), ("转换为 COG", 15), ("生成瓦片缓存", 55), ("已导入影像", 100))


def _queue(job: ImageryJob) -> None:
    from .tasks import run_imagery_job

    after_commit(run_imagery_job.delay, str(job.pk))


@transaction.atomic
def imagery_job_ingest(
    *,
    actor: Any,
    county_code: str,
    upload: UploadedFile,
    name: str = "",
    title: str = "",
    acquired_on: date | None = None,
    public: bool = False,
) -> ImageryJob:
    """Store an uploaded GeoTIFF and queue its ingest (the task starts after the commit)."""
    validate_region_code(county_code, "county")
    ensure(actor, "imagery.ingest", county_code)
    file_name = Path(upload.name or "image.tif").name
    if not file_name.lower().endswith((".tif", ".tiff")):
        raise ImageryError("请上传 GeoTIFF（.tif 或 .tiff）文件", "upload a GeoTIFF (.tif or .tiff)", field="file")
    if upload.size and upload.size > MAX_BYTES:
        raise ImageryError("文件超过 100 GB 上限", "the file is larger than the 100 GB limit", field="file")
    slug = slugify(name or Path(file_name).stem)
    if not slug:
        raise ImageryError("图层名只能用字母、数字和短横线", "a layer name takes letters, digits and -", field="name")
    if Imagery.objects.filter(name=slug).exists():
        raise ImageryError(f"影像图层名 {slug} 已存在", f"an imagery layer named {slug} already exists", field="name")
    path = store_upload(upload, "imagery-uploads", ".tif")
    job = ImageryJob.objects.create(
        kind=ImageryJob.Kind.INGEST,
        county_code=county_code,
        created_by=actor,
        params={
            "file_name": file_name,
            "file_path": str(path),
            "name": slug,
            "title": title or Path(file_name).stem,
            "acquired_on": acquired_on.isoformat() if acquired_on else None,
            "public": public,
        },
    )
    audit.record(
        actor=actor, action="imagery.ingest_queued", subject=job, region_code=county_code, data={"file": file_name}
    )
    _queue(job)
    return job


@transaction.atomic
def imagery_job_seed(
    *, actor: Any, layer: str, region_code: str, zoom_from: int, zoom_to: int, grid: str = "cgcs2000"
) -> ImageryJob:
    """Queue a seeding of `layer` over a region (checked now; run by the task)."""
    plan = seed_plan(layer=layer, region_code=region_code, zoom_from=zoom_from, zoom_to=zoom_to, grid=grid)
    ensure(actor, "imagery.ingest", region_code)
    job = ImageryJob.objects.create(
        kind=ImageryJob.Kind.SEED,
        county_code=plan.county,
        created_by=actor,
        params={"layer": layer, "region": region_code, "zoom_from": zoom_from, "zoom_to": zoom_to, "grid": grid},
    )
    audit.record(actor=actor, action="imagery.seed_queued", subject=job, region_code=region_code, data=job.params)
    _queue(job)
    return job


def _update(job: ImageryJob, **fields: Any) -> None:
    ImageryJob.objects.filter(pk=job.pk).update(**fields)


def imagery_job_run(*, job: ImageryJob) -> None:
    """Run a job, recording progress; a typed error ends it as rejected with the reason, nothing kept."""
    _update(job, status=ImageryJob.Status.RUNNING, progress=2, message="开始 / starting")
    p = job.params
    try:
        if job.kind == ImageryJob.Kind.INGEST:

            def ingest_progress(message: str) -> None:
                percent = next((n for step, n in _INGEST_STEPS if message.startswith(step)), None)
                _update(job, message=message[:255], **({"progress": percent} if percent else {}))

            try:
                imagery_ingest(
                    actor=job.created_by,
                    path=Path(p["file_path"]),
                    county_code=job.county_code,
                    name=p["name"],
                    title=p["title"],
                    acquired_on=date.fromisoformat(p["acquired_on"]) if p.get("acquired_on") else None,
                    public=bool(p.get("public")),
                    progress=ingest_progress,
                )
            finally:
                Path(p["file_path"]).unlink(missing_ok=True)
        else:
            last = [-1]

            def seed_progress(fraction: float) -> None:
                percent = min(99, int(fraction * 100))
                if percent > last[0]:
                    last[0] = percent
                    _update(job, progress=max(2, percent), message=f"预生成 seeding {percent}%")

            imagery_seed(
                actor=job.created_by,
                layer=p["layer"],
                region_code=p["region"],
                zoom_from=int(p["zoom_from"]),
                zoom_to=int(p["zoom_to"]),
                grid=p["grid"],
                progress=seed_progress,
            )
    except DomainError as exc:
        _update(
            job,
            status=ImageryJob.Status.REJECTED,
            progress=100,
            message="已拒绝 / rejected",
            error_zh=exc.zh,
            error_en=exc.en,
            finished_at=datetime.now(UTC),
        )
        return
    done = f"图层 layer {p['name']}" if job.kind == ImageryJob.Kind.INGEST else f"{p['layer']} {p['grid']}"
    _update(job, status=ImageryJob.Status.DONE, progress=100, message=done, finished_at=datetime.now(UTC))
