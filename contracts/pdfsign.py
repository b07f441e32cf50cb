"""PAdES signatures on contract PDFs with pyHanko, timestamped by the platform's timestamp authority, and
their verification against the platform's root.

The first signature (the contractor's) certifies the document with DocMDP "fill forms": the issuer may
then sign in its own field, and any other change after signing (an incremental update that changes the
content, one changed byte) makes verification fail. Verification runs offline (no fetching): the pilot CA
publishes no CRL or OCSP yet, so revocation is checked in soft-fail mode (see the note in docs).
"""

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import pki
from .models import SigningCertificate


def _asn1_cert(cert: SigningCertificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(pki.certificate(cert).public_bytes(serialization.Encoding.DER))


def _asn1_key(cert: SigningCertificate) -> asn1_keys.PrivateKeyInfo:
    der = pki.private_key(cert).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_keys.PrivateKeyInfo.load(der)


def timestamper() -> DummyTimeStamper:
    """The platform's RFC 3161 timestamp authority (pyHanko's own TSA implementation, with our TSA
    certificate; also served over HTTP at /tsa/)."""
    authority = pki.tsa()
    chain = SimpleCertificateStore.from_certs([_asn1_cert(pki.issuing_ca()), _asn1_cert(pki.root())])
    return DummyTimeStamper(tsa_cert=_asn1_cert(authority), tsa_key=_asn1_key(authority), certs_to_embed=chain)


def tsa_respond(request_der: bytes) -> bytes:
    """Answer one DER-encoded TimeStampReq with a DER-encoded TimeStampResp."""
    return timestamper().request_tsa_response(tsp.TimeStampReq.load(request_der)).dump()


def sign_pdf(
    pdf: bytes, *, cert: SigningCertificate, field_name: str, reason: str, location: str, certify: bool = False
) -> bytes:
    """Add one signature (an incremental update) in `field_name`, timestamped; returns the new PDF."""
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(cert),
        signing_key=_asn1_key(cert),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(pki.issuing_ca()), _asn1_cert(pki.root())]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    out = signers.PdfSigner(meta, signer=signer, timestamper=timestamper()).sign_pdf(writer)
    return out.getvalue()


@dataclass
class SignatureReport:
    field_name: str
    signer: str
    signed_at: datetime | None  # the timestamp authority's time
    intact: bool
    valid: bool
    trusted: bool
    timestamp_ok: bool
    unchanged_since: bool  # nothing but allowed additions (further signatures) came after it
    problems: list[str] = dataclass_field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.timestamp_ok and self.unchanged_since


@dataclass
class VerifyReport:
    signatures: list[SignatureReport]
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.signatures) and all(s.ok for s in self.signatures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error,
            "signatures": [
                {**s.__dict__, "signed_at": s.signed_at.isoformat() if s.signed_at else None, "ok": s.ok}
                for s in self.signatures
            ],
        }


def verify_pdf(pdf: bytes) -> VerifyReport:
    """Every signature in the PDF, checked against the platform root: intact, valid, trusted, timestamped,
    and nothing changed after it beyond what its certification allows."""
    roots = [_asn1_cert(pki.root())]
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError) as exc:
        return VerifyReport([], error=f"不是可读的 PDF / not a readable PDF: {exc}")
    if not embedded:
        return VerifyReport([], error="文件中没有签名 / the file carries no signature")
    out = []
    for sig in embedded:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(sig, signer_validation_context=context)
        except Exception as exc:  # a broken signature dictionary or CMS blob: reported, never raised
            out.append(SignatureReport(sig.field_name, "?", None, False, False, False, False, False, [str(exc)]))
            continue
        ts = status.timestamp_validity
        cert = status.signing_cert
        problems = []
        unchanged = status.docmdp_ok or status.modification_level is None
        if not status.intact:
            problems.append("签名后内容被改动 / the signed bytes were changed")
        if not unchanged:
            problems.append("签名后有不允许的修改 / modified after signing beyond what was allowed")
        if not status.trusted:
            problems.append("证书不是本平台签发的 / the certificate is not from this platform's CA")
        out.append(
            SignatureReport(
                field_name=sig.field_name,
                signer=cert.subject.native.get("common_name", "?") if cert else "?",
                signed_at=ts.timestamp if ts else None,
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                timestamp_ok=bool(ts and ts.intact and ts.valid and ts.trusted),
                unchanged_since=bool(unchanged),
                problems=problems,
            )
        )
    return VerifyReport(out)
