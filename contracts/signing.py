"""Online signing 网签 of a household contract: identity checked against the registry, the document
generated, signed by the contractor (certifying) and then by the issuer with its seal, each after a
one-time code, each timestamped; every step audited.

The document is always of a draft (contracts.filing.contract_draft); filing follows in contracts.filing.
"""

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.identity import OfficerAttestation, identity_of, identity_record, otp_verify
from accounts.models import IdentityCheck, User
from accounts.scoping import can
from audit import services as audit
from core.codes import issuer_of, validate_resident_id
from core.crypto import lookup_hash
from core.errors import DomainError, PermissionDeniedError
from core.progress import check_image, store_upload
from spatial.models import VersionStatus

from . import pki
from .document import contract_pdf
from .models import Contract, ContractDocument, Contractor, ContractSignature, SigningCertificate
from .pdfsign import sign_pdf

Role = ContractSignature.Role


class SigningError(DomainError):
    default_code = "signing_invalid"


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "contracts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(document_pk: int, label: str, pdf: bytes) -> tuple[str, str]:
    path = _folder() / f"{document_pk}-{label}.pdf"
    path.write_bytes(pdf)
    return str(path), hashlib.sha256(pdf).hexdigest()


def sign_purpose(document: ContractDocument, role: str) -> str:
    """What a one-time code is for: this document, this party."""
    return f"签署合同 {document.contract.cbhtbm}（{Role(role).label}）#{document.pk}"


@transaction.atomic
def signer_identity_verify(
    *,
    actor: User,
    person: User,
    household: Contractor,
    name: str,
    id_number: str,
    attested: bool,
    id_card_images: list[UploadedFile] | None = None,
) -> IdentityCheck:
    """实名认证 of a household member, by a village officer in person: the name and ID number must be a
    member's of this household in the registry (the check digit too), and the officer attests the person
    matches the ID card. The person then gets a signing certificate."""
    id_number = validate_resident_id(id_number)  # the check digit first: a typing mistake says so
    member = next(
        (m for m in household.members.all() if m.id_number_hash == lookup_hash(id_number) and m.name == name.strip()),
        None,
    )
    if member is None and not (household.id_number_hash == lookup_hash(id_number) and household.name == name.strip()):
        raise SigningError(
            "姓名与证件号码不是该承包方家庭成员", "name and ID number are not of a member of this household"
        )
    uploads = id_card_images or []
    for f in uploads:
        check_image(f, formats=("JPEG",))
    images = [str(store_upload(f, "id-cards", ".jpg")) for f in uploads]
    check = identity_record(
        actor=actor,
        person=person,
        name=name.strip(),
        id_number=id_number,
        household_code=household.cbfbm,
        verifier=OfficerAttestation(actor),
        evidence={"attested": attested, "images": images},
        region_code=issuer_of(household.cbfbm),
    )
    cert = pki.signer_certificate_issue(role="person", common_name=check.name, owner_code=household.cbfbm)
    audit.record(
        actor=actor,
        action="certificate.issued",
        subject=cert,
        region_code=household.cbfbm,
        data={"role": "person", "serial": cert.serial, "identity": check.pk},
    )
    return check


@transaction.atomic
def document_generate(*, actor: User, contract: Contract) -> ContractDocument:
    """The contract's PDF, awaiting the contractor's signature (the issuer's officer starts it)."""
    if not can(actor, "contracts.sign_issuer", contract.issuer.fbfbm):
        raise PermissionDeniedError("只有发包方可以生成待签合同", "only the issuer prepares a contract for signing")
    if contract.status != VersionStatus.PENDING:
        raise SigningError(
            "只能为待备案的合同草稿生成签署文件（先起草新合同）",
            "a document is generated for a draft awaiting filing only: draft the new contract first",
            code="not_pending",
        )
    document = ContractDocument.objects.create(contract=contract, path="", sha256="")
    document.path, document.sha256 = _write(document.pk, "0", contract_pdf(contract))
    document.save(update_fields=["path", "sha256"])
    audit.record(
        actor=actor,
        action="contract.document_generated",
        subject=document,
        region_code=contract.cbhtbm,
        data={"contract": contract.cbhtbm, "sha256": document.sha256},
    )
    return document


def _seal(issuer_code: str, name: str) -> SigningCertificate:
    found = SigningCertificate.objects.filter(role="seal", owner_code=issuer_code, revoked_at__isnull=True).first()
    return found or pki.signer_certificate_issue(role="seal", common_name=name, owner_code=issuer_code, unit="发包方")


def _signer(actor: User, document: ContractDocument, role: str) -> tuple[SigningCertificate, IdentityCheck | None]:
    """Check the turn and the signer; the certificate to sign with, and the signer's identity check."""
    contract = document.contract
    expected = {
        ContractDocument.Status.AWAITING_CONTRACTOR: Role.CONTRACTOR,
        ContractDocument.Status.AWAITING_ISSUER: Role.ISSUER,
    }.get(ContractDocument.Status(document.status))
    if expected is None:
        raise SigningError("合同已签署完毕", "the contract is already signed")
    if contract.status != VersionStatus.PENDING:
        raise SigningError("这份合同草稿已备案或已作废", "this draft has been filed or withdrawn", code="not_pending")
    if role != expected:
        raise SigningError(
            f"现在应由{Role(expected).label}签署", f"it is the {expected}'s turn to sign", code="signing_out_of_turn"
        )
    if role == Role.ISSUER:
        if not can(actor, "contracts.sign_issuer", contract.issuer.fbfbm):
            raise PermissionDeniedError(
                "只有发包方的村组干部可以代表发包方签署", "only the issuer's officer signs for it"
            )
        return _seal(contract.issuer.fbfbm, contract.issuer.name), None
    identity = identity_of(actor, contract.contractor.cbfbm)
    if identity is None:
        raise PermissionDeniedError(
            "签署人不是经实名认证的本户成员", "the signer is not a verified member of this household"
        )
    certs = SigningCertificate.objects.filter(role="person", owner_code=contract.contractor.cbfbm)
    cert = certs.filter(subject=identity.name, revoked_at__isnull=True).order_by("-created_at").first()
    if cert is None:
        raise SigningError("签署人没有签名证书", "the signer has no signing certificate")
    return cert, identity


def document_sign(*, actor: User, document: ContractDocument, role: str, code: str) -> ContractDocument:
    """Sign as `role`: the contractor first (a verified member of the household), then the issuer (its
    officer, with the issuer's seal). The one-time code confirms the intent (意愿认证); it is checked in
    its own transaction, before the signing one, so that a wrong try counts even though nothing is signed."""
    _signer(
        actor,
        ContractDocument.objects.select_related("contract__issuer", "contract__contractor").get(pk=document.pk),
        role,
    )
    otp_verify(user=actor, purpose=sign_purpose(document, role), code=code)
    return _sign(actor=actor, document=document, role=role)


@transaction.atomic
def _sign(*, actor: User, document: ContractDocument, role: str) -> ContractDocument:
    rows = ContractDocument.objects.select_for_update().select_related("contract__issuer", "contract__contractor")
    document = rows.get(pk=document.pk)
    contract = document.contract
    cert, identity = _signer(actor, document, role)  # again, under the lock: the turn may have passed
    before = Path(document.path).read_bytes()
    if hashlib.sha256(before).hexdigest() != document.sha256:
        raise SigningError(
            "合同文件与记录不符，已停止签署", "the stored file does not match its record: signing stopped"
        )
    signed = sign_pdf(
        before,
        cert=cert,
        field_name=role,
        reason="承包方签订合同" if role == Role.CONTRACTOR else "发包方签订合同并盖章",
        location=contract.issuer.name,
        certify=role == Role.CONTRACTOR,
    )
    document.path, document.sha256 = _write(document.pk, role, signed)
    document.status = (
        ContractDocument.Status.AWAITING_ISSUER if role == Role.CONTRACTOR else ContractDocument.Status.SIGNED
    )
    document.save(update_fields=["path", "sha256", "status"])
    signature = ContractSignature.objects.create(
        document=document, role=role, signer=actor, certificate=cert, identity=identity, sha256_after=document.sha256
    )
    audit.record(
        actor=actor,
        action="contract.signed",
        subject=signature,
        region_code=contract.cbhtbm,
        data={"contract": contract.cbhtbm, "role": role, "certificate": cert.serial, "sha256": document.sha256},
    )
    return document


def signed_pdf(document: ContractDocument) -> bytes:
    return Path(document.path).read_bytes()
