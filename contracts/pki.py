"""The pilot's own certificate authority, made with `cryptography`: a root, an issuing CA under it, a
timestamp authority (RFC 3161, extended key usage timeStamping), and certificates for verified signers
(persons) and organisation seals (issuers). RSA 2048 throughout (pyHanko's timestamp signer needs RSA).

Private keys are stored encrypted with TIANJIE_PKI_KEY (AES-256-GCM; the key comes from the environment
and is never in the repository). Each certificate is a `SigningCertificate` row; the CA is created on
first use, under an advisory lock, so two workers never make two roots.
"""

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.db import connection, transaction

from audit import services as audit
from core.crypto import key_from_settings

from .models import SigningCertificate

Role = SigningCertificate.Role
ORG = "田界农村土地承包网签试点 Tianjie pilot"
YEARS = {Role.ROOT: 20, Role.ISSUING: 10, Role.TSA: 10, Role.PERSON: 3, Role.SEAL: 5}


@cache
def _aes() -> AESGCM:
    return AESGCM(hashlib.sha256(b"tianjie-pki-keys" + key_from_settings("TIANJIE_PKI_KEY")).digest())


def _seal_key(key: rsa.RSAPrivateKey) -> str:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _aes().encrypt(nonce, der, b"tianjie-pki")).decode("ascii")


def private_key(cert: SigningCertificate) -> rsa.RSAPrivateKey:
    blob = base64.b64decode(cert.key_encrypted)
    der = _aes().decrypt(blob[:12], blob[12:], b"tianjie-pki")
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def certificate(cert: SigningCertificate) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert.cert_pem.encode("ascii"))


def _name(common_name: str, unit: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG)]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _issue(
    *, role: str, subject: x509.Name, issuer: SigningCertificate | None, owner_code: str = ""
) -> SigningCertificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    years = YEARS[Role(role)]
    issuer_name = subject if issuer is None else certificate(issuer).subject
    signing_key = key if issuer is None else private_key(issuer)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    ca = role in (Role.ROOT, Role.ISSUING)
    builder = builder.add_extension(
        x509.BasicConstraints(ca=ca, path_length=(1 if role == Role.ROOT else 0) if ca else None), critical=True
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=role in (Role.PERSON, Role.SEAL),  # non-repudiation: a signer commits
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    if role == Role.TSA:  # RFC 3161 § 2.3: the only extended key usage, critical
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    cert = builder.sign(signing_key, hashes.SHA256())
    with transaction.atomic():
        made = _stored(role, subject, owner_code, cert, key)
        audit.record(
            actor=None,  # the platform: a CA on first use, or a signer's certificate the signing service asked for
            action="pki.certificate_issued",
            subject=made,
            region_code=owner_code,
            data={"role": role, "subject": made.subject, "serial": made.serial, "not_after": str(made.not_after)},
        )
    return made


def _stored(role: str, subject: x509.Name, owner_code: str, cert: x509.Certificate, key: Any) -> SigningCertificate:
    return SigningCertificate.objects.create(
        role=role,
        subject=str(subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value),
        owner_code=owner_code,
        serial=format(cert.serial_number, "x"),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        key_encrypted=_seal_key(key),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def _current(role: str) -> SigningCertificate | None:
    return SigningCertificate.objects.filter(role=role, revoked_at__isnull=True).first()


def _authority(role: str) -> SigningCertificate:
    """The CA certificate of `role`, made on first use. Reading takes no lock; making one takes a
    transaction-level advisory lock and looks again, so that two workers never make two roots (a row lock
    cannot do that: there is no row yet)."""
    found = _current(role)
    if found is not None:
        return found
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('tianjie-pki-authority'))")
        found = _current(role)
        if found is not None:
            return found
        if role == Role.ROOT:
            return _issue(role=role, subject=_name("田界试点根证书 Tianjie Pilot Root CA"), issuer=None)
        if role == Role.ISSUING:
            return _issue(
                role=role, subject=_name("田界试点签发证书 Tianjie Pilot Issuing CA"), issuer=_authority(Role.ROOT)
            )
        return _issue(
            role=role, subject=_name("田界时间戳服务 Tianjie Timestamp Authority"), issuer=_authority(Role.ISSUING)
        )


def root() -> SigningCertificate:
    return _authority(Role.ROOT)


def issuing_ca() -> SigningCertificate:
    return _authority(Role.ISSUING)


def tsa() -> SigningCertificate:
    return _authority(Role.TSA)


def signer_certificate_issue(*, role: str, common_name: str, owner_code: str, unit: str = "") -> SigningCertificate:
    """A new certificate for a verified person (owner_code: their household, CBFBM) or an issuer's seal
    (owner_code: FBFBM). The caller has checked the identity; contracts.signing records why."""
    if role not in (Role.PERSON, Role.SEAL):
        raise ValueError(f"not a signer role: {role}")
    return _issue(role=role, subject=_name(common_name, unit), issuer=issuing_ca(), owner_code=owner_code)
