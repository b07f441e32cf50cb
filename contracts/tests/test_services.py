"""Registering a household: IDs validated and encrypted, duplicates refused, nothing half-written."""

import pytest

from accounts.models import User
from audit.models import AuditEvent
from contracts.models import Contractor, FamilyMember
from contracts.services import MemberInput, contractor_create
from core.codes import id_check_char
from core.errors import DuplicateCodeError, IdNumberError, PermissionDeniedError
from spatial.models import Issuer


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


@pytest.fixture
def setup(demo):
    issuer = Issuer.objects.filter(fbfbm__startswith=demo.township).order_by("fbfbm").first()
    last = Contractor.objects.filter(issuer=issuer).order_by("-cbfbm").values_list("cbfbm", flat=True).first()
    return issuer, f"{issuer.fbfbm}{int(last[14:]) + 1:04d}", User.objects.get(username="county")


def test_household_with_members_is_registered_and_audited(setup):
    issuer, code, county = setup
    head = _id("45032619750312001")
    c = contractor_create(
        actor=county,
        issuer=issuer,
        cbfbm=code,
        name="韦国强",
        id_number=head,
        members=[MemberInput("韦国强", "1", head, "02"), MemberInput("覃秀兰", "2", _id("45032619780520002"), "10")],
    )
    assert c.cbflx == "1" and c.member_count == 2 and c.id_number == head
    assert FamilyMember.objects.filter(contractor=c).count() == 2
    event = AuditEvent.objects.get(action="contractor.created", subject_id=str(c.pk))
    assert head not in str(event.data)  # the ID number never reaches the audit log


def test_wrong_id_check_digit_is_refused_and_nothing_is_written(setup):
    issuer, code, county = setup
    good = _id("45032619750312001")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = (Contractor.objects.count(), FamilyMember.objects.count(), AuditEvent.objects.count())
    with pytest.raises(IdNumberError):
        contractor_create(
            actor=county,
            issuer=issuer,
            cbfbm=code,
            name="韦国强",
            id_number=good,
            members=[MemberInput("韦国强", "1", good, "02"), MemberInput("覃秀兰", "2", bad, "10")],
        )
    assert (Contractor.objects.count(), FamilyMember.objects.count(), AuditEvent.objects.count()) == before


def test_duplicate_contractor_code_is_refused(setup):
    issuer, _, county = setup
    existing = Contractor.objects.filter(issuer=issuer).first().cbfbm
    with pytest.raises(DuplicateCodeError):
        contractor_create(actor=county, issuer=issuer, cbfbm=existing, name="x", id_number=_id("45032619750312001"))


def test_other_township_cannot_register_households_here(setup):
    issuer, code, _ = setup
    with pytest.raises(PermissionDeniedError):
        contractor_create(
            actor=User.objects.get(username="township2"),
            issuer=issuer,
            cbfbm=code,
            name="x",
            id_number=_id("45032619750312001"),
        )
