"""Regions, issuers 发包方, parcels 地块 and their boundary points and lines (NY/T 2539 layers DK, JZD, JZX).

Geometry is stored in CGCS2000 (EPSG:4490); areas come from the county's Gauss-Kruger plane
(spatial.measure). Parcels are versioned: a change makes a new row and closes the old one's validity.
"""

from typing import ClassVar

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.indexes import GistIndex
from django.db.models.functions import Right
from django.utils import timezone

from core.crypto import EncryptedTextField


class RegionLevel(models.TextChoices):
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡镇"
    VILLAGE = "village", "行政村"
    GROUP = "group", "村民小组"


class Region(models.Model):
    """An administrative region (XJXZQ / XJQY / CJQY / ZJQY): its code is the scoping key."""

    code = models.CharField(max_length=14, unique=True, verbose_name="区域代码", db_comment="XZQDM / CJQYDM / ZJQYDM")
    name = models.CharField(max_length=50, verbose_name="名称", db_comment="XZQMC / CJQYMC / ZJQYMC")
    level = models.CharField(max_length=10, choices=RegionLevel.choices, verbose_name="级别")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="上级区域",
    )
    outline = models.MultiPolygonField(srid=4490, null=True, blank=True, verbose_name="范围")
    outline_3857 = models.GeneratedField(
        expression=Transform("outline", 3857),
        output_field=models.MultiPolygonField(srid=3857, null=True, spatial_index=False),
        db_persist=True,
        verbose_name="范围（Web 墨卡托，供切片）",
    )

    class Meta:
        verbose_name = verbose_name_plural = "行政区域"
        ordering = ["code"]
        indexes = [
            models.Index(fields=["code"], name="region_code_prefix", opclasses=["varchar_pattern_ops"]),
            GistIndex(fields=["outline_3857"], name="region_outline_3857_gist"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class CountySettings(models.Model):
    """A county's own settings: its code and the Gauss-Kruger plane that areas are measured in."""

    region = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="county_settings", verbose_name="县")
    measure_srid = models.PositiveIntegerField(
        verbose_name="量算坐标系 EPSG",
        help_text="CGCS2000 3° Gauss-Kruger, e.g. 4546 (CM 111°E) or 4525 (zone 37)",
    )

    class Meta:
        verbose_name = verbose_name_plural = "县级设置"

    def __str__(self) -> str:
        return f"{self.region.code} EPSG:{self.measure_srid}"

    @property
    def county_code(self) -> str:
        return self.region.code


class Issuer(models.Model):
    """发包方 FBF: the village committee or villager group that issues contracts."""

    fbfbm = models.CharField(max_length=14, unique=True, verbose_name="发包方编码", db_comment="NY/T 2539 FBF.FBFBM")
    name = models.CharField(max_length=50, verbose_name="发包方名称", db_comment="FBF.FBFMC")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="issuers", verbose_name="所在区域")
    person_in_charge = models.CharField(max_length=50, verbose_name="发包方负责人姓名", db_comment="FBF.FBFFZRXM")
    person_id_type = models.CharField(
        max_length=1, default="1", verbose_name="负责人证件类型", db_comment="FBF.FZRZJLX"
    )
    person_id_number = EncryptedTextField(blank=True, verbose_name="负责人证件号码（加密）", db_comment="FBF.FZRZJHM")
    phone = models.CharField(max_length=20, blank=True, verbose_name="联系电话", db_comment="FBF.LXDH")
    address = models.CharField(max_length=100, blank=True, verbose_name="发包方地址", db_comment="FBF.FBFDZ")
    postcode = models.CharField(max_length=6, blank=True, verbose_name="邮政编码", db_comment="FBF.YZBM")
    surveyor = models.CharField(max_length=50, blank=True, verbose_name="发包方调查员", db_comment="FBF.FBFDCY")
    survey_date = models.DateField(null=True, blank=True, verbose_name="发包方调查日期", db_comment="FBF.FBFDCRQ")
    survey_notes = models.TextField(blank=True, verbose_name="发包方调查记事", db_comment="FBF.FBFDCJS")
    territory = models.MultiPolygonField(srid=4490, null=True, blank=True, verbose_name="所辖范围")

    class Meta:
        verbose_name = verbose_name_plural = "发包方"
        ordering = ["fbfbm"]
        indexes = [models.Index(fields=["fbfbm"], name="issuer_code_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.fbfbm}）"


class VersionStatus(models.TextChoices):
    CURRENT = "current", "现势"
    SUPERSEDED = "superseded", "历史"
    CANCELLED = "cancelled", "注销"
    # A version prepared but not yet in force (a new contract awaiting filing 备案): its validity interval is
    # empty (valid_from = valid_to), so every "valid_to IS NULL" query for the current version skips it.
    PENDING = "pending", "待备案"


class Versioned(models.Model):
    """Nothing is overwritten: a change makes version n+1 and closes version n (valid_to)."""

    version = models.PositiveIntegerField(default=1, verbose_name="版本")
    valid_from = models.DateTimeField(verbose_name="生效时间")
    valid_to = models.DateTimeField(null=True, blank=True, verbose_name="失效时间")
    status = models.CharField(
        max_length=12, choices=VersionStatus.choices, default=VersionStatus.CURRENT, verbose_name="状态"
    )
    code_field: ClassVar[str]  # the code whose versions these are (dkbm, cbfbm, cbhtbm)

    class Meta:
        abstract = True


def versioned_constraints(*, field: str, model: str, label: str) -> list[models.BaseConstraint]:
    """One row per (code, version) and at most one current version per code."""
    return [
        models.UniqueConstraint(fields=[field, "version"], name=f"{model}_{label}_version_unique"),
        models.UniqueConstraint(
            fields=[field], condition=models.Q(valid_to__isnull=True), name=f"{model}_one_current_version"
        ),
    ]


class Parcel(Versioned):
    """地块 DK: every field of the DK layer, the geometry in EPSG:4490 and a stored EPSG:3857 copy."""

    code_field = "dkbm"

    bsm = models.BigIntegerField(null=True, blank=True, verbose_name="标识码", db_comment="DK.BSM")
    ysdm = models.CharField(max_length=6, default="211011", verbose_name="要素代码", db_comment="DK.YSDM")
    dkbm = models.CharField(max_length=19, verbose_name="地块编码", db_comment="DK.DKBM")
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="parcels", verbose_name="发包方")
    dkmc = models.CharField(max_length=50, verbose_name="地块名称", db_comment="DK.DKMC")
    syqxz = models.CharField(max_length=2, default="30", verbose_name="所有权性质", db_comment="DK.SYQXZ")
    dklb = models.CharField(max_length=2, default="10", verbose_name="地块类别", db_comment="DK.DKLB")
    tdlylx = models.CharField(max_length=3, blank=True, verbose_name="土地利用类型", db_comment="DK.TDLYLX")
    dldj = models.CharField(max_length=2, blank=True, verbose_name="地力等级", db_comment="DK.DLDJ")
    tdyt = models.CharField(max_length=1, default="1", verbose_name="土地用途", db_comment="DK.TDYT")
    sfjbnt = models.CharField(max_length=1, default="2", verbose_name="是否基本农田", db_comment="DK.SFJBNT")
    scmj = models.DecimalField(max_digits=15, decimal_places=2, verbose_name="实测面积（m²）", db_comment="DK.SCMJ")
    scmjm = models.DecimalField(max_digits=15, decimal_places=2, verbose_name="实测面积（亩）", db_comment="DK.SCMJM")
    dkdz = models.CharField(max_length=50, blank=True, verbose_name="地块东至", db_comment="DK.DKDZ")
    dkxz = models.CharField(max_length=50, blank=True, verbose_name="地块西至", db_comment="DK.DKXZ")
    dknz = models.CharField(max_length=50, blank=True, verbose_name="地块南至", db_comment="DK.DKNZ")
    dkbz = models.CharField(max_length=50, blank=True, verbose_name="地块北至", db_comment="DK.DKBZ")
    dkbzxx = models.CharField(max_length=254, blank=True, verbose_name="地块备注信息", db_comment="DK.DKBZXX")
    zjrxm = models.CharField(max_length=100, blank=True, verbose_name="指界人姓名", db_comment="DK.ZJRXM")
    kjzb = models.CharField(max_length=254, blank=True, verbose_name="空间坐标（关键界址点）", db_comment="DK.KJZB")
    geom = models.MultiPolygonField(srid=4490, verbose_name="地块范围（CGCS2000）")
    geom_3857 = models.GeneratedField(
        expression=Transform("geom", 3857),
        output_field=models.MultiPolygonField(srid=3857, spatial_index=False),
        db_persist=True,
        verbose_name="地块范围（Web 墨卡托，供切片）",
    )
    quality_flags = models.JSONField(default=dict, blank=True, verbose_name="质检标记")

    class Meta:
        verbose_name = verbose_name_plural = "地块"
        constraints = versioned_constraints(field="dkbm", model="parcel", label="dkbm")
        indexes = [
            models.Index(fields=["dkbm"], name="parcel_dkbm_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(Right("dkbm", 5), name="parcel_dkbm_last5"),  # search by the last five digits
            GistIndex(fields=["geom_3857"], name="parcel_geom_3857_gist"),
        ]

    def __str__(self) -> str:
        return f"{self.dkmc}（{self.dkbm} v{self.version}）"

    @property
    def four_sides(self) -> str:
        """四至 as printed on notices and contracts: 东 …；南 …；西 …；北 …"""
        return f"东 {self.dkdz or '—'}；南 {self.dknz or '—'}；西 {self.dkxz or '—'}；北 {self.dkbz or '—'}"


class BoundaryPoint(models.Model):
    """界址点 JZD: a point shared by adjacent parcels is one point."""

    bsm = models.BigIntegerField(null=True, blank=True, verbose_name="标识码", db_comment="JZD.BSM")
    ysdm = models.CharField(max_length=6, default="211021", verbose_name="要素代码", db_comment="JZD.YSDM")
    jzdh = models.CharField(max_length=10, verbose_name="界址点号", db_comment="JZD.JZDH")
    jzdlx = models.CharField(max_length=1, default="1", verbose_name="界址点类型", db_comment="JZD.JZDLX")
    jblx = models.CharField(max_length=1, default="6", verbose_name="界标类型", db_comment="JZD.JBLX")
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="boundary_points", verbose_name="发包方")
    parcels = models.ManyToManyField(Parcel, related_name="boundary_points", verbose_name="地块")  # JZD.DKBM
    xzbz = models.DecimalField(max_digits=13, decimal_places=3, verbose_name="X 坐标（北）", db_comment="JZD.XZBZ")
    yzbz = models.DecimalField(max_digits=13, decimal_places=3, verbose_name="Y 坐标（东）", db_comment="JZD.YZBZ")
    geom = models.PointField(srid=4490, verbose_name="位置")
    # Not overwritten either: a moved or changed point is closed (valid_to) and a new row made.
    valid_from = models.DateTimeField(default=timezone.now, verbose_name="生效时间")
    valid_to = models.DateTimeField(null=True, blank=True, verbose_name="失效时间")

    class Meta:
        verbose_name = verbose_name_plural = "界址点"
        indexes = [models.Index(fields=["issuer"], condition=models.Q(valid_to__isnull=True), name="jzd_current")]

    def __str__(self) -> str:
        return self.jzdh


class BoundaryLine(models.Model):
    """界址线 JZX between two boundary points, with the neighbouring right holder."""

    bsm = models.BigIntegerField(null=True, blank=True, verbose_name="标识码", db_comment="JZX.BSM")
    ysdm = models.CharField(max_length=6, default="211031", verbose_name="要素代码", db_comment="JZX.YSDM")
    jxxz = models.CharField(max_length=6, default="600001", verbose_name="界线性质", db_comment="JZX.JXXZ")
    jzxlb = models.CharField(max_length=2, default="01", verbose_name="界址线类别", db_comment="JZX.JZXLB")
    jzxwz = models.CharField(max_length=1, default="2", verbose_name="界址线位置", db_comment="JZX.JZXWZ")
    jzxsm = models.CharField(max_length=254, blank=True, verbose_name="界址线说明", db_comment="JZX.JZXSM")
    pldwqlr = models.CharField(max_length=100, blank=True, verbose_name="毗邻地物权利人", db_comment="JZX.PLDWQLR")
    pldwzjr = models.CharField(max_length=100, blank=True, verbose_name="毗邻地物指界人", db_comment="JZX.PLDWZJR")
    jzxh = models.CharField(max_length=10, verbose_name="界址线号", db_comment="JZX.JZXH")
    start_point = models.ForeignKey(
        BoundaryPoint,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="起界址点",
        db_comment="JZX.QJZDH",
    )
    end_point = models.ForeignKey(
        BoundaryPoint,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="止界址点",
        db_comment="JZX.ZJZDH",
    )
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="boundary_lines", verbose_name="发包方")
    parcels = models.ManyToManyField(Parcel, related_name="boundary_lines", verbose_name="地块")  # JZX.DKBM
    geom = models.LineStringField(srid=4490, verbose_name="位置")
    valid_from = models.DateTimeField(default=timezone.now, verbose_name="生效时间")
    valid_to = models.DateTimeField(null=True, blank=True, verbose_name="失效时间")

    class Meta:
        verbose_name = verbose_name_plural = "界址线"
        indexes = [models.Index(fields=["issuer"], condition=models.Q(valid_to__isnull=True), name="jzx_current")]

    def __str__(self) -> str:
        return self.jzxh
