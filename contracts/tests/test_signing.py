"""PAdES signing with the platform's CA and timestamp authority, and verification that catches changes."""

import subprocess
from io import BytesIO, StringIO

import pytest
from asn1crypto import algos, tsp
from django.core.management import CommandError, call_command
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from weasyprint import HTML

from contracts import pki
from contracts.models import SigningCertificate
from contracts.pdfsign import sign_pdf, tsa_respond, verify_pdf

HOUSEHOLD, ISSUER = "450326100200010001", "45032610020001"


@pytest.fixture
def contract_pdf() -> bytes:
    return HTML(
        string="<h1 style='font-family: \"WenQuanYi Zen Hei\"'>农村土地承包合同</h1><p>甲方 乙方</p>"
    ).write_pdf()


@pytest.fixture
def signers(db):
    person = pki.signer_certificate_issue(role="person", common_name="张三", owner_code=HOUSEHOLD)
    seal = pki.signer_certificate_issue(role="seal", common_name="江坪村民小组", owner_code=ISSUER, unit="发包方")
    return person, seal


def _both(pdf: bytes, signers) -> bytes:
    person, seal = signers
    once = sign_pdf(pdf, cert=person, field_name="contractor", reason="承包方签订", location="永福县", certify=True)
    return sign_pdf(once, cert=seal, field_name="issuer", reason="发包方签订并盖章", location="永福县")


def test_signed_by_both_parties_verifies_with_times(contract_pdf, signers, tmp_path):
    signed = _both(contract_pdf, signers)
    report = verify_pdf(signed)
    assert report.ok, report.as_dict()
    assert [(s.field_name, s.signer) for s in report.signatures] == [("contractor", "张三"), ("issuer", "江坪村民小组")]
    assert all(s.signed_at is not None and s.timestamp_ok for s in report.signatures)
    assert report.signatures[0].signed_at <= report.signatures[1].signed_at
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    out = StringIO()
    call_command("verify_contract_pdf", str(path), stdout=out)
    assert "张三" in out.getvalue() and "全部签名有效" in out.getvalue()
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "农村土地承包合同" in text  # still an ordinary, readable PDF


def test_one_changed_byte_is_detected(contract_pdf, signers, tmp_path):
    signed = bytearray(_both(contract_pdf, signers))
    at = signed.index(b"/Contents") - 200  # inside the signed revision, before the signature
    signed[at] = ord("A") if signed[at] != ord("A") else ord("B")
    report = verify_pdf(bytes(signed))
    assert not report.ok
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(signed))
    with pytest.raises(CommandError, match="not intact"):
        call_command("verify_contract_pdf", str(path), stdout=StringIO())


def test_an_incremental_update_that_changes_the_content_is_detected(contract_pdf, signers):
    signed = _both(contract_pdf, signers)
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (VOID) Tj ET")
    page["/Contents"] = writer.add_object(stream)  # the page now shows something else
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue())
    assert all(s.intact for s in report.signatures)  # the signed bytes are untouched...
    assert not report.ok and not report.signatures[0].unchanged_since  # ...but the change is caught


def test_a_certificate_from_elsewhere_is_not_trusted(contract_pdf, signers):
    stranger_root = pki._issue(role="root", subject=pki._name("别处的根 Some other root"), issuer=None)
    stranger = pki._issue(role="person", subject=pki._name("冒名者"), issuer=stranger_root)
    stranger_root.revoked_at = stranger_root.created_at  # so that the platform's own root stays the root
    stranger_root.save()
    signed = sign_pdf(contract_pdf, cert=stranger, field_name="contractor", reason="x", location="y")
    report = verify_pdf(signed)
    assert not report.ok and not report.signatures[0].trusted


def test_private_keys_are_encrypted_at_rest(signers):
    person, _ = signers
    row = SigningCertificate.objects.get(pk=person.pk)
    assert "PRIVATE KEY" not in row.key_encrypted and "MII" not in row.key_encrypted[:8]
    assert pki.private_key(row).key_size == 2048
    assert {c.role for c in SigningCertificate.objects.all()} >= {"root", "issuing", "person", "seal"}
    assert pki.certificate(row).issuer == pki.certificate(pki.issuing_ca()).subject


def test_every_certificate_the_platform_makes_is_audited(signers):
    """The CA's own certificates (made on first use) and each signer's are in the audit chain, with no key."""
    from audit.models import AuditEvent

    events = {e.subject_id: e for e in AuditEvent.objects.filter(action="pki.certificate_issued")}
    for cert in SigningCertificate.objects.all():
        assert str(cert.pk) in events, cert.role
        assert events[str(cert.pk)].data["serial"] == cert.serial and "key" not in str(events[str(cert.pk)].data)
    assert {e.data["role"] for e in events.values()} >= {"root", "issuing", "person", "seal"}


def test_the_timestamp_authority_answers_rfc3161_requests(db, client):
    digest = bytes(range(32))
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": tsp.MessageImprint(
                {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}), "hashed_message": digest}
            ),
            "nonce": 12345,
            "cert_req": True,
        }
    )
    resp = client.post("/tsa/", data=request.dump(), content_type="application/timestamp-query")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/timestamp-reply"
    reply = tsp.TimeStampResp.load(resp.content)
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest and info["nonce"].native == 12345
    assert client.post("/tsa/", data=b"garbage", content_type="application/timestamp-query").status_code == 400
    assert tsa_respond(request.dump())  # the same service, in process


def test_the_public_endpoints_are_rate_limited_per_address(db, client, monkeypatch):
    """/tsa/ and /verify/ need no login: an address past its hourly allowance gets 429, another does not."""
    monkeypatch.setattr("contracts.views.TSA_PER_HOUR", 3)
    monkeypatch.setattr("contracts.views.VERIFY_PER_HOUR", 2)
    for _ in range(3):
        assert client.post("/tsa/", data=b"garbage", content_type="application/timestamp-query").status_code == 400
    refused = client.post("/tsa/", data=b"garbage", content_type="application/timestamp-query")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    for _ in range(2):
        assert client.post("/verify/", {}).status_code == 200
    assert client.post("/verify/", {}).status_code == 429
    other = client.post("/verify/", {}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200  # another address has its own allowance
