"""The append-only, hash-chained event log. UPDATE, DELETE and TRUNCATE are refused by database triggers."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One business action: who did what to which record, when, from where."""

    at = models.DateTimeField(verbose_name="时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField(max_length=150, verbose_name="操作人名称", help_text="system for commands")
    action = models.CharField(max_length=80, db_index=True, verbose_name="动作")
    subject_type = models.CharField(max_length=80, verbose_name="对象类型")
    subject_id = models.CharField(max_length=80, verbose_name="对象标识")
    region_code = models.CharField(max_length=19, blank=True, db_index=True, verbose_name="区域代码")
    data = models.JSONField(default=dict, verbose_name="数据")
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name="来源地址")
    prev_hash = models.CharField(max_length=64, verbose_name="前一事件哈希")
    hash = models.CharField(max_length=64, unique=True, verbose_name="事件哈希")

    class Meta:
        verbose_name = verbose_name_plural = "审计事件"
        ordering = ["id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.subject_type}:{self.subject_id}"
