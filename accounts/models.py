"""Users and offices: an office is a role held at one region; the region code is the user's scope."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from spatial.models import Region


class User(AbstractUser):
    """A person who logs in. What they may see and do comes from their offices."""

    real_name = models.CharField(max_length=50, blank=True, verbose_name="姓名")
    phone = models.CharField(max_length=20, blank=True, verbose_name="手机号")

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.real_name or self.username


class Role(models.TextChoices):
    COUNTY_AGRICULTURE = "county_agriculture", "县农业农村局"
    COUNTY_NATURAL_RESOURCES = "county_natural_resources", "县自然资源局"
    TOWNSHIP = "township", "乡镇人民政府"
    VILLAGE = "village", "村民委员会"
    GROUP_ISSUER = "group_issuer", "村民小组（发包方）"
    SURVEYOR = "surveyor", "测绘单位"
    FARMER = "farmer", "承包农户"


# The region level each role sits at; a farmer's office sits at their issuer's region.
ROLE_LEVELS: dict[str, set[str]] = {
    Role.COUNTY_AGRICULTURE: {"county"},
    Role.COUNTY_NATURAL_RESOURCES: {"county"},
    Role.TOWNSHIP: {"township"},
    Role.VILLAGE: {"village"},
    Role.GROUP_ISSUER: {"group", "village"},
    Role.SURVEYOR: {"county"},
    Role.FARMER: {"group", "village"},
}


class Office(models.Model):
    """A role held by a user at one region (县、乡镇、村、组); scoping is a prefix match on its code."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="offices", verbose_name="用户")
    role = models.CharField(max_length=30, choices=Role.choices, verbose_name="岗位")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="offices", verbose_name="所在区域")
    organisation = models.CharField(max_length=100, blank=True, verbose_name="单位名称")
    contractor_code = models.CharField(
        max_length=18,
        blank=True,
        verbose_name="承包方编码",
        help_text="for farmers: the household they belong to",
    )
    active = models.BooleanField(default=True, verbose_name="有效")

    class Meta:
        verbose_name = verbose_name_plural = "岗位"
        constraints = [models.UniqueConstraint(fields=["user", "role", "region"], name="office_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region.name}"

    @property
    def scope_code(self) -> str:
        return self.region.code
