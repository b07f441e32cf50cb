"""The county's 确权 orthophotos, ingested as Cloud-Optimized GeoTIFFs (EPSG:3857, web-optimised)."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models

from core.progress import ProgressJob
from spatial.models import Region


class Imagery(models.Model):
    name = models.SlugField(max_length=64, unique=True, verbose_name="图层名")  # the MapProxy layer name
    title = models.CharField(max_length=200, verbose_name="标题")
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="imagery", verbose_name="县")
    acquired_on = models.DateField(null=True, blank=True, verbose_name="拍摄日期")
    source_file = models.CharField(max_length=255, verbose_name="原始文件")
    source_crs = models.CharField(max_length=32, verbose_name="原始坐标系")  # "EPSG:32618"
    source_resolution_m = models.FloatField(verbose_name="原始分辨率（米）")
    bands = models.PositiveSmallIntegerField(verbose_name="波段数")
    width = models.PositiveIntegerField(verbose_name="宽（像素）")
    height = models.PositiveIntegerField(verbose_name="高（像素）")
    cog_path = models.CharField(max_length=500, verbose_name="COG 文件")  # relative to IMAGERY_ROOT
    footprint = models.MultiPolygonField(srid=4490, verbose_name="覆盖范围")
    public = models.BooleanField(default=False, verbose_name="公开（公示页面可用）")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="导入时间")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name="导入人"
    )

    class Meta:
        verbose_name = verbose_name_plural = "影像"
        ordering = ["-acquired_on", "name"]

    def __str__(self) -> str:
        return self.title


class ImageryJob(ProgressJob):
    """An ingest of an uploaded image, or a seeding of tiles, run by a Celery task with its progress."""

    class Kind(models.TextChoices):
        INGEST = "ingest", "导入影像"
        SEED = "seed", "预生成瓦片"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name="类型")
    county_code = models.CharField(max_length=6, verbose_name="县级代码")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="提交人")
    params = models.JSONField(default=dict, verbose_name="参数")  # the form's values (and the upload's path)
    error_zh = models.TextField(blank=True, verbose_name="原因")
    error_en = models.TextField(blank=True, verbose_name="原因（英文）")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="提交时间")

    class Meta:
        verbose_name = verbose_name_plural = "影像任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.params.get('name') or self.params.get('layer', '')}"
