"""Loading a checked package into the registry: regions, issuers, parcels, boundary points and lines, and
the attribute tables; one transaction.

A parcel whose attributes and geometry (to the millimetre, in the county plane) equal its current
version is left alone; a changed one gets version n+1 and version n is closed; a new one gets version 1.
"""

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction

from audit import services as audit
from core.bulk import copy_rows, empty_tables_loaded_in_bulk, next_id, reset_sequence
from core.codes import REGION_CODE_LENGTHS, county_of, issuer_of, township_of, validate_fbfbm, village_of
from core.errors import DomainError
from spatial import services as spatial_services
from spatial.bulk import multi_ewkb, reproject
from spatial.measure import STORAGE_SRID, mu_from_m2, round_m2
from spatial.models import CountySettings, Issuer, Region

from .boundaries import load_boundaries
from .importer import finish_checks
from .package import PackageError
from .tables import load_tables

if TYPE_CHECKING:
    from .importer import PackageData, Progress

BULK_TABLES = {  # what a package loads, by the part of the package that fills it
    "DK": ["spatial_parcel"],
    "JZD/JZX": [
        "spatial_boundarypoint",
        "spatial_boundarypoint_parcels",
        "spatial_boundaryline",
        "spatial_boundaryline_parcels",
    ],
    "tables": [
        "contracts_contractor",
        "contracts_familymember",
        "contracts_contract",
        "contracts_contractparcel",
        "contracts_certificate",
    ],
}
COORD_TOLERANCE_M = 0.0005  # "the same geometry": every vertex within half a millimetre
_LEVEL_OF_LENGTH = {v: k for k, v in REGION_CODE_LENGTHS.items()}
# DK field → Parcel column, in the order the loader writes them.
DK_COLUMNS = {
    "BSM": "bsm",
    "YSDM": "ysdm",
    "DKMC": "dkmc",
    "SYQXZ": "syqxz",
    "DKLB": "dklb",
    "TDLYLX": "tdlylx",
    "DLDJ": "dldj",
    "TDYT": "tdyt",
    "SFJBNT": "sfjbnt",
    "SCMJ": "scmj",
    "SCMJM": "scmjm",
    "DKDZ": "dkdz",
    "DKXZ": "dkxz",
    "DKNZ": "dknz",
    "DKBZ": "dkbz",
    "DKBZXX": "dkbzxx",
    "ZJRXM": "zjrxm",
    "KJZB": "kjzb",
}


def _geos(geom: shapely.Geometry, plane: int) -> MultiPolygon:
    g = reproject(np.array([geom], dtype=object), plane, STORAGE_SRID)[0]
    if g.geom_type == "Polygon":
        g = shapely.MultiPolygon([g])
    out = GEOSGeometry(memoryview(shapely.to_wkb(g, include_srid=False)), srid=STORAGE_SRID)
    assert isinstance(out, MultiPolygon)  # wrapped above
    return out


def _ensure_regions(actor: Any, data: "PackageData", fbfbms: set[str]) -> tuple[dict[str, Region], list[str]]:
    """Regions of the package's layers, plus any that the parcel codes need; returns them and the codes
    created without a name (no region layer held them)."""
    named = {code: (level, name, geom) for level, code, name, geom in data.regions}
    needed: set[str] = {data.report.county}
    for f in fbfbms:
        needed |= {township_of(f), village_of(f)} | ({f} if not f.endswith("00") else set())
    needed |= set(named)
    existing = {r.code: r for r in Region.objects.filter(code__in=needed)}
    unnamed = []
    for code in sorted(needed, key=lambda c: (len(c), c)):
        if code in existing:
            region = existing[code]
            if region.outline is None and code in named and named[code][2] is not None:
                region.outline = _geos(named[code][2], data.plane)
                region.save(update_fields=["outline"])
            continue
        level = _LEVEL_OF_LENGTH.get(len(code))
        if level is None:
            raise PackageError(f"区域代码 {code} 长度不对", f"region code {code} has a wrong length")
        name = named[code][1] if code in named and named[code][1] else code
        if name == code:
            unnamed.append(code)
        parent_code = {9: county_of(code), 12: township_of(code), 14: village_of(code)}.get(len(code))
        parent = existing.get(parent_code) if parent_code else None
        geom = named[code][2] if code in named else None
        existing[code] = spatial_services.region_create(
            actor=actor,
            code=code,
            name=name,
            level=level,
            parent=parent,
            outline=_geos(geom, data.plane) if geom is not None else None,
        )
    return existing, unnamed


def _ensure_issuers(actor: Any, data: "PackageData", fbfbms: set[str], regions: dict[str, Region]) -> dict[str, int]:
    rows = {str(r.get("FBFBM") or ""): r for r in data.issuers}
    existing = dict(Issuer.objects.filter(fbfbm__in=fbfbms).values_list("fbfbm", "id"))
    for fbfbm in sorted(fbfbms - set(existing)):
        validate_fbfbm(fbfbm)
        region = regions[village_of(fbfbm) if fbfbm.endswith("00") else fbfbm]
        row = rows.get(fbfbm, {})
        issuer = spatial_services.issuer_create(
            actor=actor,
            fbfbm=fbfbm,
            name=row.get("FBFMC") or region.name,
            region=region,
            person_in_charge=row.get("FBFFZRXM") or "",
            phone=row.get("LXDH") or "",
            address=row.get("FBFDZ") or "",
            territory=region.outline,
        )
        existing[fbfbm] = issuer.id
    return existing


_TEXT_FIELDS = [(f, c) for f, c in DK_COLUMNS.items() if c not in ("bsm", "scmj", "scmjm")]


def _normal(props: dict[str, Any], area: float) -> dict[str, Any]:
    """DK attributes as the registry stores them (text stripped, areas in cents; a missing SCMJ measured)."""
    out: dict[str, Any] = {}
    bsm = props.get("BSM")
    out["bsm"] = int(bsm) if bsm not in (None, "") else None
    for field_name, column in _TEXT_FIELDS:
        value = props.get(field_name)
        out[column] = value.strip() if value.__class__ is str else ("" if value is None else str(value).strip())
    out["ysdm"] = out["ysdm"] or "211011"
    scmj = round_m2(props["SCMJ"]) if props.get("SCMJ") is not None else round_m2(area)
    out["scmj"] = scmj
    out["scmjm"] = round_m2(props["SCMJM"]) if props.get("SCMJM") is not None else mu_from_m2(scmj)
    return out


def _flags(report: Any) -> dict[str, dict[str, Any]]:
    flags: dict[str, dict[str, Any]] = defaultdict(dict)
    for a, b, area in report.overlaps:
        flags[a].setdefault("overlaps", []).append([b, area])
        flags[b].setdefault("overlaps", []).append([a, area])
    for m in report.area_mismatches:
        flags[m["dkbm"]]["area_mismatch"] = {"scmj": m["scmj"], "measured": m["measured"]}
    for m in report.mu_mismatches:
        flags[m["dkbm"]]["mu_mismatch"] = {"scmjm": m["scmjm"], "expected": m["expected"]}
    for d in report.missing_four_sides:
        flags[d]["missing_four_sides"] = True
    for g in report.invalid_geometries:
        flags[g["dkbm"]]["invalid_geometry"] = g["reason"]
    return flags


def _current(county: str, plane: int) -> dict[str, tuple[int, int, dict[str, Any], shapely.Geometry, dict]]:
    cols = ", ".join(DK_COLUMNS.values())
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id, dkbm, version, {cols}, quality_flags, ST_AsBinary(ST_Transform(geom, {int(plane)})) "
            "FROM spatial_parcel WHERE valid_to IS NULL AND dkbm LIKE %s",
            [county + "%"],
        )
        out = {}
        for row in cur.fetchall():
            pid, dkbm, version, *values, flags, wkb = row
            attrs = dict(zip(DK_COLUMNS.values(), values, strict=True))
            out[dkbm] = (pid, version, attrs, shapely.from_wkb(bytes(wkb)), flags or {})
    return out


def _same_geometry(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    a = a if a.geom_type == "MultiPolygon" else shapely.MultiPolygon([a])
    b = b if b.geom_type == "MultiPolygon" else shapely.MultiPolygon([b])
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=COORD_TOLERANCE_M))


def _same_attrs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    def norm(v: Any) -> Any:
        if isinstance(v, float | Decimal):
            return round_m2(v)
        return "" if v is None else v

    return all(norm(old[k]) == norm(new[k]) for k in new if k != "bsm") and old.get("bsm") == new.get("bsm")


@transaction.atomic
def load_package(*, actor: Any, data: "PackageData", source: str, progress: "Progress") -> None:
    report = data.report
    county = report.county
    fbfbms = {issuer_of(r.dkbm) for r in data.records}
    for table, key in (("CBF", "CBFBM"), ("CBHT", "CBHTBM")):  # households and contracts may name more issuers
        fbfbms |= {issuer_of(str(row.get(key) or "")) for row in data.tables.get(table, [])}
    try:
        regions, unnamed = _ensure_regions(actor, data, fbfbms)
        if not CountySettings.objects.filter(region__code=county).exists():
            spatial_services.county_settings_set(actor=actor, county=regions[county], measure_srid=data.plane)
        issuer_ids = _ensure_issuers(actor, data, fbfbms, regions)
    except DomainError as exc:
        raise PackageError(exc.zh, exc.en) from exc
    if unnamed:
        report.layers["regions"] = {"created_without_name": unnamed}

    now = datetime.now(UTC)
    # The first load of an empty registry builds indexes and checks keys once, after the rows are in.
    bulk = BULK_TABLES["DK"] + (BULK_TABLES["tables"] if data.tables else [])
    bulk += BULK_TABLES["JZD/JZX"] if data.boundaries.points or data.boundaries.lines else []
    with empty_tables_loaded_in_bulk(bulk) as rebuilt:
        current = _current(county, data.plane)
        new_rows, closed, kept = [], [], []
        areas = shapely.area(data.geoms)
        for rec, geom, area in zip(data.records, data.geoms, areas, strict=True):
            attrs = _normal(rec.props, float(area))
            old = current.get(rec.dkbm)
            if old is not None:
                pid, version, old_attrs, old_geom, old_flags = old
                if _same_attrs(old_attrs, attrs) and _same_geometry(old_geom, geom):
                    kept.append((rec.dkbm, pid, old_flags))
                    continue
                closed.append(pid)
                new_rows.append((rec.dkbm, version + 1, attrs, geom))
            else:
                new_rows.append((rec.dkbm, 1, attrs, geom))

        if closed:
            with connection.cursor() as cur:
                cur.execute(
                    "UPDATE spatial_parcel SET valid_to = %s, status = 'superseded' WHERE id = ANY(%s)", [now, closed]
                )
        start = next_id("spatial_parcel") if new_rows else 0
        if new_rows:
            ewkb = multi_ewkb(reproject(np.array([r[3] for r in new_rows], dtype=object), data.plane, STORAGE_SRID))
            columns = [
                "id",
                "version",
                "valid_from",
                "valid_to",
                "status",
                "dkbm",
                "issuer_id",
                *DK_COLUMNS.values(),
                "geom",
                "quality_flags",
            ]
            copy_rows(
                "spatial_parcel",
                columns,
                (
                    (
                        start + i,
                        version,
                        now,
                        None,
                        "current",
                        dkbm,
                        issuer_ids[issuer_of(dkbm)],
                        *[attrs[c] for c in DK_COLUMNS.values()],
                        ewkb[i],
                        "{}",  # the geometry checks' flags are set below, once they are done
                    )
                    for i, (dkbm, version, attrs, _) in enumerate(new_rows)
                ),
            )
            reset_sequence("spatial_parcel")
        boundary_counts = load_boundaries(
            data.boundaries, county=county, plane=data.plane, issuer_ids=issuer_ids, now=now
        )
        for layer, kind in (("JZD", "points"), ("JZX", "lines")):
            if layer in report.layers:
                counts = {k.split("_", 1)[1]: v for k, v in boundary_counts.items() if k.startswith(kind)}
                report.layers[layer].update(counts)
        if data.tables:
            report.tables_imported = load_tables(report=report, tables=data.tables, issuer_ids=issuer_ids, now=now)

    # Flags from the geometry checks, which ran in a thread beside all of the above.
    finish_checks(data, progress)
    flags = _flags(report)
    reflag = [(start + i, flags[r[0]]) for i, r in enumerate(new_rows) if r[0] in flags]
    reflag += [(pid, flags.get(dkbm, {})) for dkbm, pid, old in kept if old != flags.get(dkbm, {})]
    if reflag:
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE spatial_parcel p SET quality_flags = v.f::jsonb "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, f) WHERE p.id = v.id",
                [[pid for pid, _ in reflag], [json.dumps(f) for _, f in reflag]],
            )
    created = sum(1 for r in new_rows if r[1] == 1)
    report.parcels_imported = len(new_rows)
    report.layers["DK"].update(new=created, changed=len(closed), unchanged=len(data.records) - len(new_rows))
    audit.record(
        actor=actor,
        action="package.imported",
        subject=("spatial.region", county),
        region_code=county,
        data={
            "source": source,
            "new": created,
            "changed": len(closed),
            "unchanged": len(data.records) - len(new_rows),
            "overlaps": len(report.overlaps),
            "area_mismatches": len(report.area_mismatches),
            "tables": report.tables_imported,
            "boundaries": dict(boundary_counts),
            "bulk_loaded_tables": rebuilt,
        },
    )
    progress(f"导入完成 / imported: 新增 {created}，变更 {len(closed)}，未变 {len(data.records) - len(new_rows)}")
