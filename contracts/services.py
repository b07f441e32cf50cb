"""Writes to contractors and their members: permission check, validation, one transaction, audit event.

Contracts, signing and filing come with the contracts issue; this module holds the registry's people.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from audit import services as audit
from core.codes import contractor_type_of, validate_cbfbm, validate_id_document
from core.crypto import lookup_hash
from core.errors import CodeError, DuplicateCodeError
from core.ports import ensure
from spatial.models import Issuer, VersionStatus
from spatial.services import version_put_in_force

from .models import Contractor, FamilyMember


@dataclass(frozen=True)
class MemberInput:
    name: str
    sex: str
    id_number: str
    relation: str
    id_type: str = "1"
    is_co_owner: bool = True


@transaction.atomic
def contractor_create(
    *,
    actor: Any,
    issuer: Issuer,
    cbfbm: str,
    name: str,
    id_number: str,
    id_type: str = "1",
    members: list[MemberInput] | None = None,
    **fields: Any,
) -> Contractor:
    """Register a household (or individual/unit) with its members; ID numbers validated and encrypted."""
    validate_cbfbm(cbfbm, issuer.fbfbm)
    ensure(actor, "contractors.edit", cbfbm)
    id_number = validate_id_document(id_type, id_number)
    members = members or []
    _check_members(members)
    if Contractor.objects.filter(cbfbm=cbfbm).exists():
        raise DuplicateCodeError(f"承包方编码 {cbfbm} 已存在", f"contractor code {cbfbm} already exists", field="cbfbm")
    contractor = Contractor.objects.create(
        cbfbm=cbfbm,
        issuer=issuer,
        cbflx=contractor_type_of(cbfbm),
        name=name,
        id_type=id_type,
        id_number=id_number,
        id_number_hash=lookup_hash(id_number),
        member_count=len(members),
        valid_from=datetime.now(UTC),
        **fields,
    )
    FamilyMember.objects.bulk_create(_member_rows(contractor, members))
    # Never the ID number itself in the audit data: only the code and the member count.
    audit.record(
        actor=actor,
        action="contractor.created",
        subject=contractor,
        region_code=cbfbm,
        data={"cbfbm": cbfbm, "members": len(members)},
    )
    return contractor


def _member_rows(contractor: Contractor, members: list[MemberInput]) -> list[FamilyMember]:
    """New members of a household version, their ID numbers encrypted with a lookup hash beside."""
    return [
        FamilyMember(
            contractor=contractor,
            name=m.name,
            sex=m.sex,
            id_type=m.id_type,
            id_number=validate_id_document(m.id_type, m.id_number),
            id_number_hash=lookup_hash(m.id_number),
            relation=m.relation,
            is_co_owner=m.is_co_owner,
        )
        for m in members
    ]


def _check_members(members: list[MemberInput]) -> None:
    for m in members:
        validate_id_document(m.id_type, m.id_number)
        if m.sex not in ("1", "2"):
            raise CodeError("成员性别应为 1（男）或 2（女）", "member sex must be 1 (male) or 2 (female)", field="sex")
    if len({lookup_hash(m.id_number) for m in members}) != len(members):
        raise DuplicateCodeError("同一户内证件号码重复", "two members share an ID number", field="members")


@transaction.atomic
def contractor_stage(
    *,
    actor: Any,
    contractor: Contractor,
    removed: list[int] | None = None,
    added: list[MemberInput] | None = None,
    representative: int | None = None,
) -> Contractor:
    """A pending version of a household (待备案) with its members changed: `removed` are member ids of the
    current version, `added` new members, `representative` the id of the member who becomes the
    representative (CBFMC and its ID number). The current version stays in force until the contract that
    holds the pending one is filed (`contractor_versions_activate`)."""
    ensure(actor, "contractors.edit", contractor.cbfbm)
    versions = list(Contractor.objects.select_for_update().filter(cbfbm=contractor.cbfbm).order_by("version"))
    current = next((v for v in versions if v.valid_to is None), None)
    if current is None:
        raise CodeError("承包方没有现行记录", "the household has no current record", field="cbfbm")
    if any(v.status == VersionStatus.PENDING for v in versions):
        raise DuplicateCodeError("该户已有一个待备案的变更", "a change of this household is already waiting")
    members = list(current.members.all())
    ids = {m.pk for m in members}
    unknown = sorted(set(removed or []) - ids) + (
        [representative] if representative and representative not in ids else []
    )
    if unknown:
        raise CodeError("所选成员不在本户现有成员中", "the chosen members are not this household's", field="members")
    if representative and representative in (removed or []):
        raise CodeError("新的承包方代表不能是被移出的成员", "the new representative cannot be removed", field="members")
    added = added or []
    kept = [m for m in members if m.pk not in set(removed or [])]
    _check_members(added)
    hashes = [m.id_number_hash for m in kept if m.id_number_hash] + [lookup_hash(m.id_number) for m in added]
    if len(set(hashes)) != len(hashes):
        raise DuplicateCodeError(
            "新成员的证件号码与现有成员重复", "a new member's ID number is already in the household"
        )
    if not kept and not added:
        raise CodeError("变更后户内至少要有一名成员", "the household keeps at least one member", field="members")
    data = {
        f.attname: getattr(current, f.attname)
        for f in Contractor._meta.concrete_fields
        if f.attname != "id" and not f.generated
    }
    now = datetime.now(UTC)
    data.update(
        version=versions[-1].version + 1,
        valid_from=now,
        valid_to=now,
        status=VersionStatus.PENDING,
        member_count=len(kept) + len(added),
    )
    if representative:
        head = next(m for m in members if m.pk == representative)
        data.update(name=head.name, id_type=head.id_type, id_number=head.id_number, id_number_hash=head.id_number_hash)
    staged = Contractor.objects.create(**data)
    copied = [
        FamilyMember(
            contractor=staged,
            **{
                f.attname: getattr(m, f.attname)
                for f in FamilyMember._meta.concrete_fields
                if f.attname not in ("id", "contractor_id")
            },
        )
        for m in kept
    ]
    FamilyMember.objects.bulk_create(copied + _member_rows(staged, added))
    audit.record(
        actor=actor,
        action="contractor.staged",
        subject=staged,
        region_code=staged.cbfbm,
        data={"cbfbm": staged.cbfbm, "version": staged.version, "removed": len(removed or []), "added": len(added)},
    )
    return staged


@transaction.atomic
def contractor_versions_activate(*, actor: Any, contractor: Contractor) -> Contractor:
    """Put a pending household version in force now, closing the current one (历史)."""
    ensure(actor, "contractors.edit", contractor.cbfbm)
    staged = Contractor.objects.select_for_update().get(pk=contractor.pk)
    if staged.status != VersionStatus.PENDING:
        return staged
    version_put_in_force(staged, datetime.now(UTC))
    audit.record(
        actor=actor,
        action="contractor.activated",
        subject=staged,
        region_code=staged.cbfbm,
        data={"cbfbm": staged.cbfbm, "version": staged.version},
    )
    return staged


@transaction.atomic
def contractor_cancel(*, actor: Any, contractor: Contractor, reason: str) -> Contractor:
    """注销 of a household that no longer exists on its own (merged into another): its current version
    ends now, kept with its members."""
    ensure(actor, "contractors.edit", contractor.cbfbm)
    current = Contractor.objects.select_for_update().filter(cbfbm=contractor.cbfbm, valid_to__isnull=True).first()
    if current is None:
        raise CodeError("承包方没有现行记录", "the household has no current record", field="cbfbm")
    current.valid_to, current.status = datetime.now(UTC), VersionStatus.CANCELLED
    current.save(update_fields=["valid_to", "status"])
    audit.record(
        actor=actor,
        action="contractor.cancelled",
        subject=current,
        region_code=current.cbfbm,
        data={"cbfbm": current.cbfbm, "version": current.version, "reason": reason[:200]},
    )
    return current


def next_household_code(issuer: Issuer) -> str:
    """The issuer's next household code (FBFBM + 4 digits, households 0001–8000), under an advisory lock
    on the issuer: call it in the transaction that stores the household."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tianjie-household-code-{issuer.fbfbm}"])
    codes = Contractor.objects.filter(cbfbm__startswith=issuer.fbfbm).values_list("cbfbm", flat=True)
    used = [int(c[14:]) for c in codes if int(c[14:]) <= 8000]
    number = max(used, default=0) + 1
    if number > 8000:
        raise CodeError("发包方的农户承包方编码已用完", "the issuer has used every household code", field="cbfbm")
    return f"{issuer.fbfbm}{number:04d}"


@transaction.atomic
def contractor_stage_new(*, actor: Any, issuer: Issuer, members: list[MemberInput], head: MemberInput) -> Contractor:
    """A new household split off another (分户), pending 待备案 until its first contract is filed: the
    next household code of the issuer, `head` its representative (relation 02 户主), `members` all of
    them (the head among them)."""
    ensure(actor, "contractors.edit", issuer.fbfbm)
    _check_members(members)
    cbfbm = next_household_code(issuer)
    now = datetime.now(UTC)
    household = Contractor.objects.create(
        cbfbm=cbfbm,
        issuer=issuer,
        cbflx=contractor_type_of(cbfbm),
        name=head.name,
        id_type=head.id_type,
        id_number=validate_id_document(head.id_type, head.id_number),
        id_number_hash=lookup_hash(head.id_number),
        member_count=len(members),
        version=1,
        valid_from=now,
        valid_to=now,
        status=VersionStatus.PENDING,
    )
    rows = [
        MemberInput(
            name=m.name,
            sex=m.sex,
            id_number=m.id_number,
            relation="02" if m == head else m.relation,
            id_type=m.id_type,
            is_co_owner=m.is_co_owner,
        )
        for m in members
    ]
    FamilyMember.objects.bulk_create(_member_rows(household, rows))
    audit.record(
        actor=actor,
        action="contractor.staged",
        subject=household,
        region_code=cbfbm,
        data={"cbfbm": cbfbm, "version": 1, "members": len(members), "new": True},
    )
    return household
