"""Background jobs with progress (a package import, an imagery ingest, a seeding): the fields their pages
poll, the status view, storing the upload, and the Celery side's failure record. In the kernel, because
every app that runs jobs may import it (ARCHITECTURE.md's dependency table)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import JsonResponse


class ProgressJob(models.Model):
    """Status, percent, current step and end time of a job run by a Celery task."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "处理中"
        DONE = "done", "已完成"
        REJECTED = "rejected", "已拒绝"
        FAILED = "failed", "出错"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name="状态")
    progress = models.PositiveSmallIntegerField(default=0, verbose_name="进度（%）")
    message = models.CharField(max_length=255, blank=True, verbose_name="当前步骤")
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name="完成时间")

    class Meta:
        abstract = True


def job_status_response(job: ProgressJob) -> JsonResponse:
    """What a job page polls: status, its label, percent, the current step, and whether it has ended."""
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),  # type: ignore[attr-defined]
            "progress": job.progress,
            "message": job.message,
            "finished": job.finished_at is not None,
        }
    )


def store_upload(upload: UploadedFile, folder: str, suffix: str) -> Path:
    """Write an upload under MEDIA_ROOT/folder with a random name, chunk by chunk (never whole in memory)."""
    target = Path(settings.MEDIA_ROOT) / folder
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{uuid.uuid4().hex}{suffix}"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def run_recording_failure(model: type[ProgressJob], job_id: str, run: Callable[[], Any]) -> str:
    """Run a job's work in a Celery task; an unexpected error is recorded on the job for its page (the
    worker's log keeps the trace) and re-raised. Returns the final status."""
    jobs = model._default_manager
    try:
        run()
    except Exception as exc:
        jobs.filter(pk=job_id).update(
            status=ProgressJob.Status.FAILED,
            message=f"处理出错 / failed: {exc.__class__.__name__}",
            finished_at=datetime.now(UTC),
        )
        raise
    return str(jobs.values_list("status", flat=True).get(pk=job_id))


def check_image(
    upload: UploadedFile, *, formats: tuple[str, ...] = ("JPEG", "PNG"), max_pixels: int = 60_000_000
) -> str:
    """Decode an uploaded photo before anything is stored: a typed error unless it is a real image of one
    of `formats` and not a decompression bomb. Returns the format."""
    from PIL import Image, UnidentifiedImageError

    from .errors import DomainError

    names = "、".join(formats)
    try:
        with Image.open(upload) as im:
            kind = im.format or ""
            if kind not in formats or im.width * im.height > max_pixels:
                raise DomainError(
                    f"照片须为 {names}，且不超过 {max_pixels // 1_000_000} 兆像素",
                    f"a {names} photo of at most {max_pixels // 1_000_000} MP",
                    field="photo",
                )
            im.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise DomainError("照片文件已损坏或不是图片", "the photo is damaged or not an image", field="photo") from None
    finally:
        upload.seek(0)
    return kind
