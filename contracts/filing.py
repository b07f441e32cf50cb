"""A new contract from draft to filing 备案 (DOMAIN.md, steps 5 and 6).

* `contract_draft`: the issuer's officer prepares the household's next contract version from the current
  one (its parcels, a new term). The draft is a version with an empty validity interval (status
  待备案), so nothing that reads the current registry sees it until it is filed.
* `contract_file`: the county files a contract signed online (both signatures checked again) or on paper
  (the scan's hash checked again). The draft becomes current, the previous version is superseded (kept,
  with its end of validity), the register 登记簿 gets an entry, a certificate 权证 is issued or re-issued
  and the old one is marked for recall. A draft an application holds (`contracts_hold`: its contract
  notice runs) is refused until the notice ends (`contracts_release`); two drafts of one application are
  filed together (`contracts_file_together`) or not at all. `contracts.signals.contract_filed` then
  announces the filing: the exchange app queues it for the natural resources bureau, the pages tell the
  household and the issuer, approvals files the application.
* `certificate_recover`: the old paper certificate recovered from the household and destroyed.

Every write is checked, audited and in one transaction. An approved application's change (members, parcels)
reaches the draft as pending household and parcel versions (approvals), which filing puts in force.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.scoping import can, ensure_can
from audit import services as audit
from core.codes import county_of
from core.errors import DomainError, NotFoundError, PermissionDeniedError
from core.numbering import next_number
from spatial.measure import mu_from_m2
from spatial.models import Parcel, Region, VersionStatus
from spatial.services import parcel_versions_activate, version_put_in_force

from .document import contract_sketch_svg
from .models import (
    Certificate,
    CertificateStatus,
    Contract,
    ContractDocument,
    Contractor,
    ContractParcel,
    ContractScan,
    RegisterEntry,
)
from .paper import scan_sha256
from .pdfsign import verify_pdf
from .services import contractor_versions_activate
from .signals import contract_filed

LASTING = date(9999, 1, 1)  # 长久不变 (DOMAIN.md: CBQXZ 9999-01-01)


class FilingError(DomainError):
    default_code = "filing_invalid"


def term_label(start: date, end: date) -> str:
    """CBQX: the term in whole years, the end day included (1999-01-01 to 2028-12-31 is 30年), or 长久不变."""
    if end >= LASTING:
        return "长久不变"
    after = end + timedelta(days=1)
    years = after.year - start.year - ((after.month, after.day) < (start.month, start.day))
    return f"{years}年"


def _add_parcels(
    draft: Contract,
    rows: list[tuple[Parcel, Decimal, ContractParcel | None]],
    acquisition: Callable[[ContractParcel], str],
    method: str,
) -> None:
    """The draft's CBDKXX rows: each parcel with its contract area, and what it carries over from the
    entry it had before (in this or another contract): YHTMJ, LZHTBM, SFQQQG and CBJYQQDFS
    (`acquisition` of that entry; `method` for a parcel new to any contract)."""
    ContractParcel.objects.bulk_create(
        [
            ContractParcel(
                contract=draft,
                parcel=p,
                dkbm=p.dkbm,
                acquisition=acquisition(e) if e else method,
                htmj=htmj,
                htmjm=e.htmjm if e and e.htmj == htmj else mu_from_m2(htmj),
                original_htmj=e.htmj if e else None,
                transfer_code=e.transfer_code if e else "",
                certificate_code=e.certificate_code if e else "",
                confirmed_by_share=e.confirmed_by_share if e else False,
            )
            for p, htmj, e in rows
        ]
    )


@transaction.atomic
def contract_draft(
    *,
    actor: User,
    contract: Contract,
    term_start: date | None = None,
    term_end: date | None = None,
    household: Contractor | None = None,
    parcels: list[Parcel] | None = None,
    incoming_acquisition: str = "",
) -> Contract:
    """The household's next contract, awaiting signing and filing: the current contract's parcels (each
    in its current version, the old contract area kept as YHTMJ) under a new term. A second call while a
    draft is waiting returns that draft.

    An approved change brings its own `household` (a pending version with the new members) and `parcels`
    (the parcels the contract will hold: current versions, or pending versions of a re-surveyed or new
    parcel, whose contract area HTMJ is their new SCMJ). Filing puts those pending versions in force. A
    parcel coming from another household's contract keeps its contract area there and takes
    `incoming_acquisition` as its CBJYQQDFS (200 转让, 300 互换)."""
    if not can(actor, "contracts.sign_issuer", contract.issuer.fbfbm):
        raise PermissionDeniedError("只有发包方可以起草合同", "only the issuer drafts a contract")
    versions = list(Contract.objects.select_for_update().filter(cbhtbm=contract.cbhtbm).order_by("version"))
    waiting = next((c for c in versions if c.status == VersionStatus.PENDING), None)
    current = next((c for c in versions if c.valid_to is None), None)
    if waiting is not None:
        if (term_start and term_start != waiting.term_start) or (term_end and term_end != waiting.term_end):
            raise FilingError(
                "已有一份待备案的合同草稿，期限不同；请先备案或作废它",
                "a draft with another term is already waiting: file or withdraw it first",
                code="draft_exists",
            )
        return waiting
    if current is None:
        raise FilingError("该合同没有现行版本", "this contract has no current version", code="not_current")
    start, end = term_start or current.term_start, term_end or current.term_end
    if start >= end:
        raise FilingError("承包期限止须晚于起", "the term must end after it starts", field="term_end")
    if household is None:
        household = Contractor.objects.filter(cbfbm=current.contractor.cbfbm, valid_to__isnull=True).first()
    if household is None or household.cbfbm != current.contractor.cbfbm:
        raise FilingError("承包方没有现行记录", "the household has no current record", code="not_current")
    entries = list(current.parcels.all())
    old_entry = {e.dkbm: e for e in entries}
    rows: list[tuple[Parcel, Decimal, ContractParcel | None]]
    if parcels is None:
        latest = {p.dkbm: p for p in Parcel.objects.filter(dkbm__in=list(old_entry), valid_to__isnull=True)}
        rows = [(latest.get(e.dkbm, e.parcel), e.htmj, e) for e in entries]
        total, total_mu = current.total_area, current.total_area_mu
    else:
        if any(p.status not in (VersionStatus.CURRENT, VersionStatus.PENDING) for p in parcels):
            raise FilingError("草稿只能包含现势或待备案的地块", "a draft holds current or waiting parcels only")
        incoming = {
            e.dkbm: e
            for e in ContractParcel.objects.filter(
                dkbm__in=[p.dkbm for p in parcels if p.dkbm not in old_entry], contract__valid_to__isnull=True
            )
        }
        rows = []
        for p in parcels:
            e = old_entry.get(p.dkbm) or incoming.get(p.dkbm)
            rows.append((p, e.htmj if e and e.parcel_id == p.pk else p.scmj, e))
        total = sum((htmj for _p, htmj, _e in rows), Decimal("0"))
        total_mu = mu_from_m2(total)
    now = timezone.now()
    draft = Contract.objects.create(
        cbhtbm=current.cbhtbm,
        previous_code=current.cbhtbm,
        issuer=current.issuer,
        contractor=household,
        method=current.method,
        term_start=start,
        term_end=end,
        total_area=total,
        total_area_mu=total_mu,
        original_total_area=current.total_area,
        parcel_count=len(rows),
        version=versions[-1].version + 1,
        valid_from=now,
        valid_to=now,  # empty: in force at no time until it is filed
        status=VersionStatus.PENDING,
    )
    _add_parcels(
        draft,
        rows,
        lambda e: (incoming_acquisition or e.acquisition) if e.dkbm not in old_entry else e.acquisition,
        current.method,
    )
    audit.record(
        actor=actor,
        action="contract.drafted",
        subject=draft,
        region_code=draft.cbhtbm,
        data={"contract": draft.cbhtbm, "version": draft.version, "term": [str(start), str(end)]},
    )
    return draft


@transaction.atomic
def contract_draft_first(
    *,
    actor: User,
    household: Contractor,
    parcels: list[Parcel],
    term_start: date,
    term_end: date,
    method: str = "110",
    previous_code: str = "",
) -> Contract:
    """The first contract of a new household (a split 分户), pending like any draft: code CBFBM + J, the
    parcels' contract areas taken over from the contract they leave."""
    if not can(actor, "contracts.sign_issuer", household.issuer.fbfbm):
        raise PermissionDeniedError("只有发包方可以起草合同", "only the issuer drafts a contract")
    cbhtbm = f"{household.cbfbm}J"
    if Contract.objects.filter(cbhtbm=cbhtbm).exists():
        raise FilingError(f"合同 {cbhtbm} 已存在", f"contract {cbhtbm} already exists", code="draft_exists")
    if not parcels:
        raise FilingError("新户的合同至少要有一块地", "the new household's contract needs a parcel", field="parcels")
    leaving = {
        e.dkbm: e
        for e in ContractParcel.objects.filter(dkbm__in=[p.dkbm for p in parcels], contract__valid_to__isnull=True)
    }
    rows = [(p, leaving[p.dkbm].htmj if p.dkbm in leaving else p.scmj, leaving.get(p.dkbm)) for p in parcels]
    total = sum((htmj for _p, htmj, _e in rows), Decimal("0"))
    now = timezone.now()
    draft = Contract.objects.create(
        cbhtbm=cbhtbm,
        previous_code=previous_code,  # YCBHTBM: the contract the household split off
        issuer=household.issuer,
        contractor=household,
        method=method,
        term_start=term_start,
        term_end=term_end,
        total_area=total,
        total_area_mu=mu_from_m2(total),
        parcel_count=len(rows),
        version=1,
        valid_from=now,
        valid_to=now,
        status=VersionStatus.PENDING,
    )
    _add_parcels(draft, rows, lambda e: e.acquisition, method)
    audit.record(
        actor=actor,
        action="contract.drafted",
        subject=draft,
        region_code=cbhtbm,
        data={"contract": cbhtbm, "version": 1, "term": [str(term_start), str(term_end)], "new": True},
    )
    return draft


@transaction.atomic
def contract_draft_withdraw(*, actor: User, draft: Contract, reason: str) -> Contract:
    """The issuer withdraws a draft (a wrong term, say) before it is signed by both parties; it stays,
    cancelled, with its documents, and a new draft may follow. A draft signed by both is the county's to
    file, not the issuer's to drop."""
    if not can(actor, "contracts.sign_issuer", draft.issuer.fbfbm):
        raise PermissionDeniedError("只有发包方可以作废合同草稿", "only the issuer withdraws a draft")
    locked = Contract.objects.select_for_update().get(pk=draft.pk)
    if locked.status != VersionStatus.PENDING:
        raise FilingError("这不是待备案的草稿", "this is not a draft awaiting filing", code="not_pending")
    if not reason.strip():
        raise FilingError("请写明作废原因", "give the reason", field="reason")
    signed = ContractDocument.objects.filter(
        contract=locked,
        status__in=[ContractDocument.Status.SIGNED, ContractDocument.Status.SIGNED_ON_PAPER],
    )
    if signed.exists():
        raise FilingError(
            "双方已签署，不能作废；请县农业农村局备案或退回",
            "both parties have signed: it is for the county to file",
            code="already_signed",
        )
    locked.status = VersionStatus.CANCELLED
    locked.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="contract.draft_withdrawn",
        subject=locked,
        region_code=locked.cbhtbm,
        data={"contract": locked.cbhtbm, "version": locked.version, "reason": reason.strip()[:200]},
    )
    return locked


def _signed_on(document: ContractDocument) -> date:
    """The signing date QDSJ, after checking again that what is filed is what was signed."""
    if document.status == ContractDocument.Status.SIGNED:
        pdf = Path(document.path).read_bytes()
        report = verify_pdf(pdf)
        roles = {s.field_name for s in report.signatures}
        if not report.ok or roles != {"contractor", "issuer"}:
            problems = "; ".join(p for s in report.signatures for p in s.problems) or report.error
            raise FilingError(
                f"合同签名验证未通过，不能备案：{problems}",
                f"the contract's signatures do not verify; not filed: {problems}",
                code="signature_invalid",
            )
        last = document.signatures.order_by("-signed_at").first()
        return timezone.localdate(last.signed_at) if last else timezone.localdate()
    if document.status == ContractDocument.Status.SIGNED_ON_PAPER:
        scan = ContractScan.objects.filter(document=document).order_by("-uploaded_at").first()
        if scan is None or scan_sha256(scan.files) != scan.sha256:
            raise FilingError(
                "纸质合同扫描件与记录不符，不能备案", "the stored scan does not match its record; not filed"
            )
        return timezone.localdate(scan.uploaded_at)  # the hand-signing date is on the paper, not known here
    raise FilingError("合同尚未由双方签署", "the contract is not yet signed by both parties", code="not_signed")


def _write_sketch(contract: Contract) -> str:
    folder = Path(settings.MEDIA_ROOT) / "sketches"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"DKSYT{contract.cbhtbm}-{contract.version}.svg"
    path.write_text(contract_sketch_svg(contract), encoding="utf-8")
    return str(path.relative_to(settings.MEDIA_ROOT))


def _withdraw(cert: Certificate, status: str, reason: str, now: datetime) -> None:
    """Take a certificate out of force: to be recovered (待收回) or, when it cannot be, cancelled at once."""
    cert.status, cert.recall_since, cert.recall_reason = status, now, reason[:200]
    cert.save(update_fields=["status", "recall_since", "recall_reason"])


def _issue(contract: Contract, replaces: Certificate | None, now: datetime) -> Certificate:
    """A new certificate of the contract, issued by the county's government, with the next serial
    CBJYQZLSH: one running number for every certificate of the county and year, on filing or re-issue."""
    county = Region.objects.filter(code=county_of(contract.cbhtbm)).values_list("name", flat=True).first()
    return Certificate.objects.create(
        cbjyqzbm=contract.cbhtbm,
        contract=contract,
        issuing_authority=f"{county or county_of(contract.cbhtbm)}人民政府",
        issued_on=timezone.localdate(now),
        serial=next_number(Certificate, "serial", f"{county_of(contract.cbhtbm)}{now.year}", 6),
        replaces=replaces,
    )


@transaction.atomic
def contracts_hold(*, actor: User, drafts: list[Contract], application_code: str, reason: str) -> list[Contract]:
    """An application's drafts, publicised: none may be filed while `reason` stands (its contract notice
    runs: the plan files after publicity), and two drafts (a transfer, an exchange, a merge or a split)
    are filed together or not at all."""
    if not drafts:
        return []
    locked = list(Contract.objects.select_for_update().filter(pk__in=[d.pk for d in drafts]).order_by("pk"))
    for draft in locked:
        ensure_can(actor, "contracts.sign_issuer", draft.issuer.fbfbm)
        if draft.status != VersionStatus.PENDING:
            raise FilingError("这不是待备案的草稿", "this is not a draft awaiting filing", code="not_pending")
    codes = [d.cbhtbm for d in locked]
    for draft in locked:
        draft.application_code = application_code
        draft.filing_hold = reason.strip()[:300]
        draft.file_with = next((c for c in codes if c != draft.cbhtbm), "")
        draft.save(update_fields=["application_code", "filing_hold", "file_with"])
        audit.record(
            actor=actor,
            action="contract.held",
            subject=draft,
            region_code=draft.cbhtbm,
            data={"contract": draft.cbhtbm, "version": draft.version, "application": application_code},
        )
    return locked


@transaction.atomic
def contracts_release(*, actor: User | None, application_code: str) -> list[Contract]:
    """The application's contract notice ended without an open objection: its drafts may be filed (by the
    night job, `actor` None, or the officer who closed the notice)."""
    locked = list(
        Contract.objects.select_for_update()
        .filter(application_code=application_code, status=VersionStatus.PENDING)
        .exclude(filing_hold="")
        .order_by("pk")
    )
    for draft in locked:
        if actor is not None:
            ensure_can(actor, "notices.post", draft.issuer.fbfbm)
        draft.filing_hold = ""
        draft.save(update_fields=["filing_hold"])
        audit.record(
            actor=actor,
            action="contract.released",
            subject=draft,
            region_code=draft.cbhtbm,
            data={"contract": draft.cbhtbm, "version": draft.version, "application": application_code},
        )
    return locked


def _ensure_fileable(draft: Contract, together: list[str]) -> None:
    """The rules its application set on filing a draft: no hold, and a pair filed together."""
    if draft.filing_hold:
        raise FilingError(
            f"{draft.filing_hold}；公示期满、无未答复的异议后才能备案",
            f"{draft.cbhtbm} is held until the contract notice of application {draft.application_code} ends",
            code="on_hold",
        )
    if draft.file_with and draft.file_with not in together:
        raise FilingError(
            f"这份合同须与合同 {draft.file_with} 一并备案，请在业务申请页备案",
            f"this contract is filed together with {draft.file_with}: file them on the application page",
            code="file_together",
        )


@transaction.atomic
def contract_file(*, actor: User, document: ContractDocument) -> RegisterEntry:
    """备案: the signed draft becomes the household's current contract; see the module's description."""
    entry = _file(actor=actor, document=document, together=[])
    contract_filed.send(sender=RegisterEntry, entries=[entry], actor=actor)
    return entry


def _file(*, actor: User, document: ContractDocument, together: list[str]) -> RegisterEntry:
    """One filing, inside the caller's transaction. `together`: the contract codes filed in the same
    transaction (`contracts_file_together`), whose parcels may move between them."""
    locked = (
        ContractDocument.objects.select_for_update()
        .select_related("contract__issuer", "contract__contractor")
        .filter(pk=document.pk)
        .first()
    )
    if locked is None:
        raise NotFoundError("没有这份合同文件", "no such contract document")
    document = locked
    ensure_can(actor, "contracts.file", document.contract.cbhtbm)
    versions = list(Contract.objects.select_for_update().filter(cbhtbm=document.contract.cbhtbm))
    draft = next(c for c in versions if c.pk == document.contract_id)
    if draft.status != VersionStatus.PENDING:
        raise FilingError(
            "该合同不是待备案的草稿（已备案或已作废）",
            "this contract is not a draft awaiting filing",
            code="not_pending",
        )
    _ensure_fileable(draft, together)
    if any(c.version > draft.version for c in versions):
        raise FilingError(
            "起草后该合同已有更新的版本（如数据包导入），请重新起草",
            "the contract has a newer version since this draft (a package import, say): draft it again",
            code="draft_outdated",
        )
    signed_on = _signed_on(document)
    entries = list(draft.parcels.select_related("parcel"))
    stale = [e.dkbm for e in entries if e.parcel.status not in (VersionStatus.CURRENT, VersionStatus.PENDING)]
    if stale:
        raise FilingError(
            f"地块 {'、'.join(stale[:5])} 在起草后已变更，请重新起草合同",
            f"parcels {', '.join(stale[:5])} changed after the draft was made: draft it again",
            code="parcels_changed",
        )
    taken = sorted(
        set(
            ContractParcel.objects.filter(dkbm__in=[e.dkbm for e in entries], contract__valid_to__isnull=True)
            .exclude(contract__cbhtbm__in={draft.cbhtbm, *together})
            .values_list("dkbm", flat=True)
        )
    )
    if taken:
        raise FilingError(
            f"地块 {'、'.join(taken[:5])} 在另一份现行合同中",
            f"parcels {', '.join(taken[:5])} are in another current contract",
            code="parcels_taken",
        )

    # The approved change the draft carries comes into force first: its household and parcel versions.
    parcel_versions_activate(
        actor=actor, parcels=[e.parcel for e in entries if e.parcel.status == VersionStatus.PENDING]
    )
    if draft.contractor.status == VersionStatus.PENDING:
        contractor_versions_activate(actor=actor, contractor=draft.contractor)
    now = timezone.now()
    previous = next((c for c in versions if c.valid_to is None and c.status == VersionStatus.CURRENT), None)
    draft.signed_on = signed_on
    draft.save(update_fields=["signed_on"])
    version_put_in_force(draft, now)  # the previous version closes (历史)

    old = list(Certificate.objects.select_for_update().filter(cbjyqzbm=draft.cbhtbm, status=CertificateStatus.ISSUED))
    for cert in old:
        reason = f"换发：合同第 {draft.version} 版备案 / re-issued on filing version {draft.version}"
        _withdraw(cert, CertificateStatus.RECALL, reason, now)
    cert = _issue(draft, old[0] if old else None, now)
    serial = cert.serial
    draft.parcels.update(certificate_code=cert.cbjyqzbm)
    entry = RegisterEntry.objects.create(
        cbjyqzbm=cert.cbjyqzbm,
        contract=draft,
        previous=previous,
        document=document,
        certificate=cert,
        fbfbm=draft.issuer.fbfbm,
        cbfbm=draft.contractor.cbfbm,
        cbfs=draft.method,
        cbqx=term_label(draft.term_start, draft.term_end),
        cbqxq=draft.term_start,
        cbqxz=draft.term_end,
        dksyt=_write_sketch(draft),
        cbjyqzlsh=serial,
        dbr=actor.real_name or actor.username,
        djsj=now,
        filed_by=actor,
    )
    audit.record(
        actor=actor,
        action="contract.filed",
        subject=entry,
        region_code=draft.cbhtbm,
        data={
            "contract": draft.cbhtbm,
            "version": draft.version,
            "superseded_version": previous.version if previous else None,
            "document_sha256": document.sha256,
            "path": document.status,
            "serial": serial,
        },
    )
    for c in old:
        audit.record(
            actor=actor,
            action="certificate.recall_requested",
            subject=c,
            region_code=c.cbjyqzbm,
            data={"serial": c.serial, "replaced_by": serial},
        )
    audit.record(
        actor=actor,
        action="certificate.issued",
        subject=cert,
        region_code=cert.cbjyqzbm,
        data={"serial": serial, "replaces": old[0].serial if old else None},
    )
    return entry


@transaction.atomic
def contracts_file_together(*, actor: User, documents: list[ContractDocument]) -> list[RegisterEntry]:
    """File several signed drafts in one transaction (a transfer or an exchange between two households):
    a parcel may leave one contract for another; each is checked and filed as `contract_file` does, and
    if one cannot be filed none is. One `contract_filed` announces them all, once all are filed."""
    codes = [d.contract.cbhtbm for d in documents]
    if len(set(codes)) != len(codes):
        raise FilingError("同一份合同不能重复备案", "the same contract twice", code="duplicate")
    entries = [_file(actor=actor, document=d, together=codes) for d in documents]
    contract_filed.send(sender=RegisterEntry, entries=entries, actor=actor)
    return entries


@transaction.atomic
def certificate_recover(*, actor: User, certificate: Certificate, recovered_on: date, destroyed: bool) -> Certificate:
    """The old certificate taken back from the household (收回) and, when `destroyed`, destroyed and
    cancelled (注销). Both may be recorded at once or one after the other."""
    cert = Certificate.objects.select_for_update().filter(pk=certificate.pk).first()
    if cert is None:
        raise NotFoundError("没有这本权证", "no such certificate")
    ensure_can(actor, "certificates.recall", cert.cbjyqzbm)
    if cert.status != CertificateStatus.RECALL:
        raise FilingError("这本权证不在待收回之列", "this certificate is not awaiting recall", code="not_recall")
    since = timezone.localdate(cert.recall_since) if cert.recall_since else None
    if recovered_on > timezone.localdate() or (since and recovered_on < since):
        raise FilingError(
            "收回日期应在换发之后、今天之前",
            "the recovery date lies between the re-issue and today",
            field="recovered_on",
        )
    cert.recovered_on, cert.recovered_by, cert.destroyed = recovered_on, actor, destroyed
    if destroyed:
        cert.status = CertificateStatus.CANCELLED
    cert.save(update_fields=["recovered_on", "recovered_by", "destroyed", "status"])
    audit.record(
        actor=actor,
        action="certificate.recovered",
        subject=cert,
        region_code=cert.cbjyqzbm,
        data={"serial": cert.serial, "recovered_on": str(recovered_on), "destroyed": destroyed},
    )
    return cert


# --- certificate business without a new contract (DOMAIN.md: 201 补发, 202 换发, 203 注销) and 107 注销 ---


def _certificate_in_force(contract: Contract) -> Certificate:
    cert = (
        Certificate.objects.select_for_update()
        .filter(cbjyqzbm=contract.cbhtbm, status=CertificateStatus.ISSUED)
        .first()
    )
    if cert is None:
        raise FilingError("该合同没有在用的权证", "this contract has no certificate in force", code="no_certificate")
    return cert


@transaction.atomic
def certificate_reissue(*, actor: User, contract: Contract, lost: bool, reason: str) -> Certificate:
    """补发 (`lost`: the old certificate is gone; it is cancelled at once as 遗失) or 换发 (damaged: the
    old one is to be recovered): a new certificate of the same contract, with a new serial."""
    ensure_can(actor, "contracts.file", contract.cbhtbm)
    if contract.valid_to is not None or contract.status != VersionStatus.CURRENT:
        raise FilingError("只能为现行合同补发或换发权证", "only a current contract's certificate", code="not_current")
    old = _certificate_in_force(contract)
    now = timezone.now()
    if lost:
        _withdraw(old, CertificateStatus.CANCELLED, f"遗失补发：{reason}", now)
    else:
        _withdraw(old, CertificateStatus.RECALL, f"换发：{reason}", now)
    new = _issue(contract, old, now)
    audit.record(
        actor=actor,
        action="certificate.reissued" if lost else "certificate.replaced",
        subject=new,
        region_code=new.cbjyqzbm,
        data={"serial": new.serial, "replaces": old.serial, "reason": reason[:200]},
    )
    return new


@transaction.atomic
def contract_cancel(*, actor: User, contract: Contract, reason: str) -> Contract:
    """注销 (107): the contract ends now (注销, kept with its end of validity); its parcels go back to the
    collective; the certificate in force is to be recovered (203 注销)."""
    ensure_can(actor, "contracts.file", contract.cbhtbm)
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.valid_to is not None or locked.status != VersionStatus.CURRENT:
        raise FilingError("只能注销现行合同", "only a current contract can be cancelled", code="not_current")
    if not reason.strip():
        raise FilingError("请写明注销原因", "give the reason", field="reason")
    now = timezone.now()
    locked.valid_to, locked.status = now, VersionStatus.CANCELLED
    locked.save(update_fields=["valid_to", "status"])
    for cert in Certificate.objects.select_for_update().filter(cbjyqzbm=locked.cbhtbm, status=CertificateStatus.ISSUED):
        _withdraw(cert, CertificateStatus.RECALL, f"合同注销：{reason}", now)
    audit.record(
        actor=actor,
        action="contract.cancelled",
        subject=locked,
        region_code=locked.cbhtbm,
        data={"contract": locked.cbhtbm, "version": locked.version, "reason": reason[:200]},
    )
    return locked


@transaction.atomic
def certificate_cancel(*, actor: User, contract: Contract, reason: str) -> Certificate:
    """注销 of a certificate (203) without a new one: it is to be recovered and destroyed."""
    ensure_can(actor, "contracts.file", contract.cbhtbm)
    cert = _certificate_in_force(contract)
    if not reason.strip():
        raise FilingError("请写明注销原因", "give the reason", field="reason")
    _withdraw(cert, CertificateStatus.RECALL, f"注销：{reason}", timezone.now())
    audit.record(
        actor=actor,
        action="certificate.cancelled",
        subject=cert,
        region_code=cert.cbjyqzbm,
        data={"serial": cert.serial, "reason": reason[:200]},
    )
    return cert
