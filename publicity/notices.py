"""Notices 公示: create (draft), post (period and audience fixed), objections filed and answered, and the
end of the period. Each write checks who may do it, runs in one transaction and is audited.

Who: a unit that may post (`notices.post`: the issuer's village or group officer, the township, the
county bureau) owns the notices it creates for subjects inside its region; members of the audience (a
farmer, a village or group officer of one of the collectives) may object while the period runs; the
owner answers. An open objection blocks completion.
"""

from datetime import UTC, date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.notifications import notify_users, officers_of
from accounts.scoping import can, scope_prefixes
from audit import services as audit
from core.codes import county_of, issuer_of
from core.errors import DomainError, PermissionDeniedError
from core.numbering import next_number
from core.ports import ensure, resolve_subjects
from core.progress import check_image, store_upload
from spatial.models import CountySettings, Issuer, Parcel, Region

from .calendar import add_working_days
from .models import (
    MIN_WORKING_DAYS,
    Notice,
    NoticeAudience,
    NoticeKind,
    NoticeStatus,
    NoticeSubject,
    Objection,
    ObjectionStatus,
)
from .notify import notify_owner
from .selectors import audience_q, neighbouring_issuers
from .signals import notice_closed

MAX_PHOTO_BYTES = 10 * 1024**2


class NoticeError(DomainError):
    default_code = "notice_invalid"


@transaction.atomic
def notice_create(
    *,
    actor: Any,
    kind: str,
    owner_code: str,
    title: str,
    body: str = "",
    parcels: list[str] | None = None,
    households: list[str] | None = None,
    contracts: list[str] | None = None,
    working_days: int | None = None,
) -> Notice:
    """A draft notice of current parcels (DKBM), households (CBFBM) and contracts (CBHTBM), all inside
    the owner's region."""
    if kind not in NoticeKind.values:
        raise NoticeError(f"未知的公示类型 {kind}", f"unknown notice kind {kind}", field="kind")
    ensure(actor, "notices.post", owner_code)
    owner = Region.objects.filter(code=owner_code).first()
    if owner is None:
        raise NoticeError(f"区域 {owner_code} 不存在", f"region {owner_code} does not exist", field="owner_code")
    minimum = MIN_WORKING_DAYS[NoticeKind(kind)]
    days = working_days or minimum
    if not minimum <= days <= 60:
        raise NoticeError(
            f"{NoticeKind(kind).label}的公示期至少 {minimum} 个工作日（至多 60）",
            f"a {kind} notice runs at least {minimum} working days (at most 60)",
            field="working_days",
        )
    if not title.strip():
        raise NoticeError("请填写公示标题", "give the notice a title", field="title")
    codes = {"parcels": parcels or [], "households": households or [], "contracts": contracts or []}
    if not any(codes.values()):
        raise NoticeError("公示至少要有一个地块、承包方或合同", "a notice needs a parcel, household or contract")
    outside = [c for values in codes.values() for c in values if not c.startswith(owner_code)]
    if outside:
        raise NoticeError(
            f"这些编码不在 {owner.name} 范围内：{'、'.join(outside[:5])}",
            f"outside {owner_code}: {', '.join(outside[:5])}",
        )
    found_parcels = list(Parcel.objects.filter(dkbm__in=codes["parcels"], valid_to__isnull=True))
    rows = {kind: resolve_subjects(kind, codes[kind]) for kind in ("households", "contracts")}
    missing = sorted(set(codes["parcels"]) - {p.dkbm for p in found_parcels}) + [
        c for kind in ("households", "contracts") for c in sorted(set(codes[kind]) - set(rows[kind]))
    ]
    if missing:
        raise NoticeError(f"找不到：{'、'.join(missing[:5])}", f"not found: {', '.join(missing[:5])}")
    notice = Notice.objects.create(
        code=next_number(Notice, "code", f"GS{county_of(owner_code)}{date.today().year}", 6),
        kind=kind,
        title=title.strip()[:200],
        body=body.strip(),
        owner_code=owner_code,
        owner_name=owner.name,
        working_days=days,
        created_by=actor,
    )
    notice.parcels.set(found_parcels)
    NoticeSubject.objects.bulk_create(
        [NoticeSubject(notice=notice, kind=k, code=code, data=row) for k in rows for code, row in rows[k].items()]
    )
    audit.record(
        actor=actor,
        action="notice.created",
        subject=notice,
        region_code=owner_code,
        data={"code": notice.code, "kind": kind, **{k: sorted(v) for k, v in codes.items()}},
    )
    return notice


def own_issuers(notice: Notice) -> list[str]:
    """The collectives the notice's subjects belong to (their FBFBM: the first 14 digits of every code)."""
    codes = {issuer_of(p.dkbm) for p in notice.parcels.all()}
    codes |= {issuer_of(s.code) for s in notice.subjects.all()}
    return sorted(codes)


@transaction.atomic
def notice_post(*, actor: Any, notice: Notice, posted_on: date | None = None) -> Notice:
    """Post a draft: the period's last day from the working-day calendar, the audience from adjacency."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    ensure(actor, "notices.post", notice.owner_code)
    if notice.status != NoticeStatus.DRAFT:
        raise NoticeError("只有草稿可以发布", "only a draft can be posted")
    posted = posted_on or date.today()
    if posted < date.today():
        raise NoticeError("公示日期不能早于今天", "a notice cannot be posted in the past", field="posted_on")
    ends = add_working_days(posted, notice.working_days, notice.owner_code)
    own = own_issuers(notice)
    srid = CountySettings.objects.get(region__code=county_of(notice.owner_code)).measure_srid
    names = dict(Issuer.objects.filter(fbfbm__in=own).values_list("fbfbm", "name"))
    NoticeAudience.objects.bulk_create(
        [NoticeAudience(notice=notice, fbfbm=f, name=names.get(f, f), own=True) for f in own]
        + [NoticeAudience(notice=notice, fbfbm=f, name=n) for f, n in neighbouring_issuers(own, srid)]
    )
    notice.posted_on, notice.ends_on, notice.status = posted, ends, NoticeStatus.POSTED
    notice.save(update_fields=["posted_on", "ends_on", "status"])
    audience = list(notice.audience.values_list("fbfbm", flat=True))
    audit.record(
        actor=actor,
        action="notice.posted",
        subject=notice,
        region_code=notice.owner_code,
        data={"posted_on": posted.isoformat(), "ends_on": ends.isoformat(), "audience": audience},
    )
    notify_users(
        officers_of(audience),
        title=f"新公示：{notice.title}",
        body=f"{notice.owner_name}于 {posted} 发布，公示至 {ends}。如有异议，请在公示期内提出。",
        url=f"/notices/{notice.pk}/",
    )
    return notice


def audience_collective(actor: Any, notice: Notice) -> str | None:
    """The region (one of the actor's objecting offices) through which the actor belongs to the
    audience, if any: the same rule as the notices a user sees (selectors.audience_q)."""
    one = Notice.objects.filter(pk=notice.pk)
    return next((p for p in scope_prefixes(actor, "notices.object") if one.filter(audience_q([p])).exists()), None)


@transaction.atomic
def objection_file(
    *, actor: Any, notice: Notice, reason: str, photo: UploadedFile | None = None, today: date | None = None
) -> Objection:
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    where = audience_collective(actor, notice)
    if where is None:
        raise PermissionDeniedError(
            "只有公示范围内的农户和村组干部可以提出异议", "only the notice's audience may object"
        )
    day = today or date.today()
    if notice.ends_on is not None and day > notice.ends_on:
        raise NoticeError(f"公示期已于 {notice.ends_on} 结束，不能再提出异议", f"the period ended on {notice.ends_on}")
    if notice.status not in (NoticeStatus.POSTED, NoticeStatus.OBJECTED):
        raise NoticeError("这份公示现在不接受异议", "this notice does not take objections now")
    if not reason.strip():
        raise NoticeError("请写明异议理由", "give the reason for the objection", field="reason")
    path = ""
    if photo is not None:
        name = (photo.name or "").lower()
        if not name.endswith((".jpg", ".jpeg", ".png")):
            raise NoticeError("照片须为 JPG 或 PNG", "the photo must be a JPG or PNG", field="photo")
        if photo.size and photo.size > MAX_PHOTO_BYTES:
            raise NoticeError("照片不能超过 10 MB", "the photo must be under 10 MB", field="photo")
        check_image(photo)
        path = str(store_upload(photo, "objections", ".png" if name.endswith(".png") else ".jpg"))
    objection = Objection.objects.create(
        notice=notice, filed_by=actor, filer_code=where, reason=reason.strip(), photo=path
    )
    notice.status = NoticeStatus.OBJECTED
    notice.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="notice.objection_filed",
        subject=objection,
        region_code=notice.owner_code,
        data={"notice": notice.code, "filer_code": where},
    )
    notify_owner(notice, title=f"公示有异议：{notice.title}", body=reason.strip()[:200], url=f"/notices/{notice.pk}/")
    return objection


@transaction.atomic
def objection_answer(*, actor: Any, objection: Objection, answer: str) -> Objection:
    objection = Objection.objects.select_for_update().select_related("notice").get(pk=objection.pk)
    notice = objection.notice
    if not can(actor, "notices.post", notice.owner_code):
        raise PermissionDeniedError("只有公示单位可以答复异议", "only the notice's owner answers objections")
    if objection.status != ObjectionStatus.OPEN:
        raise NoticeError("这条异议已经答复", "this objection has been answered")
    if not answer.strip():
        raise NoticeError("请填写答复", "write the answer", field="answer")
    objection.status, objection.answer = ObjectionStatus.ANSWERED, answer.strip()
    objection.answered_by, objection.answered_at = actor, datetime.now(UTC)
    objection.save()
    if not notice.objections.filter(status=ObjectionStatus.OPEN).exists() and notice.status == NoticeStatus.OBJECTED:
        Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.POSTED)  # back to running
    audit.record(
        actor=actor,
        action="notice.objection_answered",
        subject=objection,
        region_code=notice.owner_code,
        data={"notice": notice.code},
    )
    notify_users(
        [objection.filed_by],
        title=f"异议已答复：{notice.title}",
        body=objection.answer[:200],
        url=f"/notices/{notice.pk}/",
    )
    return objection


@transaction.atomic
def notice_complete(*, actor: Any, notice: Notice, today: date | None = None) -> Notice:
    """End a notice whose period is over. An open objection blocks it (the notice waits, marked)."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    ensure(actor, "notices.post", notice.owner_code)
    day = today or date.today()
    if notice.status in (NoticeStatus.DRAFT, NoticeStatus.CLOSED) or notice.ends_on is None:
        raise NoticeError("这份公示不在公示中", "this notice is not running")
    if day <= notice.ends_on:
        raise NoticeError(f"公示期到 {notice.ends_on} 才结束", f"the period runs until {notice.ends_on}")
    open_count = notice.objections.filter(status=ObjectionStatus.OPEN).count()
    if open_count:
        raise NoticeError(
            f"还有 {open_count} 条异议未答复，答复后才能结束公示",
            f"{open_count} objection(s) are still open: answer them before the notice can end",
            code="objection_open",
        )
    notice.status, notice.closed_at = NoticeStatus.CLOSED, datetime.now(UTC)
    notice.save(update_fields=["status", "closed_at"])
    audit.record(
        actor=actor,
        action="notice.closed",
        subject=notice,
        region_code=notice.owner_code,
        data={"code": notice.code, "ends_on": notice.ends_on.isoformat()},
    )
    notice_closed.send(sender=Notice, notice=notice, actor=actor)
    return notice


@transaction.atomic
def _mark_waiting(notice: Notice) -> None:
    if notice.status == NoticeStatus.PERIOD_OVER:
        return
    Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.PERIOD_OVER)
    audit.record(
        actor=None,
        action="notice.period_over",
        subject=notice,
        region_code=notice.owner_code,
        data={"code": notice.code, "open_objections": notice.objections.filter(status=ObjectionStatus.OPEN).count()},
    )


def notices_close_ended(*, today: date | None = None) -> dict[str, int]:
    """The scheduled job: end every running notice whose period is over, or mark it waiting for answers,
    and tell the owner either way."""
    day = today or date.today()
    done = {"closed": 0, "waiting": 0}
    running = Notice.objects.filter(
        status__in=[NoticeStatus.POSTED, NoticeStatus.OBJECTED, NoticeStatus.PERIOD_OVER], ends_on__lt=day
    ).values_list("pk", flat=True)
    for pk in list(running):
        notice = Notice.objects.get(pk=pk)
        try:
            notice_complete(actor=None, notice=notice, today=day)
        except NoticeError as exc:
            if exc.code != "objection_open":
                raise
            _mark_waiting(notice)
            done["waiting"] += 1
            notify_owner(notice, title=f"公示期满但有异议未答复：{notice.title}", body=exc.zh, url=f"/notices/{pk}/")
            continue
        done["closed"] += 1
        notify_owner(
            notice,
            title=f"公示期满，已结束：{notice.title}",
            body=f"公示期 {notice.posted_on} 至 {notice.ends_on}，无未答复的异议。",
            url=f"/notices/{pk}/",
        )
    return done
