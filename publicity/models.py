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


class NoticeKind(models.TextChoices):
    SURVEY = "survey", "调查测绘结果公示"
    CONTRACT = "contract", "承包合同公示"
    TRANSFER = "transfer", "经营权流转公示"
    HOUSEHOLDS = "households", "承包方及成员名单公示"


# The shortest period of each kind, in working days (contracts: the pilot plan's "at least 10").
MIN_WORKING_DAYS = {
    NoticeKind.SURVEY: 7,
    NoticeKind.CONTRACT: 10,
    NoticeKind.TRANSFER: 10,
    NoticeKind.HOUSEHOLDS: 7,
}


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    POSTED = "posted", "公示中"
    OBJECTED = "objected", "有异议"
    PERIOD_OVER = "period_over", "公示期满待处理异议"
    CLOSED = "closed", "已结束"


class Notice(models.Model):
    """A publicity notice 公示 of parcels, households or contracts to the own and the neighbouring
    collectives, for a period of working days counted from the day after posting."""

    code = models.CharField(max_length=24, unique=True, verbose_name="公示编号")
    kind = models.CharField(max_length=12, choices=NoticeKind.choices, verbose_name="类型")
    title = models.CharField(max_length=200, verbose_name="标题")
    body = models.TextField(blank=True, verbose_name="说明")
    owner_code = models.CharField(max_length=14, db_index=True, verbose_name="公示单位区域代码")
    owner_name = models.CharField(max_length=100, verbose_name="公示单位")
    working_days = models.PositiveSmallIntegerField(verbose_name="公示期（工作日）")
    posted_on = models.DateField(null=True, blank=True, verbose_name="公示日期")
    ends_on = models.DateField(null=True, blank=True, verbose_name="公示截止日期")
    status = models.CharField(
        max_length=12, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT, verbose_name="状态"
    )
    parcels = models.ManyToManyField("spatial.Parcel", blank=True, related_name="notices", verbose_name="地块")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="创建时间")
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name="结束时间")

    class Meta:
        verbose_name = verbose_name_plural = "公示"
        ordering = ["-posted_on", "-created_at"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class NoticeSubject(models.Model):
    """A household or contract the notice is about, by code, with the row shown as it was when the
    notice was made (the notice says what was published). They belong to the contracts app, which this
    app may not import: core.ports resolves them."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "households", "承包方"
        CONTRACT = "contracts", "承包合同"

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="subjects", verbose_name="公示")
    kind = models.CharField(max_length=12, choices=Kind.choices, verbose_name="类型")
    code = models.CharField(max_length=19, verbose_name="编码")
    data = models.JSONField(default=dict, verbose_name="公示内容")

    class Meta:
        verbose_name = verbose_name_plural = "公示对象"
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["notice", "kind", "code"], name="notice_subject_unique")]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.kind}:{self.code}"


class NoticeAudience(models.Model):
    """A collective (issuer) the notice is for: the own collective(s) and their neighbours."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="audience", verbose_name="公示")
    fbfbm = models.CharField(max_length=14, db_index=True, verbose_name="发包方编码")
    name = models.CharField(max_length=50, verbose_name="发包方名称")
    own = models.BooleanField(default=False, verbose_name="本集体")

    class Meta:
        verbose_name = verbose_name_plural = "公示范围"
        ordering = ["-own", "fbfbm"]
        constraints = [models.UniqueConstraint(fields=["notice", "fbfbm"], name="notice_audience_unique")]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.fbfbm}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "待答复"
    ANSWERED = "answered", "已答复"


class Objection(models.Model):
    """异议: filed by a member of the audience, answered by the notice's owner. An open one blocks
    the notice's completion."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections", verbose_name="公示")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提出人"
    )
    filer_code = models.CharField(max_length=14, verbose_name="提出人所在集体")
    reason = models.TextField(verbose_name="异议理由")
    photo = models.CharField(max_length=300, blank=True, verbose_name="照片")  # path under MEDIA_ROOT
    status = models.CharField(
        max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN, verbose_name="状态"
    )
    answer = models.TextField(blank=True, verbose_name="答复")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="答复人",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="提出时间")
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name="答复时间")

    class Meta:
        verbose_name = verbose_name_plural = "异议"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.notice_id} 异议 {self.pk}"
