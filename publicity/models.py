"""The working-day calendar (holidays and make-up workdays, national and regional) and publicity notices."""

from django.conf import settings
from django.db import models


class CalendarYear(models.Model):
    """A year whose arrangement is in the table, for the whole country (region_prefix "") or a region
    (e.g. "45", Guangxi). A date is only counted when every calendar that applies has its year here."""

    year = models.PositiveSmallIntegerField(verbose_name="年份")
    region_prefix = models.CharField(max_length=12, blank=True, verbose_name="区域代码前缀（空为全国）")
    source = models.CharField(max_length=300, verbose_name="依据（通知）")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name="录入人"
    )
    recorded_at = models.DateTimeField(auto_now=True, verbose_name="录入时间")

    class Meta:
        verbose_name = verbose_name_plural = "节假日年度"
        ordering = ["region_prefix", "year"]
        constraints = [models.UniqueConstraint(fields=["year", "region_prefix"], name="calendar_year_unique")]

    def __str__(self) -> str:
        return f"{self.year} {self.region_prefix or '全国'}"


class CalendarDay(models.Model):
    """A day that differs from the plain week: a holiday (off) on a weekday, or a make-up workday on a
    weekend (调休上班). A regional day overrides the national one on the same date."""

    date = models.DateField(verbose_name="日期")
    region_prefix = models.CharField(max_length=12, blank=True, verbose_name="区域代码前缀（空为全国）")
    off = models.BooleanField(verbose_name="放假")  # False: a make-up workday
    name = models.CharField(max_length=50, verbose_name="名称")

    class Meta:
        verbose_name = verbose_name_plural = "节假日与调休"
        ordering = ["date", "region_prefix"]
        constraints = [models.UniqueConstraint(fields=["date", "region_prefix"], name="calendar_day_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}（{'休' if self.off else '班'}）"
