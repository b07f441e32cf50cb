"""Contractor households 承包方, members, contracts 承包合同 with their parcels (CBDKXX) and certificates 权证.

ID numbers are encrypted at rest (core.crypto) with a keyed hash for exact lookups, and masked on display.
"""

from django.conf import settings
from django.db import models

from core.codes import mask_id_number, mask_phone
from core.crypto import EncryptedTextField
from spatial.models import Issuer, Parcel, Versioned, versioned_constraints


class Contractor(Versioned):
    """承包方 CBF: a household (农户), an individual or a unit."""

    code_field = "cbfbm"

    cbfbm = models.CharField(max_length=18, verbose_name="承包方编码", db_comment="CBF.CBFBM")
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="contractors", verbose_name="发包方")
    cbflx = models.CharField(max_length=1, default="1", verbose_name="承包方类型", db_comment="CBF.CBFLX")
    name = models.CharField(max_length=50, verbose_name="承包方名称（代表）", db_comment="CBF.CBFMC")
    id_type = models.CharField(max_length=1, default="1", verbose_name="证件类型", db_comment="CBF.CBFZJLX")
    id_number = EncryptedTextField(verbose_name="证件号码（加密）", db_comment="CBF.CBFZJHM, AES-GCM")
    id_number_hash = models.CharField(max_length=64, db_index=True, verbose_name="证件号码查找哈希")
    address = models.CharField(max_length=100, blank=True, verbose_name="地址", db_comment="CBF.CBFDZ")
    postcode = models.CharField(max_length=6, blank=True, verbose_name="邮政编码", db_comment="CBF.YZBM")
    phone = models.CharField(max_length=20, blank=True, verbose_name="联系电话", db_comment="CBF.LXDH")
    member_count = models.PositiveSmallIntegerField(default=0, verbose_name="成员数量", db_comment="CBF.CBFCYSL")
    survey_date = models.DateField(null=True, blank=True, verbose_name="调查日期", db_comment="CBF.CBFDCRQ")
    surveyor = models.CharField(max_length=50, blank=True, verbose_name="调查员", db_comment="CBF.CBFDCY")
    survey_notes = models.TextField(blank=True, verbose_name="调查记事", db_comment="CBF.CBFDCJS")
    publicity_notes = models.TextField(blank=True, verbose_name="公示记事", db_comment="CBF.GSJS")
    publicity_recorder = models.CharField(max_length=50, blank=True, verbose_name="公示记事人", db_comment="CBF.GSJSR")
    publicity_review_date = models.DateField(
        null=True, blank=True, verbose_name="公示审核日期", db_comment="CBF.GSSHRQ"
    )
    publicity_reviewer = models.CharField(max_length=50, blank=True, verbose_name="公示审核人", db_comment="CBF.GSSHR")

    class Meta:
        verbose_name = verbose_name_plural = "承包方"
        constraints = versioned_constraints(field="cbfbm", model="contractor", label="cbfbm")
        indexes = [
            models.Index(fields=["cbfbm"], name="contractor_cbfbm_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name"], name="contractor_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.cbfbm}）"

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class FamilyMember(models.Model):
    """家庭成员 CBF_JTCY of one contractor version."""

    contractor = models.ForeignKey(Contractor, on_delete=models.PROTECT, related_name="members", verbose_name="承包方")
    name = models.CharField(max_length=50, verbose_name="成员姓名", db_comment="CBF_JTCY.CYXM")
    sex = models.CharField(max_length=1, verbose_name="成员性别", db_comment="CBF_JTCY.CYXB (1 男, 2 女)")
    id_type = models.CharField(max_length=1, default="1", verbose_name="证件类型", db_comment="CBF_JTCY.CYZJLX")
    id_number = EncryptedTextField(blank=True, verbose_name="证件号码（加密）", db_comment="CBF_JTCY.CYZJHM, AES-GCM")
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, verbose_name="证件号码查找哈希")
    relation = models.CharField(max_length=2, verbose_name="与户主关系", db_comment="CBF_JTCY.YHZGX (GB/T 4761)")
    remark_code = models.CharField(max_length=1, blank=True, verbose_name="成员备注", db_comment="CBF_JTCY.CYBZ")
    is_co_owner = models.BooleanField(default=True, verbose_name="是否共有人", db_comment="CBF_JTCY.SFGYR")
    remark = models.CharField(max_length=254, blank=True, verbose_name="成员备注说明", db_comment="CBF_JTCY.CYBZSM")

    class Meta:
        verbose_name = verbose_name_plural = "家庭成员"

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)


class Contract(Versioned):
    """承包合同 CBHT."""

    code_field = "cbhtbm"

    cbhtbm = models.CharField(max_length=19, verbose_name="承包合同编码", db_comment="CBHT.CBHTBM")
    previous_code = models.CharField(
        max_length=19, blank=True, verbose_name="原承包合同编码", db_comment="CBHT.YCBHTBM"
    )
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="contracts", verbose_name="发包方")
    contractor = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, related_name="contracts", verbose_name="承包方"
    )
    method = models.CharField(max_length=3, default="110", verbose_name="承包方式", db_comment="CBHT.CBFS")
    term_start = models.DateField(verbose_name="承包期限起", db_comment="CBHT.CBQXQ")
    term_end = models.DateField(verbose_name="承包期限止", db_comment="CBHT.CBQXZ")
    total_area = models.DecimalField(
        max_digits=15, decimal_places=2, verbose_name="合同总面积（m²）", db_comment="CBHT.HTZMJ"
    )
    total_area_mu = models.DecimalField(
        max_digits=15, decimal_places=2, verbose_name="合同总面积（亩）", db_comment="CBHT.HTZMJM"
    )
    original_total_area = models.DecimalField(
        max_digits=15,
        decimal_places=2,
        null=True,
        blank=True,
        verbose_name="原合同总面积（m²）",
        db_comment="CBHT.YHTZMJ",
    )
    parcel_count = models.PositiveIntegerField(verbose_name="承包地块总数", db_comment="CBHT.CBDKZS")
    signed_on = models.DateField(null=True, blank=True, verbose_name="签订时间", db_comment="CBHT.QDSJ")
    # A draft's filing rules, owned here and checked by contracts.filing.contract_file (an application sets
    # them through contracts_hold / contracts_release; ARCHITECTURE.md "A rule is checked by the app that
    # owns the data"). Not NY/T 2539 fields.
    application_code = models.CharField(
        max_length=24,
        blank=True,
        db_default="",
        verbose_name="业务申请编号",
        help_text="the application whose approved change this draft carries (empty: none)",
    )
    filing_hold = models.CharField(
        max_length=300,
        blank=True,
        db_default="",
        verbose_name="暂不得备案的原因",
        help_text="why this draft may not be filed yet (its contract notice runs); empty when it may",
    )
    file_with = models.CharField(
        max_length=19,
        blank=True,
        db_default="",
        verbose_name="须一并备案的合同",
        help_text="the other household's draft that is filed in the same transaction as this one",
    )

    class Meta:
        verbose_name = verbose_name_plural = "承包合同"
        constraints = versioned_constraints(field="cbhtbm", model="contract", label="code")
        indexes = [models.Index(fields=["cbhtbm"], name="contract_code_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.cbhtbm


class ContractParcel(models.Model):
    """承包地块信息 CBDKXX: a parcel in a contract, with its contract area HTMJ."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="parcels", verbose_name="承包合同")
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="contract_entries", verbose_name="地块")
    dkbm = models.CharField(max_length=19, db_index=True, verbose_name="地块编码", db_comment="CBDKXX.DKBM")
    acquisition = models.CharField(
        max_length=3, default="110", verbose_name="承包经营权取得方式", db_comment="CBDKXX.CBJYQQDFS"
    )
    htmj = models.DecimalField(max_digits=15, decimal_places=2, verbose_name="合同面积（m²）", db_comment="CBDKXX.HTMJ")
    htmjm = models.DecimalField(
        max_digits=15, decimal_places=2, verbose_name="合同面积（亩）", db_comment="CBDKXX.HTMJM"
    )
    original_htmj = models.DecimalField(
        max_digits=15,
        decimal_places=2,
        null=True,
        blank=True,
        verbose_name="原合同面积（m²）",
        db_comment="CBDKXX.YHTMJ",
    )
    transfer_code = models.CharField(max_length=18, blank=True, verbose_name="流转合同编码", db_comment="CBDKXX.LZHTBM")
    certificate_code = models.CharField(
        max_length=19, blank=True, verbose_name="经营权证编码", db_comment="CBDKXX.CBJYQZBM"
    )
    confirmed_by_share = models.BooleanField(default=False, verbose_name="是否确权确股", db_comment="CBDKXX.SFQQQG")

    class Meta:
        verbose_name = verbose_name_plural = "承包地块信息"
        constraints = [models.UniqueConstraint(fields=["contract", "dkbm"], name="contract_parcel_unique")]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.dkbm}"


class CertificateStatus(models.TextChoices):
    ISSUED = "issued", "已颁发"
    RECALL = "recall", "待收回"
    CANCELLED = "cancelled", "已收回注销"


class Certificate(models.Model):
    """土地承包经营权证 CBJYQZ. A re-issue (换发, on filing a new contract) is a new row with the same code
    (the code follows the contract) and a new serial 流水号; the old row is marked for recall and, once the
    paper certificate is recovered and destroyed, cancelled. At most one row per code is in force."""

    cbjyqzbm = models.CharField(max_length=19, verbose_name="经营权证编码", db_comment="CBJYQZ.CBJYQZBM")
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="certificates", verbose_name="承包合同"
    )
    issuing_authority = models.CharField(max_length=50, verbose_name="发证机关", db_comment="CBJYQZ.FZJG")
    issued_on = models.DateField(verbose_name="发证日期", db_comment="CBJYQZ.FZRQ")
    collected = models.BooleanField(default=False, verbose_name="权证是否领取", db_comment="CBJYQZ.QZSFLQ")
    collected_on = models.DateField(null=True, blank=True, verbose_name="领取日期", db_comment="CBJYQZ.QZLQRQ")
    collector_name = models.CharField(max_length=50, blank=True, verbose_name="领取人姓名", db_comment="CBJYQZ.QZLQRXM")
    collector_id_type = models.CharField(
        max_length=1, blank=True, verbose_name="领取人证件类型", db_comment="CBJYQZ.QZLQRZJLX"
    )
    collector_id_number = EncryptedTextField(
        blank=True, verbose_name="领取人证件号码（加密）", db_comment="CBJYQZ.QZLQRZJHM"
    )
    status = models.CharField(
        max_length=10,
        choices=CertificateStatus.choices,
        default=CertificateStatus.ISSUED,
        verbose_name="状态",
    )
    # Written by filing (the bulk loaders leave them to the database defaults).
    serial = models.CharField(
        max_length=40, blank=True, db_default="", verbose_name="权证流水号", db_comment="CBJYQZDJB.CBJYQZLSH"
    )
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by", verbose_name="换发前权证"
    )
    recall_reason = models.CharField(max_length=200, blank=True, db_default="", verbose_name="收回原因")
    recall_since = models.DateTimeField(null=True, blank=True, verbose_name="待收回起")
    recovered_on = models.DateField(null=True, blank=True, verbose_name="收回日期")
    recovered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="收回经办人",
    )
    destroyed = models.BooleanField(default=False, db_default=False, verbose_name="已销毁")

    class Meta:
        verbose_name = verbose_name_plural = "土地承包经营权证"
        constraints = [
            models.UniqueConstraint(
                fields=["cbjyqzbm"], condition=models.Q(status="issued"), name="certificate_one_in_force"
            )
        ]
        indexes = [models.Index(fields=["cbjyqzbm"], name="certificate_code_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.cbjyqzbm


class RegisterEntry(models.Model):
    """登记簿 CBJYQZDJB: one entry per filing 备案 of a contract (the register is append-only; an entry is
    never changed), with the parcel sketch file DKSYT and who entered it (DBR) when (DJSJ)."""

    cbjyqzbm = models.CharField(max_length=19, verbose_name="经营权证编码", db_comment="CBJYQZDJB.CBJYQZBM")
    contract = models.OneToOneField(
        Contract, on_delete=models.PROTECT, related_name="register_entry", verbose_name="承包合同"
    )
    previous = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by_entry",
        verbose_name="被替代的合同",
    )
    document = models.ForeignKey(
        "ContractDocument", on_delete=models.PROTECT, related_name="register_entries", verbose_name="签署的合同文件"
    )
    certificate = models.OneToOneField(
        Certificate, on_delete=models.PROTECT, related_name="register_entry", verbose_name="权证"
    )
    fbfbm = models.CharField(max_length=14, verbose_name="发包方编码", db_comment="CBJYQZDJB.FBFBM")
    cbfbm = models.CharField(max_length=18, verbose_name="承包方编码", db_comment="CBJYQZDJB.CBFBM")
    cbfs = models.CharField(max_length=3, verbose_name="承包方式", db_comment="CBJYQZDJB.CBFS")
    cbqx = models.CharField(max_length=20, verbose_name="承包期限", db_comment="CBJYQZDJB.CBQX")
    cbqxq = models.DateField(verbose_name="承包期限起", db_comment="CBJYQZDJB.CBQXQ")
    cbqxz = models.DateField(verbose_name="承包期限止", db_comment="CBJYQZDJB.CBQXZ (长久不变 = 9999-01-01)")
    dksyt = models.CharField(max_length=300, verbose_name="地块示意图", db_comment="CBJYQZDJB.DKSYT")
    cbjyqzlsh = models.CharField(
        max_length=40, unique=True, verbose_name="权证流水号", db_comment="CBJYQZDJB.CBJYQZLSH"
    )
    dbr = models.CharField(max_length=50, verbose_name="登簿人", db_comment="CBJYQZDJB.DBR")
    djsj = models.DateTimeField(verbose_name="登记时间", db_comment="CBJYQZDJB.DJSJ")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="备案人")

    class Meta:
        verbose_name = verbose_name_plural = "登记簿"
        ordering = ["-djsj"]
        indexes = [models.Index(fields=["cbjyqzbm"], name="register_code_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.cbjyqzbm} {self.cbjyqzlsh}"


class SigningCertificate(models.Model):
    """A certificate of the platform's pilot CA (contracts.pki): the root, the issuing CA, the timestamp
    authority, a verified signer (person) or an organisation seal (the issuer). The private key is kept
    encrypted with TIANJIE_PKI_KEY (AES-GCM), never in plain text."""

    class Role(models.TextChoices):
        ROOT = "root", "根证书"
        ISSUING = "issuing", "签发证书"
        TSA = "tsa", "时间戳服务"
        PERSON = "person", "个人签名"
        SEAL = "seal", "单位印章"

    role = models.CharField(max_length=8, choices=Role.choices, verbose_name="用途")
    subject = models.CharField(max_length=200, verbose_name="主体")
    owner_code = models.CharField(max_length=19, blank=True, db_index=True, verbose_name="所属编码")
    serial = models.CharField(max_length=40, unique=True, verbose_name="序列号")
    cert_pem = models.TextField(verbose_name="证书（PEM）")
    key_encrypted = models.TextField(verbose_name="私钥（加密）")
    not_before = models.DateTimeField(verbose_name="生效")
    not_after = models.DateTimeField(verbose_name="到期")
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name="吊销时间")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="签发时间")

    class Meta:
        verbose_name = verbose_name_plural = "签名证书"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.subject}"


class ContractDocument(models.Model):
    """The contract as a PDF to be signed online: generated, then signed by the contractor and then the
    issuer (each an incremental update of the file)."""

    class Status(models.TextChoices):
        AWAITING_CONTRACTOR = "contractor", "待承包方签署"
        AWAITING_ISSUER = "issuer", "待发包方签署"
        SIGNED = "signed", "已签署"
        SIGNED_ON_PAPER = "paper", "纸质签署（已上传扫描件）"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="documents", verbose_name="合同")
    path = models.CharField(max_length=300, verbose_name="文件")  # under MEDIA_ROOT/contracts
    sha256 = models.CharField(max_length=64, verbose_name="SHA-256")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.AWAITING_CONTRACTOR, verbose_name="状态"
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="生成时间")

    class Meta:
        verbose_name = verbose_name_plural = "合同文件"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.get_status_display()}"


class ContractSignature(models.Model):
    class Role(models.TextChoices):
        CONTRACTOR = "contractor", "承包方"
        ISSUER = "issuer", "发包方"

    document = models.ForeignKey(
        ContractDocument, on_delete=models.PROTECT, related_name="signatures", verbose_name="合同文件"
    )
    role = models.CharField(max_length=10, choices=Role.choices, verbose_name="签署方")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="签署人")
    certificate = models.ForeignKey(SigningCertificate, on_delete=models.PROTECT, verbose_name="证书")
    identity = models.ForeignKey(
        "accounts.IdentityCheck", null=True, blank=True, on_delete=models.PROTECT, verbose_name="实名认证"
    )
    signed_at = models.DateTimeField(auto_now_add=True, verbose_name="签署时间")
    sha256_after = models.CharField(max_length=64, verbose_name="签署后 SHA-256")

    class Meta:
        verbose_name = verbose_name_plural = "合同签名"
        constraints = [models.UniqueConstraint(fields=["document", "role"], name="contract_signature_once")]

    def __str__(self) -> str:
        return f"{self.document_id} {self.get_role_display()}"


class ContractScan(models.Model):
    """The paper path: the printed contract, signed by hand and stamped, scanned and attached with its
    hash (contracts.paper checks the scan)."""

    document = models.ForeignKey(
        ContractDocument, on_delete=models.PROTECT, related_name="scans", verbose_name="合同文件"
    )
    files = models.JSONField(default=list, verbose_name="扫描件")  # paths under MEDIA_ROOT/scans
    sha256 = models.CharField(max_length=64, verbose_name="SHA-256")  # of the files, in order
    pages = models.PositiveSmallIntegerField(verbose_name="页数")
    min_ppi = models.PositiveIntegerField(verbose_name="最低分辨率（ppi）")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="上传人")
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name="上传时间")

    class Meta:
        verbose_name = verbose_name_plural = "合同扫描件"
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.document_id} 扫描件 {self.pages} 页"
