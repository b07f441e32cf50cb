"""Users and offices: an office is a role held at one region; the region code is the user's scope."""

from django.conf import settings
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


class IdentityCheck(models.Model):
    """实名认证: a person's ID checked against the registry and confirmed by a verifier (accounts.identity);
    the ID number itself is kept only as a keyed hash and masked."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="identity_checks", verbose_name="用户")
    name = models.CharField(max_length=50, verbose_name="姓名")
    id_number_hash = models.CharField(max_length=64, db_index=True, verbose_name="证件号码查找哈希")
    id_masked = models.CharField(max_length=30, verbose_name="证件号码（掩码）")
    household_code = models.CharField(max_length=18, blank=True, verbose_name="所属承包方编码")
    method = models.CharField(max_length=30, verbose_name="核验方式")  # e.g. "officer_attested"
    attested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="核验人"
    )
    id_card_images = models.JSONField(default=list, verbose_name="身份证照片")  # paths under MEDIA_ROOT
    verified_at = models.DateTimeField(auto_now_add=True, verbose_name="核验时间")

    class Meta:
        verbose_name = verbose_name_plural = "实名认证"
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.id_masked}（{self.method}）"


class OneTimeCode(models.Model):
    """意愿认证: a six-digit code sent to the signer for one purpose, valid ten minutes, used once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", verbose_name="用户")
    purpose = models.CharField(max_length=100, verbose_name="用途")
    code_hash = models.CharField(max_length=64, verbose_name="验证码哈希")
    expires_at = models.DateTimeField(verbose_name="过期时间")
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name="尝试次数")
    used_at = models.DateTimeField(null=True, blank=True, verbose_name="使用时间")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="发送时间")

    class Meta:
        verbose_name = verbose_name_plural = "一次性验证码"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.purpose}"


class Notification(models.Model):
    """An in-app message (the list a user sees, /notifications/); SMS/WeChat go through accounts.messaging's
    senders. The table keeps its first name: the model was publicity's until the inbox moved to the app that
    owns users."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="接收人"
    )
    title = models.CharField(max_length=200, verbose_name="标题")
    body = models.TextField(blank=True, verbose_name="内容")
    url = models.CharField(max_length=300, blank=True, verbose_name="链接")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="时间")
    read_at = models.DateTimeField(null=True, blank=True, verbose_name="已读时间")

    class Meta:
        db_table = "publicity_notification"
        verbose_name = verbose_name_plural = "站内通知"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title
