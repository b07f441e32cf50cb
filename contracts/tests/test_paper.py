"""The paper path: the scan of the hand-signed contract is checked (PDF or one JPEG per page, 300 ppi or
2,480 px across, as many pages as the contract) and attached with its hash."""

import hashlib
import io
import re
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from audit.models import AuditEvent
from contracts.filing import contract_draft
from contracts.models import Contract, ContractDocument
from contracts.paper import ScanError, scan_attach
from contracts.signing import document_generate
from core.errors import PermissionDeniedError


@pytest.fixture
def document(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    village = User.objects.get(username="village")
    contract = Contract.objects.filter(cbhtbm__startswith="450326100200", valid_to__isnull=True).first()
    doc = document_generate(actor=village, contract=contract_draft(actor=village, contract=contract))
    info = subprocess.run(["pdfinfo", doc.path], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return doc, village, pages


def _pages(n: int, width: int, dpi: int) -> list[Image.Image]:
    return [Image.new("L", (width, round(width * 1.414)), 230) for _ in range(n)]


def _pdf(n: int, width: int, dpi: int) -> bytes:
    pages = _pages(n, width, dpi)
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out.getvalue()


def _pdfinfo(path: object) -> str:
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout


def _jpeg(width: int, dpi: int) -> bytes:
    out = io.BytesIO()
    _pages(1, width, dpi)[0].save(out, format="JPEG", dpi=(dpi, dpi))
    return out.getvalue()


def test_a_good_pdf_scan_is_attached_with_its_hash(document):
    doc, village, pages = document
    data = _pdf(pages, 2480, 300)
    scan = scan_attach(actor=village, document=doc, files=[SimpleUploadedFile("scan.pdf", data)])
    assert scan.pages == pages and scan.min_ppi >= 300 and scan.sha256 == hashlib.sha256(data).hexdigest()
    doc.refresh_from_db()
    assert doc.status == ContractDocument.Status.SIGNED_ON_PAPER
    assert AuditEvent.objects.filter(action="contract.scan_attached").exists()


def test_one_jpeg_per_page_is_accepted(document):
    doc, village, pages = document
    files = [SimpleUploadedFile(f"p{i}.jpg", _jpeg(2480, 300)) for i in range(pages)]
    assert scan_attach(actor=village, document=doc, files=files).pages == pages


def test_a_scan_below_the_resolution_or_with_other_pages_is_refused(document):
    doc, village, pages = document
    with pytest.raises(ScanError, match="扫描分辨率不足：150 ppi"):
        scan_attach(actor=village, document=doc, files=[SimpleUploadedFile("low.pdf", _pdf(pages, 1240, 150))])
    with pytest.raises(ScanError, match=f"扫描件有 {pages + 1} 页，合同有 {pages} 页"):
        scan_attach(actor=village, document=doc, files=[SimpleUploadedFile("more.pdf", _pdf(pages + 1, 2480, 300))])
    with pytest.raises(ScanError, match="每页一张"):
        scan_attach(actor=village, document=doc, files=[SimpleUploadedFile("one.jpg", _jpeg(2480, 300))] * (pages + 1))
    with pytest.raises(ScanError, match="不是可读的 PDF"):
        scan_attach(actor=village, document=doc, files=[SimpleUploadedFile("bad.pdf", b"%PDF-1.4 broken")])
    with pytest.raises(PermissionDeniedError):
        scan_attach(
            actor=User.objects.get(username="township2"),
            document=doc,
            files=[SimpleUploadedFile("scan.pdf", _pdf(pages, 2480, 300))],
        )
    doc.refresh_from_db()
    assert doc.status == ContractDocument.Status.AWAITING_CONTRACTOR and not doc.scans.exists()


def test_the_officer_uploads_the_scan_on_the_prepare_page(document, client):
    doc, village, pages = document
    client.force_login(village)
    url = f"/contracts/{doc.contract.cbhtbm}/prepare/"
    low = client.post(
        url, {"action": "scan", "document": doc.pk, "scan": SimpleUploadedFile("low.pdf", _pdf(pages, 1240, 150))}
    )
    assert "扫描分辨率不足" in low.content.decode()
    ok = client.post(
        url, {"action": "scan", "document": doc.pk, "scan": SimpleUploadedFile("scan.pdf", _pdf(pages, 2480, 300))}
    )
    assert ok.status_code == 302
    assert "纸质签署" in client.get(url).content.decode()


def test_a_contract_signed_on_paper_is_filed_and_shared_with_its_jpeg_scan(document, tmp_path):
    from contracts.filing import FilingError, contract_file
    from nrb.services import filings_export_folder

    doc, village, pages = document
    files = [SimpleUploadedFile(f"p{i}.jpg", _jpeg(2480, 300)) for i in range(pages)]
    scan = scan_attach(actor=village, document=doc, files=files)
    entry = contract_file(actor=User.objects.get(username="county"), document=doc)
    assert entry.contract.status == "current" and entry.contract.signed_on is not None
    folder = filings_export_folder(folder=tmp_path / "out")[0]
    info = _pdfinfo(folder / "contract.pdf")
    assert re.search(rf"^Pages:\s+{pages}$", info, re.M)  # the scan's JPEG pages joined into one PDF
    # a scan changed on disk after it was attached is not filed
    other = Contract.objects.filter(cbhtbm__startswith="450326100200", valid_to__isnull=True).exclude(
        cbhtbm=doc.contract.cbhtbm
    )[0]
    doc2 = document_generate(actor=village, contract=contract_draft(actor=village, contract=other))
    pages2 = int(re.search(r"^Pages:\s+(\d+)$", _pdfinfo(doc2.path), re.M).group(1))
    scan2 = scan_attach(actor=village, document=doc2, files=[SimpleUploadedFile("s.pdf", _pdf(pages2, 2480, 300))])
    with open(scan2.files[0], "ab") as f:
        f.write(b"%")
    with pytest.raises(FilingError, match="扫描件与记录不符"):
        contract_file(actor=User.objects.get(username="county"), document=doc2)
    assert scan.sha256 != scan2.sha256
