"""Import jobs: an uploaded package checked (and loaded) by a Celery task, with its progress and report."""

import uuid

from django.conf import settings
from django.db import models

from core.progress import ProgressJob


class ImportJob(ProgressJob):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    county_code = models.CharField(max_length=6, verbose_name="县级代码")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="上传人")
    file_name = models.CharField(max_length=255, verbose_name="文件名")
    file_path = models.CharField(max_length=500, verbose_name="存储路径")
    dry_run = models.BooleanField(default=False, verbose_name="仅检查")
    report = models.JSONField(null=True, blank=True, verbose_name="质检报告")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="上传时间")

    class Meta:
        verbose_name = verbose_name_plural = "数据包导入任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"
