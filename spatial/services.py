"""Writes to regions, issuers and parcels: permission check, validation, one transaction, audit event."""

from datetime import UTC, datetime
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.db import IntegrityError, connection, transaction

from audit import services as audit
from core.codes import (
    REGION_CODE_LENGTHS,
    county_of,
    validate_child_code,
    validate_dkbm,
    validate_fbfbm,
    validate_region_code,
)
from core.errors import CodeError, DuplicateCodeError, GeometryError
from core.ports import ensure

from .measure import STORAGE_SRID, geometry_area_m2, mu_from_m2
from .models import CountySettings, Issuer, Parcel, Region, Versioned, VersionStatus

_LEVELS = list(REGION_CODE_LENGTHS)


def version_put_in_force(record: Versioned, now: datetime) -> None:
    """A pending version of a versioned record (parcel, household, contract) is in force from `now`; the
    version of its code in force until then closes (历史). Part of the caller's service: the caller has
    checked who may, holds the rows locked in its transaction and audits the change it belongs to."""
    code = {record.code_field: getattr(record, record.code_field)}
    type(record)._default_manager.filter(**code, valid_to__isnull=True).exclude(pk=record.pk).update(
        valid_to=now, status=VersionStatus.SUPERSEDED
    )
    record.valid_from, record.valid_to, record.status = now, None, VersionStatus.CURRENT
    record.save(update_fields=["valid_from", "valid_to", "status"])


def clean_parcel_geometry(geom: GEOSGeometry | str) -> MultiPolygon:
    """A valid (Multi)Polygon in EPSG:4490, or GeometryError saying what is wrong and where."""
    try:
        g = geom if isinstance(geom, GEOSGeometry) else GEOSGeometry(geom)
    except (GEOSException, ValueError, TypeError):
        raise GeometryError("无法读取地块图形", "the parcel geometry cannot be read", field="geom") from None
    if g.srid is None:
        raise GeometryError("地块图形缺少坐标系", "the parcel geometry has no coordinate system", field="geom")
    if g.srid != STORAGE_SRID:
        raise GeometryError(
            f"地块图形须为 CGCS2000（EPSG:4490），收到 EPSG:{g.srid}",
            f"parcel geometry must be CGCS2000 (EPSG:4490), got EPSG:{g.srid}",
            field="geom",
        )
    if isinstance(g, Polygon):
        g = MultiPolygon(g, srid=STORAGE_SRID)
    if not isinstance(g, MultiPolygon) or g.empty:
        raise GeometryError("地块图形须为面", "a parcel geometry must be a polygon", field="geom")
    if not g.valid:
        raise GeometryError(
            f"地块图形无效：{g.valid_reason}", f"invalid parcel geometry: {g.valid_reason}", field="geom"
        )
    return g


@transaction.atomic
def region_create(
    *,
    actor: Any,
    code: str,
    name: str,
    level: str,
    parent: Region | None,
    outline: MultiPolygon | None = None,
) -> Region:
    validate_region_code(code, level)
    if level == "county":
        if parent is not None:
            raise CodeError("县级区域没有上级", "a county has no parent region", field="parent")
    else:
        if parent is None or _LEVELS.index(parent.level) != _LEVELS.index(level) - 1:
            raise CodeError("上级区域级别不对", "the parent region is not one level up", field="parent")
        validate_child_code(code, parent.code)
    ensure(actor, "regions.edit", code)
    if Region.objects.filter(code=code).exists():
        raise DuplicateCodeError(f"区域代码 {code} 已存在", f"region code {code} already exists", field="code")
    region = Region.objects.create(code=code, name=name, level=level, parent=parent, outline=outline)
    audit.record(actor=actor, action="region.created", subject=region, region_code=code, data={"name": name})
    return region


@transaction.atomic
def county_settings_set(*, actor: Any, county: Region, measure_srid: int) -> CountySettings:
    from .measure import GK3_SRIDS

    ensure(actor, "regions.edit", county.code)
    allowed = set(GK3_SRIDS.values()) | set(range(4513, 4534))  # CGCS2000 3° GK, with or without zone prefix
    if county.level != "county" or measure_srid not in allowed:
        raise CodeError(
            "量算坐标系须为 CGCS2000 3 度带高斯-克吕格投影",
            "the measurement CRS must be a CGCS2000 3° GK zone",
            field="measure_srid",
        )
    obj, _ = CountySettings.objects.update_or_create(region=county, defaults={"measure_srid": measure_srid})
    audit.record(
        actor=actor,
        action="county.settings_set",
        subject=obj,
        region_code=county.code,
        data={"measure_srid": measure_srid},
    )
    return obj


def measure_srid_for(code: str) -> int:
    settings_row = CountySettings.objects.filter(region__code=county_of(code)).first()
    if settings_row is None:
        raise CodeError(
            f"县 {county_of(code)} 未设置量算坐标系", f"county {county_of(code)} has no measurement CRS set"
        )
    return settings_row.measure_srid


@transaction.atomic
def issuer_create(*, actor: Any, fbfbm: str, name: str, region: Region, person_in_charge: str, **fields: Any) -> Issuer:
    validate_fbfbm(fbfbm)
    if region.level not in ("village", "group") or not fbfbm.startswith(region.code):
        raise CodeError(
            "发包方编码须为所在村（以 00 结尾）或村民小组的代码",
            "an issuer code is its village's code plus 00, or its group's code",
            field="fbfbm",
        )
    if region.level == "village" and fbfbm != region.code + "00":
        raise CodeError("村级发包方编码须以 00 结尾", "a village issuer's code ends in 00", field="fbfbm")
    ensure(actor, "regions.edit", fbfbm)
    if Issuer.objects.filter(fbfbm=fbfbm).exists():
        raise DuplicateCodeError(f"发包方编码 {fbfbm} 已存在", f"issuer code {fbfbm} already exists", field="fbfbm")
    issuer = Issuer.objects.create(fbfbm=fbfbm, name=name, region=region, person_in_charge=person_in_charge, **fields)
    audit.record(actor=actor, action="issuer.created", subject=issuer, region_code=fbfbm, data={"name": name})
    return issuer


@transaction.atomic
def parcel_create(
    *, actor: Any, issuer: Issuer, dkbm: str, dkmc: str, geom: GEOSGeometry | str, **fields: Any
) -> Parcel:
    """Register a new parcel: valid code and geometry, SCMJ measured in the county plane."""
    validate_dkbm(dkbm, issuer.fbfbm)
    ensure(actor, "parcels.edit", dkbm)
    g = clean_parcel_geometry(geom)
    if Parcel.objects.filter(dkbm=dkbm).exists():
        raise DuplicateCodeError(f"地块编码 {dkbm} 已存在", f"parcel code {dkbm} already exists", field="dkbm")
    scmj = geometry_area_m2(g, measure_srid_for(dkbm))
    try:
        with transaction.atomic():
            parcel = Parcel.objects.create(
                issuer=issuer,
                dkbm=dkbm,
                dkmc=dkmc,
                geom=g,
                scmj=scmj,
                scmjm=mu_from_m2(scmj),
                version=1,
                valid_from=datetime.now(UTC),
                status=VersionStatus.CURRENT,
                **fields,
            )
    except IntegrityError:
        raise DuplicateCodeError(
            f"地块编码 {dkbm} 已存在", f"parcel code {dkbm} already exists", field="dkbm"
        ) from None
    audit.record(
        actor=actor,
        action="parcel.created",
        subject=parcel,
        region_code=dkbm,
        data={"dkbm": dkbm, "scmj": scmj},
    )
    return parcel


def _copied_fields(parcel: Parcel) -> dict[str, Any]:
    """A parcel version's stored fields, to start the next version from (not its id or generated copy)."""
    return {
        f.attname: getattr(parcel, f.attname)
        for f in Parcel._meta.concrete_fields
        if f.attname not in ("id", "geom_3857") and not f.generated
    }


@transaction.atomic
def parcel_revise(*, actor: Any, parcel: Parcel, geom: GEOSGeometry | str | None = None, **fields: Any) -> Parcel:
    """Make version n+1 of a current parcel and close version n; nothing is overwritten."""
    ensure(actor, "parcels.edit", parcel.dkbm)
    current = Parcel.objects.select_for_update().get(pk=parcel.pk)
    if current.valid_to is not None:
        raise CodeError("只能修改现势地块", "only the current version of a parcel can be revised", field="version")
    now = datetime.now(UTC)
    g = clean_parcel_geometry(geom) if geom is not None else current.geom
    scmj = geometry_area_m2(g, measure_srid_for(current.dkbm))
    Parcel.objects.filter(pk=current.pk).update(valid_to=now, status=VersionStatus.SUPERSEDED)
    data = _copied_fields(current)
    data.update(fields)
    data.update(
        geom=g,
        scmj=scmj,
        scmjm=mu_from_m2(scmj),
        version=current.version + 1,
        valid_from=now,
        valid_to=None,
        status=VersionStatus.CURRENT,
    )
    new = Parcel.objects.create(**data)
    audit.record(
        actor=actor,
        action="parcel.revised",
        subject=new,
        region_code=new.dkbm,
        data={
            "dkbm": new.dkbm,
            "version": new.version,
            "changed": sorted(fields) + (["geom"] if geom else []),
        },
    )
    return new


# --- versions prepared ahead of a filing --------------------------------------------------------------
# An approved change (a re-surveyed or split parcel) is staged as a pending version: valid_from = valid_to,
# status 待备案, so no "current" query sees it. Filing the contract that holds it puts it in force
# (`parcel_versions_activate`); a parcel the change ends (the whole of it went into others) is retired.


@transaction.atomic
def parcel_stage(
    *, actor: Any, issuer: Issuer, dkbm: str, geom: GEOSGeometry | str, dkmc: str = "", **fields: Any
) -> Parcel:
    """A pending version of `dkbm`: the next version of a current parcel (its other fields copied), or
    version 1 of a new code. A pending version already waiting for that code is refused."""
    validate_dkbm(dkbm, issuer.fbfbm)
    ensure(actor, "parcels.edit", dkbm)
    g = clean_parcel_geometry(geom)
    versions = list(Parcel.objects.select_for_update().filter(dkbm=dkbm).order_by("version"))
    if any(v.status == VersionStatus.PENDING for v in versions):
        raise DuplicateCodeError(
            f"地块 {dkbm} 已有待备案的新版本", f"parcel {dkbm} already has a version waiting", field="dkbm"
        )
    current = next((v for v in versions if v.valid_to is None), None)
    if versions and current is None:
        raise CodeError(f"地块 {dkbm} 已注销，不能再用", f"parcel code {dkbm} was retired", field="dkbm")
    data: dict[str, Any] = _copied_fields(current) if current is not None else {}
    scmj = geometry_area_m2(g, measure_srid_for(dkbm))
    now = datetime.now(UTC)
    data.update(fields)
    data.update(
        issuer_id=issuer.pk,
        dkbm=dkbm,
        dkmc=dkmc or data.get("dkmc") or dkbm[-5:],
        geom=g,
        scmj=scmj,
        scmjm=mu_from_m2(scmj),
        version=(versions[-1].version + 1) if versions else 1,
        valid_from=now,
        valid_to=now,
        status=VersionStatus.PENDING,
    )
    parcel = Parcel.objects.create(**data)
    audit.record(
        actor=actor,
        action="parcel.staged",
        subject=parcel,
        region_code=dkbm,
        data={"dkbm": dkbm, "version": parcel.version, "scmj": str(scmj)},
    )
    return parcel


def next_parcel_code(issuer: Issuer, taken: set[str] | None = None) -> str:
    """The issuer's next unused parcel code (FBFBM + 5 digits), skipping `taken` (codes being handed out).
    Under a transaction-scoped advisory lock on the issuer, so that two approvals at once never hand out
    the same code: call it in the transaction that stores the parcel."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tianjie-parcel-code-{issuer.fbfbm}"])
    last = Parcel.objects.filter(dkbm__startswith=issuer.fbfbm).order_by("-dkbm").values_list("dkbm", flat=True).first()
    number = int(last[14:]) + 1 if last else 1
    while f"{issuer.fbfbm}{number:05d}" in (taken or set()):
        number += 1
    if number > 99999:
        raise CodeError("发包方的地块编码已用完", "the issuer has used every parcel code", field="dkbm")
    return f"{issuer.fbfbm}{number:05d}"


@transaction.atomic
def parcel_versions_activate(*, actor: Any, parcels: list[Parcel]) -> list[Parcel]:
    """Put pending versions in force now, each closing the current version of its code (历史)."""
    now = datetime.now(UTC)
    done = []
    for pending in Parcel.objects.select_for_update().filter(
        pk__in=[p.pk for p in parcels], status=VersionStatus.PENDING
    ):
        ensure(actor, "parcels.edit", pending.dkbm)
        version_put_in_force(pending, now)
        done.append(pending)
        audit.record(
            actor=actor,
            action="parcel.activated",
            subject=pending,
            region_code=pending.dkbm,
            data={"dkbm": pending.dkbm, "version": pending.version},
        )
    return done


@transaction.atomic
def parcel_retire(*, actor: Any, dkbm: str, reason: str) -> Parcel | None:
    """End a parcel whose ground went wholly into others (a split giving both halves new codes, say):
    its current version is closed as 注销; the code is never used again."""
    ensure(actor, "parcels.edit", dkbm)
    current = Parcel.objects.select_for_update().filter(dkbm=dkbm, valid_to__isnull=True).first()
    if current is None:
        return None
    current.valid_to, current.status = datetime.now(UTC), VersionStatus.CANCELLED
    current.save(update_fields=["valid_to", "status"])
    audit.record(
        actor=actor,
        action="parcel.retired",
        subject=current,
        region_code=dkbm,
        data={"dkbm": dkbm, "version": current.version, "reason": reason[:200]},
    )
    return current
