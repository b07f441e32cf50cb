"""实名认证 and 意愿认证: who a signer is, and that they mean to sign now.

* `IdentityVerifier` is the interface for the face-verification step. The local, real implementation is
  `OfficerAttestation`: a village or township officer, in person, attests that the person matches the
  ID card. A certified third-party face service can implement the same interface later.
* `identity_record` stores an IdentityCheck after the caller (contracts: the household member matched
  in the registry) and the verifier agree. ID numbers go in only as a keyed hash and masked.
* One-time codes: `otp_issue` sends a six-digit code (accounts.messaging) for one purpose, valid ten
  minutes, at most three per user and purpose in fifteen minutes; `otp_verify` uses it once. Wrong tries
  count across the codes of a user and purpose: after five in an hour, that purpose is locked for the
  rest of the hour, whatever code is sent next (a new code does not reset the count).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

from audit import services as audit
from core.codes import mask_id_number, validate_resident_id
from core.crypto import lookup_hash
from core.errors import DomainError, PermissionDeniedError

from .messaging import send_all
from .models import IdentityCheck, OneTimeCode, User
from .scoping import can

OTP_MINUTES = 10
OTP_ISSUE_LIMIT, OTP_ISSUE_WINDOW = 3, timedelta(minutes=15)  # codes per user and purpose
OTP_ATTEMPTS, OTP_LOCK_WINDOW = 5, timedelta(hours=1)  # wrong tries per user and purpose, across codes


class IdentityError(DomainError):
    default_code = "identity_invalid"


@dataclass
class Verdict:
    ok: bool
    method: str
    attested_by: User | None = None
    reason: str = ""


class IdentityVerifier(Protocol):
    def verify(self, *, person: User, name: str, region_code: str, evidence: dict[str, Any]) -> Verdict: ...


class OfficerAttestation:
    """The officer who sees the person and the ID card says they match (recorded with time and officer)."""

    method = "officer_attested"

    def __init__(self, officer: User) -> None:
        self.officer = officer

    def verify(self, *, person: User, name: str, region_code: str, evidence: dict[str, Any]) -> Verdict:
        if not can(self.officer, "identity.attest", region_code):
            raise PermissionDeniedError(
                "只有本村（乡镇）的干部可以当面核验身份", "only an officer of the person's village or township attests"
            )
        if not evidence.get("attested"):
            return Verdict(False, self.method, self.officer, "核验人未确认本人与身份证一致 / not attested")
        return Verdict(True, self.method, self.officer)


@transaction.atomic
def identity_record(
    *,
    actor: Any,
    person: User,
    name: str,
    id_number: str,
    household_code: str,
    verifier: IdentityVerifier,
    evidence: dict[str, Any],
    region_code: str,
) -> IdentityCheck:
    """Record a real-name check; the caller has matched name and ID number to the registry."""
    id_number = validate_resident_id(id_number)
    verdict = verifier.verify(person=person, name=name, region_code=region_code, evidence=evidence)
    if not verdict.ok:
        raise IdentityError(f"身份核验未通过：{verdict.reason}", f"identity not verified: {verdict.reason}")
    check = IdentityCheck.objects.create(
        user=person,
        name=name,
        id_number_hash=lookup_hash(id_number),
        id_masked=mask_id_number(id_number),
        household_code=household_code,
        method=verdict.method,
        attested_by=verdict.attested_by,
        id_card_images=list(evidence.get("images", [])),
    )
    audit.record(
        actor=actor,
        action="identity.verified",
        subject=check,
        region_code=region_code,
        data={"user": person.pk, "method": verdict.method, "household": household_code},
    )
    return check


def identity_of(user: User, household_code: str) -> IdentityCheck | None:
    return IdentityCheck.objects.filter(user=user, household_code=household_code).first()


def _hash(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def _wrong_tries(user: User, purpose: str, now: datetime) -> int:
    """Wrong tries of this user and purpose in the lock-out window, over every code sent in it."""
    rows = OneTimeCode.objects.filter(user=user, purpose=purpose, created_at__gte=now - OTP_LOCK_WINDOW)
    return sum(rows.values_list("attempts", flat=True))


def _ensure_not_locked(user: User, purpose: str, now: datetime) -> None:
    if _wrong_tries(user, purpose, now) >= OTP_ATTEMPTS:
        raise IdentityError(
            "验证码错误次数过多，已锁定，请一小时后再试",
            "too many wrong codes: locked for an hour",
            code="otp_locked",
        )


@transaction.atomic
def otp_issue(*, user: User, purpose: str) -> str:
    """A new code for `purpose` (earlier unused ones for it lapse), sent to the user once the caller's
    transaction commits; returned for tests only. Refused while the purpose is locked, and past
    OTP_ISSUE_LIMIT codes in OTP_ISSUE_WINDOW."""
    now = datetime.now(UTC)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one issue at a time per user: the count holds
    _ensure_not_locked(user, purpose, now)
    if OneTimeCode.objects.filter(user=user, purpose=purpose, created_at__gte=now - OTP_ISSUE_WINDOW).count() >= (
        OTP_ISSUE_LIMIT
    ):
        raise IdentityError(
            "验证码发送过于频繁，请 15 分钟后再试", "too many codes sent: try again in 15 minutes", code="otp_too_many"
        )
    OneTimeCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(expires_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = OneTimeCode.objects.create(
        user=user, purpose=purpose, code_hash=_hash(code), expires_at=datetime.now(UTC) + timedelta(minutes=OTP_MINUTES)
    )
    audit.record(actor=user, action="otp.issued", subject=row, data={"purpose": purpose[:100]})  # never the code
    send_all(
        user, title="田界验证码", body=f"您的验证码 {code}，{OTP_MINUTES} 分钟内有效，用于：{purpose}", channel="otp"
    )
    return code


def otp_verify(*, user: User, purpose: str, code: str) -> None:
    """Use the code once; a typed error when it is wrong, expired or tried too often. Call it outside the
    caller's transaction: a wrong try must be counted (committed) even though the caller's work is not."""
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=datetime.now(UTC))
            .first()
        )
        if row is None:
            raise IdentityError("验证码已过期或未发送，请重新获取", "the code has expired or was not sent: ask again")
        _ensure_not_locked(user, purpose, datetime.now(UTC))
        if not hmac.compare_digest(row.code_hash, _hash((code or "").strip())):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            wrong = True
        else:
            row.used_at = datetime.now(UTC)
            row.save(update_fields=["used_at"])
            wrong = False
        audit.record(
            actor=user,
            action="otp.wrong" if wrong else "otp.used",
            subject=row,
            data={"purpose": purpose[:100], "attempts": row.attempts},
        )
    if wrong:
        raise IdentityError("验证码不正确", "the code is not right", code="otp_wrong")
