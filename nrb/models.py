"""The feed of filed contracts to the county natural resources bureau 自然资源局 (DOMAIN.md step 6): the
queue and each hand-over. Its tables keep the names they had in the exchange app."""

from django.conf import settings
from django.db import models


class FilingShare(models.Model):
    """A filed contract queued for the county natural resources bureau 自然资源局 (DOMAIN.md step 6): it
    fetches it through the pull API or finds it in the periodic folder export. The id is the queue's
    sequence number."""

    entry = models.OneToOneField(
        "contracts.RegisterEntry", on_delete=models.PROTECT, related_name="share", verbose_name="登记簿记录"
    )
    cbhtbm = models.CharField(max_length=19, verbose_name="承包合同编码")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="入队时间")

    class Meta:
        db_table = "exchange_filingshare"  # made when the feed was part of the exchange app
        verbose_name = verbose_name_plural = "待共享的备案合同"
        ordering = ["id"]
        indexes = [models.Index(fields=["cbhtbm"], name="filingshare_code_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.cbhtbm}"


class FilingDelivery(models.Model):
    """One hand-over of a queued filing: a file fetched through the API (by whom) or a folder written by
    the export (where), with the SHA-256 of what left."""

    class Channel(models.TextChoices):
        API = "api", "接口拉取"
        FOLDER = "folder", "目录导出"

    share = models.ForeignKey(FilingShare, on_delete=models.PROTECT, related_name="deliveries", verbose_name="备案合同")
    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name="方式")
    part = models.CharField(max_length=20, verbose_name="内容")  # contract.json, parcels.geojson, contract.pdf, folder
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name="接收人"
    )
    path = models.CharField(max_length=500, blank=True, verbose_name="导出目录")
    sha256 = models.CharField(max_length=64, verbose_name="SHA-256")
    delivered_at = models.DateTimeField(auto_now_add=True, verbose_name="交付时间")

    class Meta:
        db_table = "exchange_filingdelivery"
        verbose_name = verbose_name_plural = "备案共享交付记录"
        ordering = ["-delivered_at"]

    def __str__(self) -> str:
        return f"{self.share_id} {self.part} {self.get_channel_display()}"
