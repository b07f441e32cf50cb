"""Online signing: a verified member of the household signs first with a one-time code, then the issuer's
officer with the seal; anyone else, a wrong code or the wrong order is refused and changes nothing."""

import pytest

from accounts.identity import IdentityError, otp_issue
from accounts.models import Office, OneTimeCode, User
from audit.models import AuditEvent
from contracts.filing import contract_draft
from contracts.models import Contract, ContractDocument, Contractor
from contracts.pdfsign import verify_pdf
from contracts.signing import (
    SigningError,
    document_generate,
    document_sign,
    sign_purpose,
    signed_pdf,
    signer_identity_verify,
)
from core.errors import IdNumberError, PermissionDeniedError


@pytest.fixture
def parties(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    farmer = User.objects.get(username="farmer")
    household = Contractor.objects.get(cbfbm=Office.objects.get(user=farmer).contractor_code, valid_to__isnull=True)
    contract = Contract.objects.get(contractor=household, valid_to__isnull=True)
    village = User.objects.get(username="village")
    return farmer, household, contract, village


def _verified(parties):
    farmer, household, _contract, village = parties
    return signer_identity_verify(
        actor=village,
        person=farmer,
        household=household,
        name=household.name,
        id_number=household.id_number,
        attested=True,
    )


def test_the_household_and_the_issuer_sign_and_anyone_can_verify(parties):
    farmer, household, contract, village = parties
    since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0  # others may have committed
    check = _verified(parties)
    assert check.id_masked != household.id_number and check.attested_by == village
    document = document_generate(actor=village, contract=contract_draft(actor=village, contract=contract))
    code = otp_issue(user=farmer, purpose=sign_purpose(document, "contractor"))
    document = document_sign(actor=farmer, document=document, role="contractor", code=code)
    assert document.status == ContractDocument.Status.AWAITING_ISSUER
    code = otp_issue(user=village, purpose=sign_purpose(document, "issuer"))
    document = document_sign(actor=village, document=document, role="issuer", code=code)
    assert document.status == ContractDocument.Status.SIGNED
    report = verify_pdf(signed_pdf(document))
    assert report.ok, report.as_dict()
    assert [(s.field_name, s.signer) for s in report.signatures] == [
        ("contractor", household.name),
        ("issuer", contract.issuer.name),
    ]
    actions = list(
        AuditEvent.objects.filter(id__gt=since, action__in=["identity.verified", "contract.signed"]).values_list(
            "action", flat=True
        )
    )
    assert actions.count("contract.signed") == 2 and "identity.verified" in actions


def test_the_order_the_code_and_the_signer_are_enforced(parties):
    farmer, _household, contract, village = parties
    _verified(parties)
    document = document_generate(actor=village, contract=contract_draft(actor=village, contract=contract))
    code = otp_issue(user=village, purpose=sign_purpose(document, "issuer"))
    with pytest.raises(SigningError, match="承包方签署"):  # the issuer cannot sign first
        document_sign(actor=village, document=document, role="issuer", code=code)
    code = otp_issue(user=farmer, purpose=sign_purpose(document, "contractor"))
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(IdentityError, match="验证码不正确"):
        document_sign(actor=farmer, document=document, role="contractor", code=wrong)
    document.refresh_from_db()
    assert document.status == ContractDocument.Status.AWAITING_CONTRACTOR and not document.signatures.exists()
    assert OneTimeCode.objects.get(user=farmer, used_at__isnull=True).attempts == 1  # the wrong try counts
    stranger = User.objects.get(username="township2")
    with pytest.raises(PermissionDeniedError):  # not a verified member of this household
        document_sign(actor=stranger, document=document, role="contractor", code=code)
    document = document_sign(actor=farmer, document=document, role="contractor", code=code)  # the right code
    with pytest.raises(IdentityError, match="验证码"):  # a code is the farmer's, for the farmer's signature
        document_sign(actor=village, document=document, role="issuer", code=code)
    assert document.signatures.count() == 1


def test_identity_must_match_the_registry(parties):
    farmer, household, _contract, village = parties
    with pytest.raises(IdNumberError):  # a wrong check digit
        signer_identity_verify(
            actor=village,
            person=farmer,
            household=household,
            name=household.name,
            id_number="450326199001011234",
            attested=True,
        )
    other = Contractor.objects.exclude(pk=household.pk).filter(valid_to__isnull=True).first()
    with pytest.raises(SigningError, match="不是该承包方家庭成员"):
        signer_identity_verify(
            actor=village, person=farmer, household=household, name=other.name, id_number=other.id_number, attested=True
        )
    with pytest.raises(IdentityError, match="未通过"):  # the officer did not attest
        signer_identity_verify(
            actor=village,
            person=farmer,
            household=household,
            name=household.name,
            id_number=household.id_number,
            attested=False,
        )
    township2 = User.objects.get(username="township2")  # another township's officer cannot attest here
    with pytest.raises(PermissionDeniedError):
        signer_identity_verify(
            actor=township2,
            person=farmer,
            household=household,
            name=household.name,
            id_number=household.id_number,
            attested=True,
        )


def test_anyone_verifies_a_signed_contract_on_the_public_page(parties, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    farmer, household, contract, village = parties
    _verified(parties)
    document = document_generate(actor=village, contract=contract_draft(actor=village, contract=contract))
    document = document_sign(
        actor=farmer,
        document=document,
        role="contractor",
        code=otp_issue(user=farmer, purpose=sign_purpose(document, "contractor")),
    )
    pdf = signed_pdf(document)
    page = client.post("/verify/", {"file": SimpleUploadedFile("合同.pdf", pdf)}).content.decode()  # not logged in
    assert "全部签名有效" in page and household.name in page
    tampered = bytearray(pdf)
    tampered[pdf.index(b"/Contents") - 200] ^= 0x01
    page = client.post("/verify/", {"file": SimpleUploadedFile("改过.pdf", bytes(tampered))}).content.decode()
    assert "文件不完整或签名无效" in page
    page = client.post("/verify/", {"file": SimpleUploadedFile("x.pdf", b"not a pdf")}).content.decode()
    assert "文件不完整或签名无效" in page and "not a readable PDF" in page


def test_the_farmer_sees_only_the_own_household_and_downloads_the_signed_pdf(parties, client):
    farmer, household, contract, village = parties
    _verified(parties)
    document = document_generate(actor=village, contract=contract_draft(actor=village, contract=contract))
    for actor, role in ((farmer, "contractor"), (village, "issuer")):
        code = otp_issue(user=actor, purpose=sign_purpose(document, role))
        document = document_sign(actor=actor, document=document, role=role, code=code)
    client.force_login(farmer)
    page = client.get("/my/contracts/").content.decode()
    assert contract.cbhtbm in page and "下载已签署的合同" in page
    others = Contract.objects.exclude(contractor=household).filter(issuer=contract.issuer)[:3]
    assert others and all(o.cbhtbm not in page for o in others)  # not the neighbours' contracts
    pdf = client.get(f"/my/contracts/{document.pk}.pdf")
    assert pdf.status_code == 200 and verify_pdf(pdf.content).ok
    client.force_login(User.objects.get(username="township2"))
    assert client.get(f"/my/contracts/{document.pk}.pdf").status_code == 404
    assert contract.cbhtbm not in client.get("/my/contracts/").content.decode()


def test_the_officer_checks_identity_and_prepares_the_document_on_the_page(parties, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    farmer, household, contract, village = parties
    client.force_login(village)
    listed = client.get(f"/contracts/?q={household.name}").content.decode()
    assert f"/contracts/{contract.cbhtbm}/prepare/" in listed  # found from the officer's list
    assert "/contracts/" in client.get("/").content.decode()  # linked from the map
    url = f"/contracts/{contract.cbhtbm}/prepare/"
    page = client.get(url).content.decode()
    assert household.name in page and household.id_number not in page  # members masked
    resp = client.post(
        url,
        {
            "action": "identity",
            "person": farmer.pk,
            "name": household.name,
            "id_number": household.id_number,
            "attested": "1",
            "id_card": [SimpleUploadedFile("front.jpg", _jpeg()), SimpleUploadedFile("back.jpg", _jpeg())],
        },
    )
    assert resp.status_code == 302
    check = farmer.identity_checks.get()
    assert len(check.id_card_images) == 2 and check.attested_by == village
    wrong = {"action": "identity", "person": farmer.pk, "name": "别人", "id_number": household.id_number}
    assert "不是该承包方家庭成员" in client.post(url, wrong).content.decode()
    fake = {**wrong, "name": household.name, "attested": "1", "id_card": SimpleUploadedFile("x.jpg", b"not a photo")}
    assert "照片文件已损坏" in client.post(url, fake).content.decode()
    assert farmer.identity_checks.count() == 1
    resp = client.post(url, {"action": "generate"})
    assert resp.status_code == 302 and "/contracts/documents/" in resp["Location"]
    assert "待承包方签署" in client.get(resp["Location"]).content.decode()
    client.force_login(User.objects.get(username="township2"))
    assert client.get(url).status_code == 404  # not their issuer


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 180, 160)).save(out, format="JPEG")
    return out.getvalue()
