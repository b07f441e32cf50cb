"""Survey tasks 权属调查/测绘 (DOMAIN.md step 4), the surveyor's uploads and the parcels they propose.

Nothing here is the registry: a proposed parcel waits for validation, boundary confirmation and
publicity, and registry parcel versions are made only when the application is approved."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models

from core.progress import ProgressJob


class SurveyTask(models.Model):
    class Status(models.TextChoices):
        ASSIGNED = "assigned", "已派发"
        UPLOADED = "uploaded", "成果已上传"
        CONFIRMING = "confirming", "指界中"
        DISPUTED = "disputed", "有争议界"
        CONFIRMED = "confirmed", "指界完成，待公示"
        PUBLICITY = "publicity", "公示中"
        ACCEPTED = "accepted", "已通过，待审批"
        CANCELLED = "cancelled", "已撤销"

    code = models.CharField(max_length=20, unique=True, verbose_name="任务编号")
    county_code = models.CharField(max_length=6, verbose_name="县级代码")
    region_code = models.CharField(max_length=14, db_index=True, verbose_name="所在区域代码")  # scoping
    dkbms = models.JSONField(default=list, verbose_name="待测地块编码")
    reason = models.CharField(max_length=200, verbose_name="测绘事由")
    company = models.CharField(max_length=100, verbose_name="测绘单位")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="survey_tasks", verbose_name="测绘人员"
    )
    due_on = models.DateField(verbose_name="完成期限")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ASSIGNED, verbose_name="状态")
    application_ref = models.CharField(max_length=40, blank=True, verbose_name="关联业务申请")
    submitted = models.ForeignKey(
        "SurveyUpload", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="提交指界的成果"
    )
    notice = models.ForeignKey(
        "publicity.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="结果公示"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="派发时间")

    class Meta:
        verbose_name = verbose_name_plural = "测绘任务"
        ordering = ["due_on", "code"]

    def __str__(self) -> str:
        return self.code


class SurveyUpload(ProgressJob):
    """One uploaded file of a task, read and validated by a Celery task (surveys.tasks)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(SurveyTask, on_delete=models.PROTECT, related_name="uploads", verbose_name="测绘任务")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="上传人")
    file_name = models.CharField(max_length=255, verbose_name="文件名")
    file_path = models.CharField(max_length=500, verbose_name="存储路径")
    sha256 = models.CharField(max_length=64, verbose_name="SHA-256")
    srid_chosen = models.PositiveIntegerField(null=True, blank=True, verbose_name="所选坐标系")
    srid = models.PositiveIntegerField(null=True, blank=True, verbose_name="文件坐标系")
    file_format = models.CharField(max_length=40, blank=True, verbose_name="格式")
    report = models.JSONField(default=dict, verbose_name="检查报告")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="上传时间")

    class Meta:
        verbose_name = verbose_name_plural = "测绘成果上传"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class ProposedParcel(models.Model):
    """A parcel as the survey proposes it, with what validation found."""

    class Status(models.TextChoices):
        OK = "ok", "通过"
        WARNING = "warning", "有提示"
        ERROR = "error", "有错误"

    upload = models.ForeignKey(SurveyUpload, on_delete=models.CASCADE, related_name="parcels", verbose_name="上传")
    index = models.PositiveIntegerField(verbose_name="序号")
    source = models.CharField(max_length=200, blank=True, verbose_name="文件中的位置")
    dkbm = models.CharField(max_length=19, blank=True, verbose_name="对应地块编码")
    geom = models.MultiPolygonField(srid=4490, verbose_name="范围（CGCS2000）")
    area_m2 = models.DecimalField(max_digits=15, decimal_places=2, verbose_name="面积（m²）")
    registry_area_m2 = models.DecimalField(
        max_digits=15, decimal_places=2, null=True, blank=True, verbose_name="原实测面积（m²）"
    )
    status = models.CharField(max_length=8, choices=Status.choices, verbose_name="检查结果")
    messages = models.JSONField(default=list, verbose_name="检查信息")  # [{level, code, zh, en}]

    class Meta:
        verbose_name = verbose_name_plural = "拟定地块"
        ordering = ["upload", "index"]

    def __str__(self) -> str:
        return f"{self.upload_id}#{self.index} {self.dkbm}"


class ProposedPoint(models.Model):
    """A boundary point 界址点 of a submitted survey: numbered clockwise from each parcel's north-west
    corner; a point shared by adjacent parcels is one point."""

    upload = models.ForeignKey(SurveyUpload, on_delete=models.CASCADE, related_name="points", verbose_name="上传")
    jzdh = models.CharField(max_length=10, verbose_name="界址点号")
    geom = models.PointField(srid=4490, verbose_name="位置")
    xzbz = models.DecimalField(max_digits=13, decimal_places=3, verbose_name="X 坐标（北）")
    yzbz = models.DecimalField(max_digits=13, decimal_places=3, verbose_name="Y 坐标（东）")
    parcel_indexes = models.JSONField(default=list, verbose_name="所属拟定地块")

    class Meta:
        verbose_name = verbose_name_plural = "拟定界址点"
        constraints = [models.UniqueConstraint(fields=["upload", "jzdh"], name="proposed_point_number_once")]

    def __str__(self) -> str:
        return self.jzdh


class ProposedLine(models.Model):
    """A boundary line 界址线 of a submitted survey: the run of a parcel's boundary along one neighbour,
    to be confirmed by the parcel's household and the neighbouring right holder (指界)."""

    class Nature(models.TextChoices):  # JXXZ
        SETTLED = "600001", "已定界"
        UNSETTLED = "600002", "未定界"
        DISPUTED = "600003", "争议界"

    upload = models.ForeignKey(SurveyUpload, on_delete=models.CASCADE, related_name="lines", verbose_name="上传")
    parcel = models.ForeignKey(ProposedParcel, on_delete=models.CASCADE, related_name="lines", verbose_name="地块")
    jzxh = models.CharField(max_length=10, verbose_name="界址线号")
    start = models.ForeignKey(ProposedPoint, on_delete=models.CASCADE, related_name="+", verbose_name="起点")
    end = models.ForeignKey(ProposedPoint, on_delete=models.CASCADE, related_name="+", verbose_name="止点")
    geom = models.LineStringField(srid=4490, verbose_name="位置")
    length_m = models.DecimalField(max_digits=12, decimal_places=2, verbose_name="长度（m）")
    contractor_cbfbm = models.CharField(max_length=18, blank=True, verbose_name="本地块承包方编码")
    contractor_name = models.CharField(max_length=100, blank=True, verbose_name="本地块承包方")
    neighbour_dkbm = models.CharField(max_length=19, blank=True, verbose_name="毗邻地块编码")
    neighbour_cbfbm = models.CharField(max_length=18, blank=True, verbose_name="毗邻权利人编码")
    pldwqlr = models.CharField(max_length=100, blank=True, verbose_name="毗邻地物权利人", db_comment="JZX.PLDWQLR")
    jxxz = models.CharField(max_length=6, choices=Nature.choices, default=Nature.UNSETTLED, verbose_name="界线性质")

    class Meta:
        verbose_name = verbose_name_plural = "拟定界址线"
        ordering = ["upload", "parcel__index", "id"]

    def __str__(self) -> str:
        return self.jzxh


class LineConfirmation(models.Model):
    """One party's word on one boundary line: confirmed, or disputed with a reason. Given by a member of
    the household with a one-time code, or by a village officer for them with a reason and the scan of the
    form they signed."""

    class Party(models.TextChoices):
        CONTRACTOR = "contractor", "本地块承包方"
        NEIGHBOUR = "neighbour", "毗邻权利人"
        COLLECTIVE = "collective", "集体（发包方）"  # a road, ditch or land no household holds

    class Decision(models.TextChoices):
        PENDING = "pending", "待确认"
        CONFIRMED = "confirmed", "已确认"
        DISPUTED = "disputed", "有异议"

    line = models.ForeignKey(
        ProposedLine, on_delete=models.CASCADE, related_name="confirmations", verbose_name="界址线"
    )
    party = models.CharField(max_length=10, choices=Party.choices, verbose_name="指界方")
    cbfbm = models.CharField(max_length=18, db_index=True, verbose_name="承包方编码（集体：发包方编码）")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING, verbose_name="意见")
    comment = models.CharField(max_length=500, blank=True, verbose_name="说明")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="指界人",
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name="指界时间")
    on_behalf = models.BooleanField(default=False, verbose_name="代为确认")
    proxy_reason = models.CharField(max_length=200, blank=True, verbose_name="代确认原因")
    proxy_scan = models.CharField(max_length=500, blank=True, verbose_name="签字表扫描件")

    class Meta:
        verbose_name = verbose_name_plural = "指界确认"
        constraints = [models.UniqueConstraint(fields=["line", "party"], name="line_confirmation_once")]

    def __str__(self) -> str:
        return f"{self.line_id} {self.party} {self.decision}"
