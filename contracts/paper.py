"""The paper path: the generated contract printed, signed by hand and stamped, then scanned and attached.
The scan must be a PDF or JPEGs (one per page), at least 300 ppi or 2,480 px across (A4 at 300 dpi),
with as many pages as the generated contract. Checked with poppler (pdfinfo, pdfimages) and Pillow
before anything is stored; attached with its SHA-256; the document is then signed on paper."""

import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.scoping import can
from audit import services as audit
from core.errors import DomainError, PermissionDeniedError
from core.progress import check_image, store_upload
from spatial.models import VersionStatus

from .models import ContractDocument, ContractScan

MIN_PPI = 300
MIN_WIDTH_PX = 2480  # A4 width at 300 dpi
MAX_SCAN_BYTES = 200 * 1024 * 1024


class ScanError(DomainError):
    default_code = "scan_invalid"


def _poppler(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which(args[0])
    if tool is None:
        raise FileNotFoundError(f"{args[0]} (Debian package poppler-utils) is not installed")
    return subprocess.run([tool, *args[1:]], capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def _pdf_pages(path: Path) -> int:
    out = _poppler("pdfinfo", str(path))
    match = re.search(r"^Pages:\s+(\d+)", out.stdout, flags=re.M)
    if out.returncode != 0 or match is None:
        raise ScanError("扫描件不是可读的 PDF", "the scan is not a readable PDF")
    return int(match.group(1))


def _pdf_min_ppi(path: Path, pages: int) -> int:
    """The lowest resolution of the page images (each page must carry a scanned image)."""
    best: dict[int, int] = {}
    for line in _poppler("pdfimages", "-list", str(path)).stdout.splitlines()[2:]:
        cols = line.split()
        if len(cols) >= 14 and cols[0].isdigit():
            page, width, x_ppi, y_ppi = int(cols[0]), int(cols[3]), int(cols[12]), int(cols[13])
            ppi = max(min(x_ppi, y_ppi), MIN_PPI if width >= MIN_WIDTH_PX else 0)
            best[page] = max(best.get(page, 0), ppi)
    if len(best) < pages:
        raise ScanError("扫描件有的页面没有扫描图像", "some pages of the scan carry no scanned image")
    return min(best.values())


def _jpeg_ppi(upload: UploadedFile) -> int:
    from PIL import Image

    check_image(upload, formats=("JPEG",), max_pixels=120_000_000)
    with Image.open(upload) as im:
        dpi = im.info.get("dpi", (0, 0))
        ppi = int(min(dpi)) if dpi and min(dpi) else 0
        width = min(im.size)  # the short side: an A4 page across, however it was scanned
    upload.seek(0)
    return max(ppi, MIN_PPI if width >= MIN_WIDTH_PX else 0)


def _generated_pages(document: ContractDocument) -> int:
    return _pdf_pages(Path(document.path))


@transaction.atomic
def scan_attach(*, actor: Any, document: ContractDocument, files: list[UploadedFile]) -> ContractScan:
    """Check and attach the scan of the hand-signed contract (the issuer's officer uploads it)."""
    document = ContractDocument.objects.select_for_update().select_related("contract__issuer").get(pk=document.pk)
    if not can(actor, "contracts.sign_issuer", document.contract.issuer.fbfbm):
        raise PermissionDeniedError("只有发包方可以上传签署扫描件", "only the issuer uploads the signed scan")
    if document.status != ContractDocument.Status.AWAITING_CONTRACTOR:
        raise ScanError("这份合同已在网上签署或已有扫描件", "this document is already being signed online or on paper")
    if document.contract.status != VersionStatus.PENDING:
        raise ScanError("这份合同草稿已备案或已作废", "this draft has been filed or withdrawn")
    if not files:
        raise ScanError("请选择扫描件", "choose the scan", field="file")
    if sum(f.size or 0 for f in files) > MAX_SCAN_BYTES:
        raise ScanError("扫描件超过 200 MB", "the scan is larger than 200 MB", field="file")
    expected = _generated_pages(document)
    names = [(f.name or "").lower() for f in files]
    if len(files) == 1 and names[0].endswith(".pdf"):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            for chunk in files[0].chunks():
                tmp.write(chunk)
            tmp.flush()
            pages = _pdf_pages(Path(tmp.name))
            if pages != expected:
                raise ScanError(
                    f"扫描件有 {pages} 页，合同有 {expected} 页", f"the scan has {pages} pages, the contract {expected}"
                )
            ppi = _pdf_min_ppi(Path(tmp.name), pages)
        files[0].seek(0)
        suffix = ".pdf"
    elif all(n.endswith((".jpg", ".jpeg")) for n in names):
        pages = len(files)
        if pages != expected:
            raise ScanError(
                f"上传了 {pages} 张图片，合同有 {expected} 页，请每页一张",
                f"{pages} images for a contract of {expected} pages: one image per page",
            )
        ppi = min(_jpeg_ppi(f) for f in files)
        suffix = ".jpg"
    else:
        raise ScanError(
            "扫描件须为一个 PDF，或每页一张 JPEG", "the scan is one PDF, or one JPEG per page", field="file"
        )
    if ppi < MIN_PPI:
        raise ScanError(
            f"扫描分辨率不足：{ppi} ppi，至少 {MIN_PPI} ppi（A4 宽 {MIN_WIDTH_PX} 像素）",
            f"the scan is {ppi} ppi; at least {MIN_PPI} ppi ({MIN_WIDTH_PX} px across an A4 page) is needed",
            field="file",
        )
    digest = hashlib.sha256()
    stored = []
    for f in files:
        for chunk in f.chunks():
            digest.update(chunk)
        f.seek(0)
        stored.append(str(store_upload(f, "scans", suffix)))
    scan = ContractScan.objects.create(
        document=document, files=stored, sha256=digest.hexdigest(), pages=pages, min_ppi=ppi, uploaded_by=actor
    )
    document.status = ContractDocument.Status.SIGNED_ON_PAPER
    document.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="contract.scan_attached",
        subject=scan,
        region_code=document.contract.cbhtbm,
        data={"pages": pages, "min_ppi": ppi, "sha256": scan.sha256},
    )
    return scan


def scan_sha256(files: list[str]) -> str:
    """The SHA-256 of a stored scan's files, in order (as `ContractScan.sha256` records it)."""
    digest = hashlib.sha256()
    for name in files:
        with open(name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
