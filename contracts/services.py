"""Writes to contractors and their members: permission check, validation, one transaction, audit event.

Contracts, signing and filing come with the contracts issue; this module holds the registry's people.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from audit import services as audit
from spatial.codes import contractor_type_of, validate_cbfbm, validate_id_document
from spatial.crypto import lookup_hash
from spatial.errors import CodeError, DuplicateCodeError
from spatial.models import Issuer
from spatial.permissions import ensure

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
    for m in members:
        validate_id_document(m.id_type, m.id_number)
        if m.sex not in ("1", "2"):
            raise CodeError("成员性别应为 1（男）或 2（女）", "member sex must be 1 (male) or 2 (female)", field="sex")
    if len({lookup_hash(m.id_number) for m in members}) != len(members):
        raise DuplicateCodeError("同一户内证件号码重复", "two members share an ID number", field="members")
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
    FamilyMember.objects.bulk_create(
        [
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
    )
    # Never the ID number itself in the audit data: only the code and the member count.
    audit.record(
        actor=actor,
        action="contractor.created",
        subject=contractor,
        region_code=cbfbm,
        data={"cbfbm": cbfbm, "members": len(members)},
    )
    return contractor
