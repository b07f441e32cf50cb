"""Sharing filed contracts with the county natural resources bureau 自然资源局 (DOMAIN.md step 6: "a
reserved interface and periodic data copies"), which prints the updated certificate.

Each filing is queued once (`share_enqueue`, on `contracts.signals.contract_filed`, inside the filing's
transaction). The bureau takes it in two ways, each hand-over recorded (`FilingDelivery`) and audited:

* the pull API (nrb.api_views): the list of queued filings after a sequence number, and per filing
  `contract.json` (CBHT, CBF, CBF_JTCY, CBDKXX, CBJYQZDJB, CBJYQZ and the certificate to recall, in
  NY/T 2539 field names), `parcels.geojson` (CGCS2000, EPSG:4490, longitude/latitude, 9 decimals) and
  `contract.pdf` (the signed contract, or the scan of the paper one);
* the folder export (`filings_export_folder`, Celery beat): one folder per filing, written complete
  under a temporary name and then renamed, with a `manifest.json` of every file's SHA-256.

The records carry full ID numbers: the bureau prints them on the certificate. They leave only to the
bureau's own accounts (permission `filings.pull`) or to the export folder on the government network.
"""

import hashlib
import io
import json
import logging
import os
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db import transaction
from PIL import Image

from accounts.models import User
from accounts.scoping import ensure_can
from audit import services as audit
from contracts.models import Certificate, ContractDocument, ContractScan, RegisterEntry
from contracts.signing import signed_pdf
from core.errors import DomainError
from spatial.models import Parcel

from .models import FilingDelivery, FilingShare

log = logging.getLogger("tianjie.nrb")

SCHEMA = "tianjie.filing/1"
PARTS = ("contract.json", "parcels.geojson", "contract.pdf")


@transaction.atomic
def share_enqueue(*, entry: RegisterEntry, actor: Any) -> FilingShare:
    """Queue a filing (called by the filing, inside its transaction)."""
    share = FilingShare.objects.create(entry=entry, cbhtbm=entry.contract.cbhtbm)
    audit.record(
        actor=actor,
        action="filing.queued",
        subject=share,
        region_code=share.cbhtbm,
        data={"contract": share.cbhtbm, "serial": entry.cbjyqzlsh},
    )
    return share


def _d(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def _n(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def contract_record(share: FilingShare) -> dict[str, Any]:
    """The filing as NY/T 2539 records (the bureau's copy)."""
    entry = share.entry
    contract, cert = entry.contract, entry.certificate
    household = contract.contractor
    recall = Certificate.objects.filter(replaced_by=cert).order_by("pk")
    return {
        "schema": SCHEMA,
        "sequence": share.pk,
        "filed_at": _d(entry.djsj),
        "CBHT": {
            "CBHTBM": contract.cbhtbm,
            "YCBHTBM": contract.previous_code,
            "FBFBM": contract.issuer.fbfbm,
            "CBFBM": household.cbfbm,
            "CBFS": contract.method,
            "CBQXQ": _d(contract.term_start),
            "CBQXZ": _d(contract.term_end),
            "HTZMJ": _n(contract.total_area),
            "HTZMJM": _n(contract.total_area_mu),
            "YHTZMJ": _n(contract.original_total_area),
            "CBDKZS": contract.parcel_count,
            "QDSJ": _d(contract.signed_on),
            "version": contract.version,
            "superseded_version": entry.previous.version if entry.previous else None,
        },
        "FBF": {"FBFBM": contract.issuer.fbfbm, "FBFMC": contract.issuer.name},
        "CBF": {
            "CBFBM": household.cbfbm,
            "CBFLX": household.cbflx,
            "CBFMC": household.name,
            "CBFZJLX": household.id_type,
            "CBFZJHM": household.id_number,
            "CBFDZ": household.address,
            "CBFCYSL": household.member_count,
        },
        "CBF_JTCY": [
            {
                "CYXM": m.name,
                "CYXB": m.sex,
                "CYZJLX": m.id_type,
                "CYZJHM": m.id_number,
                "YHZGX": m.relation,
                "SFGYR": "1" if m.is_co_owner else "2",
            }
            for m in household.members.order_by("relation", "name")
        ],
        "CBDKXX": [
            {
                "DKBM": e.dkbm,
                "CBJYQQDFS": e.acquisition,
                "HTMJ": _n(e.htmj),
                "HTMJM": _n(e.htmjm),
                "YHTMJ": _n(e.original_htmj),
                "CBJYQZBM": e.certificate_code,
            }
            for e in contract.parcels.order_by("dkbm")
        ],
        "CBJYQZDJB": {
            "CBJYQZBM": entry.cbjyqzbm,
            "FBFBM": entry.fbfbm,
            "CBFBM": entry.cbfbm,
            "CBFS": entry.cbfs,
            "CBQX": entry.cbqx,
            "CBQXQ": _d(entry.cbqxq),
            "CBQXZ": _d(entry.cbqxz),
            "DKSYT": entry.dksyt,
            "CBJYQZLSH": entry.cbjyqzlsh,
            "DBR": entry.dbr,
            "DJSJ": _d(entry.djsj),
        },
        "CBJYQZ": {"CBJYQZBM": cert.cbjyqzbm, "FZJG": cert.issuing_authority, "FZRQ": _d(cert.issued_on)},
        "recall": [{"CBJYQZBM": c.cbjyqzbm, "CBJYQZLSH": c.serial, "FZRQ": _d(c.issued_on)} for c in recall],
        "signing": "online" if entry.document.status == ContractDocument.Status.SIGNED else "paper",
    }


def parcels_geojson(share: FilingShare) -> dict[str, Any]:
    """The contract's parcels (their current versions) in CGCS2000 longitude/latitude."""
    contract = share.entry.contract
    entries = {e.parcel_id: e for e in contract.parcels.all()}
    rows = (
        Parcel.objects.filter(pk__in=entries)
        .annotate(geojson=AsGeoJSON("geom", precision=9, crs=False))
        .order_by("dkbm")
    )
    features = []
    for p in rows:
        e = entries[p.pk]
        features.append(
            {
                "type": "Feature",
                "id": p.dkbm,
                "geometry": json.loads(p.geojson),
                "properties": {
                    "DKBM": p.dkbm,
                    "DKMC": p.dkmc,
                    "SCMJ": float(p.scmj),
                    "SCMJM": float(p.scmjm),
                    "HTMJ": float(e.htmj),
                    "HTMJM": float(e.htmjm),
                    "DKDZ": p.dkdz,
                    "DKNZ": p.dknz,
                    "DKXZ": p.dkxz,
                    "DKBZ": p.dkbz,
                    "CBHTBM": contract.cbhtbm,
                    "CBJYQZBM": e.certificate_code,
                    "version": p.version,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "name": f"DK{contract.cbhtbm}",
        "crs": {"type": "name", "properties": {"name": "EPSG:4490"}},
        "features": features,
    }


def contract_pdf_bytes(share: FilingShare) -> bytes:
    """The signed PDF; for the paper path, the scan (one PDF, or its JPEG pages joined into one)."""
    document = share.entry.document
    if document.status == ContractDocument.Status.SIGNED:
        return signed_pdf(document)
    scan = ContractScan.objects.filter(document=document).order_by("-uploaded_at").first()
    if scan is None:
        raise ValueError(f"filing {share.pk}: no scan")
    if len(scan.files) == 1 and scan.files[0].endswith(".pdf"):
        return Path(scan.files[0]).read_bytes()
    pages = [Image.open(name) for name in scan.files]
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=300)
    return out.getvalue()


def part_bytes(share: FilingShare, part: str) -> tuple[bytes, str]:
    """One part of a filing as bytes, with its media type."""
    if part == "contract.json":
        return json.dumps(contract_record(share), ensure_ascii=False, indent=1).encode(), "application/json"
    if part == "parcels.geojson":
        return json.dumps(parcels_geojson(share), ensure_ascii=False).encode(), "application/geo+json"
    if part == "contract.pdf":
        return contract_pdf_bytes(share), "application/pdf"
    raise KeyError(part)


def _delivered(
    *, share: FilingShare, channel: str, part: str, body: bytes, actor: User | None, path: str = ""
) -> FilingDelivery:
    """Record (and audit) one hand-over of a filing: what left, its SHA-256, to whom or where."""
    delivery = FilingDelivery.objects.create(
        share=share, channel=channel, part=part, recipient=actor, path=path, sha256=hashlib.sha256(body).hexdigest()
    )
    data = {"sequence": share.pk, "part": part, "channel": channel, "sha256": delivery.sha256}
    audit.record(
        actor=actor,
        action="filing.delivered",
        subject=delivery,
        region_code=share.cbhtbm,
        data=data | ({"path": Path(path).name} if path else {}),
    )
    return delivery


class DeliveryError(DomainError):
    default_code = "delivery_invalid"


@transaction.atomic
def delivery_api_acknowledge(*, actor: User, share: FilingShare, part: str, sha256: str) -> FilingDelivery:
    """The bureau says it has received one part of a filing, naming the SHA-256 of what it holds: recorded
    (and audited) only when that is what the platform serves now. Fetching records nothing: a prefetch, a
    crawler or a retry is not a hand-over."""
    ensure_can(actor, "filings.pull", share.cbhtbm)
    body, _media_type = part_bytes(share, part)
    if (sha256 or "").strip().lower() != hashlib.sha256(body).hexdigest():
        raise DeliveryError(
            "SHA-256 与平台提供的文件不符：请重新下载后再确认",
            "the SHA-256 is not that of the file served: fetch it again, then acknowledge",
            field="sha256",
        )
    return _delivered(share=share, channel=FilingDelivery.Channel.API, part=part, body=body, actor=actor)


def export_folder() -> Path:
    return Path(getattr(settings, "TIANJIE_NRB_EXPORT_DIR", Path(settings.DATA_DIR) / "nrb-export"))


def filings_export_folder(*, folder: Path | None = None, limit: int = 500) -> list[Path]:
    """Write every queued filing not yet exported into `folder` (one sub-folder each, named by sequence
    and contract code); returns the folders written. A filing whose folder fails is left for the next run
    and the others still go."""
    folder = folder or export_folder()
    folder.mkdir(parents=True, exist_ok=True)
    pending = (
        FilingShare.objects.exclude(deliveries__channel=FilingDelivery.Channel.FOLDER)
        .select_related(
            "entry__contract__contractor", "entry__contract__issuer", "entry__certificate", "entry__document"
        )
        .order_by("pk")[:limit]
    )
    written = []
    for share in pending:
        try:
            written.append(_export_one(share, folder))
        except Exception:  # one broken filing must not hold back the others; it is retried next run
            log.exception("filing %s: folder export failed", share.pk)
    return written


def _export_one(share: FilingShare, folder: Path) -> Path:
    target = folder / f"{share.pk:08d}-{share.cbhtbm}"
    tmp = folder / f".{target.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    manifest: dict[str, Any] = {
        "schema": SCHEMA,
        "sequence": share.pk,
        "contract": share.cbhtbm,
        "created_at": datetime.now(UTC).isoformat(),
        "files": {},
    }
    for part in PARTS:
        body, _ = part_bytes(share, part)
        (tmp / part).write_bytes(body)
        manifest["files"][part] = hashlib.sha256(body).hexdigest()
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    (tmp / "manifest.json").write_bytes(manifest_bytes)
    with transaction.atomic():
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        _delivered(
            share=share,
            channel=FilingDelivery.Channel.FOLDER,
            part="folder",
            body=manifest_bytes,
            actor=None,
            path=str(target),
        )
    return target
