"""Filing 备案: the signed draft becomes the household's current contract, the previous one is kept with
its end of validity, the register and the certificates follow, and a refused filing changes nothing."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Notification, User
from audit.models import AuditEvent
from contracts.filing import FilingError, certificate_recover, contract_file
from contracts.models import (
    Certificate,
    CertificateStatus,
    Contract,
    ContractParcel,
    RegisterEntry,
)
from contracts.signing import document_generate
from core.errors import PermissionDeniedError
from nrb.models import FilingShare
from spatial.models import VersionStatus


def _current(code: str) -> list[int]:
    return list(Contract.objects.filter(cbhtbm=code, valid_to__isnull=True).values_list("pk", flat=True))


def test_a_draft_is_not_current_until_it_is_filed(signed_draft):
    document, old, _farmer, _village = signed_draft
    draft = document.contract
    assert draft.status == VersionStatus.PENDING and draft.version == old.version + 1
    assert draft.valid_from == draft.valid_to  # in force at no time yet
    assert _current(old.cbhtbm) == [old.pk]
    assert sorted(draft.parcels.values_list("dkbm", flat=True)) == sorted(old.parcels.values_list("dkbm", flat=True))


def test_filing_supersedes_the_old_contract_and_keeps_its_history(signed_draft):
    document, old, farmer, village = signed_draft
    county = User.objects.get(username="county")
    old_cert = Certificate.objects.get(cbjyqzbm=old.cbhtbm, status=CertificateStatus.ISSUED)
    before_filing = timezone.now()

    entry = contract_file(actor=county, document=document)

    new, old = Contract.objects.get(pk=document.contract_id), Contract.objects.get(pk=old.pk)
    assert _current(old.cbhtbm) == [new.pk]
    assert new.status == VersionStatus.CURRENT and new.valid_to is None and new.valid_from == entry.djsj
    assert old.status == VersionStatus.SUPERSEDED and old.valid_to == entry.djsj  # kept, with its end
    # history: at a moment before the filing, the old version was the one in force
    in_force_then = Contract.objects.filter(cbhtbm=old.cbhtbm, valid_from__lte=before_filing).exclude(
        valid_to__lte=before_filing
    )
    assert list(in_force_then.values_list("pk", flat=True)) == [old.pk]
    assert new.signed_on == timezone.localdate() and new.previous_code == old.cbhtbm

    # the register 登记簿 and the certificates
    assert (entry.cbjyqzbm, entry.cbfbm, entry.cbqx, entry.cbqxq, entry.cbqxz) == (
        new.cbhtbm,
        new.contractor.cbfbm,
        "30年",
        date(2028, 1, 1),
        date(2057, 12, 31),
    )
    assert entry.previous == old and entry.dbr == (county.real_name or county.username)
    assert entry.cbjyqzlsh.startswith(f"{new.cbhtbm[:6]}{timezone.now().year}")
    assert "<svg" in (Path(settings.MEDIA_ROOT) / entry.dksyt).read_text()  # DKSYT, the parcel sketch
    new_cert = entry.certificate
    assert new_cert.status == CertificateStatus.ISSUED and new_cert.replaces == old_cert
    old_cert.refresh_from_db()
    assert old_cert.status == CertificateStatus.RECALL and old_cert.recall_since == entry.djsj
    assert set(ContractParcel.objects.filter(contract=new).values_list("certificate_code", flat=True)) == {new.cbhtbm}

    # audited, queued for the natural resources bureau, told to the household and the issuer
    actions = set(AuditEvent.objects.filter(at__gte=before_filing).values_list("action", flat=True))
    assert {"contract.filed", "certificate.issued", "certificate.recall_requested", "filing.queued"} <= actions
    assert FilingShare.objects.filter(entry=entry, cbhtbm=new.cbhtbm).exists()
    assert Notification.objects.filter(recipient=farmer, title__contains=new.cbhtbm).exists()
    assert Notification.objects.filter(recipient=village, title__contains=new.cbhtbm).exists()

    # filed once only
    with pytest.raises(FilingError):
        contract_file(actor=county, document=document)


def test_only_the_county_files_and_only_a_signed_draft(signed_draft, demo):
    document, old, _farmer, village = signed_draft
    filed = AuditEvent.objects.filter(action="contract.filed").count()  # a browser test may have committed one
    for username in ("village", "township", "township2", "ziyuan", "farmer"):
        with pytest.raises(PermissionDeniedError):
            contract_file(actor=User.objects.get(username=username), document=document)
    county = User.objects.get(username="county")
    unsigned = document_generate(actor=village, contract=document.contract)
    with pytest.raises(FilingError, match="尚未由双方签署"):
        contract_file(actor=county, document=unsigned)
    assert _current(old.cbhtbm) == [old.pk]
    assert not RegisterEntry.objects.filter(contract=document.contract).exists()
    assert AuditEvent.objects.filter(action="contract.filed").count() == filed


def test_a_signed_file_changed_on_disk_is_not_filed(signed_draft):
    document, old, _farmer, _village = signed_draft
    with open(document.path, "r+b") as f:  # one byte inside the signed range
        f.seek(2000)
        byte = f.read(1)
        f.seek(2000)
        f.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(FilingError) as exc:
        contract_file(actor=User.objects.get(username="county"), document=document)
    assert exc.value.code == "signature_invalid"
    assert _current(old.cbhtbm) == [old.pk]
    assert Certificate.objects.get(cbjyqzbm=old.cbhtbm, status=CertificateStatus.ISSUED).contract_id == old.pk


def test_the_old_certificate_is_recovered_by_its_village_not_by_another_township(signed_draft):
    document, _old, _farmer, village = signed_draft
    entry = contract_file(actor=User.objects.get(username="county"), document=document)
    old_cert = Certificate.objects.get(replaced_by=entry.certificate)
    with pytest.raises(PermissionDeniedError):
        certificate_recover(
            actor=User.objects.get(username="township2"),
            certificate=old_cert,
            recovered_on=date.today(),
            destroyed=True,
        )
    with pytest.raises(FilingError):
        certificate_recover(
            actor=village, certificate=old_cert, recovered_on=date.today() + timedelta(days=1), destroyed=True
        )
    cert = certificate_recover(actor=village, certificate=old_cert, recovered_on=date.today(), destroyed=True)
    assert cert.status == CertificateStatus.CANCELLED and cert.recovered_by == village and cert.destroyed
    assert AuditEvent.objects.filter(action="certificate.recovered", subject_id=str(cert.pk)).exists()
    with pytest.raises(FilingError):  # once
        certificate_recover(actor=village, certificate=cert, recovered_on=date.today(), destroyed=True)


# --- the pages -------------------------------------------------------------------------------------------


def test_the_county_files_on_its_page_and_the_farmer_sees_the_result(signed_draft, login):
    document, old, _farmer, _village = signed_draft
    assert login("township").get("/contracts/filing/").status_code == 403
    client = login("county")
    page = client.get("/contracts/filing/").content.decode()
    assert f'name="document" value="{document.pk}"' in page  # listed, awaiting filing
    resp = client.post("/contracts/filing/", {"document": document.pk})
    assert resp.status_code == 302
    page = client.get(resp["Location"]).content.decode()
    entry = RegisterEntry.objects.get(contract_id=document.contract_id)
    assert 'id="filed"' in page and entry.cbjyqzlsh in page
    assert _current(old.cbhtbm) == [document.contract_id]

    farmer = login("farmer")
    mine = farmer.get("/my/contracts/").content.decode()
    assert "现行 current" in mine and f"第 {old.version + 1} 版" in mine and "待收回" in mine
    assert f"流水号 {entry.cbjyqzlsh}" in mine
    fc = farmer.get("/my/contracts/parcels.geojson").json()
    assert sorted(f["id"] for f in fc["features"]) == sorted(
        ContractParcel.objects.filter(contract_id=document.contract_id).values_list("dkbm", flat=True)
    )
    assert login("village").get("/my/contracts/parcels.geojson").json()["features"] == []  # not a household


def test_the_village_records_the_recovery_of_the_old_certificate_on_its_page(signed_draft, login):
    document, _old, _farmer, _village = signed_draft
    entry = contract_file(actor=User.objects.get(username="county"), document=document)
    old_cert = Certificate.objects.get(replaced_by=entry.certificate)
    other = login("township2")
    assert old_cert.cbjyqzbm not in other.get("/certificates/recall/").content.decode()
    page = other.post("/certificates/recall/", {"certificate": old_cert.pk, "recovered_on": str(date.today())})
    assert "没有这本权证" in page.content.decode()
    client = login("village")
    assert old_cert.cbjyqzbm in client.get("/certificates/recall/").content.decode()
    resp = client.post(
        "/certificates/recall/", {"certificate": old_cert.pk, "recovered_on": str(date.today()), "destroyed": "1"}
    )
    assert resp.status_code == 302
    old_cert.refresh_from_db()
    assert old_cert.status == CertificateStatus.CANCELLED and old_cert.recovered_on == date.today()


def test_the_prepare_page_drafts_the_new_contract_with_its_term(demo, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    contract = Contract.objects.filter(cbhtbm__startswith="450326100200", valid_to__isnull=True).first()
    client = login("village")
    url = f"/contracts/{contract.cbhtbm}/prepare/"
    page = client.post(url, {"action": "generate", "term_start": "2028-01-01", "term_end": "2027-01-01"})
    assert "承包期限止须晚于起" in page.content.decode()
    assert not Contract.objects.filter(cbhtbm=contract.cbhtbm, status=VersionStatus.PENDING).exists()
    resp = client.post(url, {"action": "generate", "term_start": "2028-01-01", "term_end": "2057-12-31"})
    assert resp.status_code == 302
    draft = Contract.objects.get(cbhtbm=contract.cbhtbm, status=VersionStatus.PENDING)
    assert (draft.term_start, draft.term_end, draft.version) == (date(2028, 1, 1), date(2057, 12, 31), 2)
    assert 'id="draft"' in client.get(url).content.decode()
    assert _current(contract.cbhtbm) == [contract.pk]


def test_a_draft_overtaken_by_a_newer_version_is_not_filed(signed_draft):
    """A package import changed the contract after the draft was made (it numbers its version after the
    draft's): filing the draft would undo the import, so it is refused."""
    document, old, _farmer, _village = signed_draft
    draft = document.contract
    now = timezone.now()
    Contract.objects.filter(pk=old.pk).update(valid_to=now, status=VersionStatus.SUPERSEDED)
    imported = Contract.objects.get(pk=old.pk)
    imported.pk, imported.version, imported.valid_from, imported.valid_to = None, draft.version + 1, now, None
    imported.status = VersionStatus.CURRENT
    imported.save()
    with pytest.raises(FilingError) as exc:
        contract_file(actor=User.objects.get(username="county"), document=document)
    assert exc.value.code == "draft_outdated"
    assert _current(old.cbhtbm) == [imported.pk]


def test_the_issuer_withdraws_an_unsigned_draft_but_not_a_signed_one(signed_draft, login):
    from contracts.filing import contract_draft, contract_draft_withdraw

    document, _old, _farmer, village = signed_draft
    with pytest.raises(FilingError) as exc:
        contract_draft_withdraw(actor=village, draft=document.contract, reason="期限写错")
    assert exc.value.code == "already_signed"

    other = Contract.objects.filter(cbhtbm__startswith="450326100200", valid_to__isnull=True).exclude(
        cbhtbm=document.contract.cbhtbm
    )[0]
    draft = contract_draft(actor=village, contract=other, term_end=date(2040, 12, 31))
    with pytest.raises(PermissionDeniedError):
        contract_draft_withdraw(actor=User.objects.get(username="township2"), draft=draft, reason="x")
    client = login("village")
    url = f"/contracts/{other.cbhtbm}/prepare/"
    client.post(url, {"action": "withdraw", "reason": "期限写错 wrong term"})
    draft.refresh_from_db()
    assert draft.status == VersionStatus.CANCELLED and draft.valid_to == draft.valid_from  # kept, never in force
    assert AuditEvent.objects.filter(action="contract.draft_withdrawn", subject_id=str(draft.pk)).exists()
    again = contract_draft(actor=village, contract=other, term_end=date(2057, 12, 31))
    assert again.version == draft.version + 1 and again.term_end == date(2057, 12, 31)
    assert _current(other.cbhtbm) == [other.pk]


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(1999, 1, 1), date(2028, 12, 31), "30年"),  # the second round, as the certificates print it
        (date(2019, 7, 1), date(2049, 6, 30), "30年"),
        (date(2020, 3, 15), date(2025, 3, 13), "4年"),  # a day short of five years
        (date(2028, 1, 1), date(9999, 1, 1), "长久不变"),
    ],
)
def test_the_register_states_the_term_in_whole_years(start, end, label):
    from contracts.filing import term_label

    assert term_label(start, end) == label
