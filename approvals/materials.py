"""The materials 申请材料 of an application: scans and photos uploaded by the household (on a phone) or by
its issuer's officer, while the application can still be edited; read by whoever may see it.

The type is read from the file's first bytes (JPEG, PNG or PDF), never from its name; a file over
MAX_BYTES or of another type is refused and nothing is stored."""

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.models import User
from audit import services as audit
from core.errors import DomainError, PermissionDeniedError

from .models import Application, Material
from .workflow import REQUIRED_MATERIALS, BusinessType, State, editor

MAX_BYTES = 10 * 1024 * 1024
OTHER = "其他材料"
SIGNATURES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG": ("image/png", "png"),
}


class MaterialError(DomainError):
    default_code = "material_invalid"


def material_names(app: Application) -> list[str]:
    return [*REQUIRED_MATERIALS.get(BusinessType(app.business), []), OTHER]


ATTACHMENT = "审核附件"


def _store(*, actor: User, app: Application, name: str, upload: Any) -> Material:
    """Check the file (its size, its type from its bytes) and keep it in the application's folder."""
    if upload.size > MAX_BYTES:
        raise MaterialError("文件超过 10 MB", "the file is over 10 MB", field="file")
    head = upload.read(8)
    upload.seek(0)
    kind = next((v for magic, v in SIGNATURES.items() if head.startswith(magic)), None)
    if kind is None:
        raise MaterialError(
            "请上传 JPG、PNG 照片或 PDF 扫描件", "upload a JPG or PNG photo or a PDF scan", field="file"
        )
    content_type, ext = kind
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(settings.MEDIA_ROOT) / "applications" / app.code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{ext}"
    path.write_bytes(data)
    material = Material.objects.create(
        application=app,
        name=name,
        file_name=Path(str(upload.name or "upload")).name[:255],
        path=str(path),
        content_type=content_type,
        size=len(data),
        sha256=digest,
        uploaded_by=actor,
    )
    audit.record(
        actor=actor,
        action="application.material_uploaded",
        subject=app,
        region_code=app.fbfbm,
        data={"code": app.code, "name": name, "sha256": digest, "size": len(data)},
    )
    return material


@transaction.atomic
def material_upload(*, actor: User, application: Application, name: str, upload: Any) -> Material:
    app = Application.objects.select_for_update().get(pk=application.pk)
    if not editor(app, actor):
        raise PermissionDeniedError("只有申请人或发包方可以上传材料", "only the applicant or the issuer uploads")
    if app.state not in (State.DRAFT, State.RETURNED):
        raise MaterialError(
            f"申请{State(app.state).label}，不能再上传材料", f"the application is {app.state}: no more uploads"
        )
    if name not in material_names(app):
        raise MaterialError(f"“{name}”不是本业务的材料", f"{name!r} is not a material of this business", field="name")
    return _store(actor=actor, app=app, name=name, upload=upload)


def decision_attachment(*, actor: User, application: Application, upload: Any) -> Material:
    """A file an officer adds to a decision (minutes, a site photo). The caller,
    approvals.services.application_decide, has checked the officer's level and region in its transaction."""
    return _store(actor=actor, app=application, name=ATTACHMENT, upload=upload)
