"""Reading, checking and importing a package (`import_qq_package`).

What is imported today: the region layers (XJXZQ/XJQY/CJQY/ZJQY), the issuers (FBF table of the
attribute tables, or derived from the parcel codes), the parcels (DK), and the households, members,
contracts, contract parcels and certificates of the attribute tables: the package's `.mdb` (read with
mdbtools) or the GeoPackage our export writes in its place, and the boundary points and lines (JZD/JZX).
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from core.ports import ensure
from spatial.bulk import reproject
from spatial.measure import STORAGE_SRID, gk3_srid_for_longitude
from spatial.models import CountySettings

from . import standard as S
from .boundaries import Boundaries, read_boundaries
from .columns import feature_count, read_rows
from .package import Package, PackageError, check_sidecars, layer_encoding, open_package
from .quality import DkRecord, Report, check_codes, check_gaps, check_geometry
from .tables import COUNTED_ONLY, check_tables, contract_parcels_missing, read_tables, table_source

MAX_FEATURES = 5_000_000  # a county has well under a million parcels; more is junk, not data
Progress = Callable[[str], None]


def _read_dk(shp: Path, encoding: str) -> tuple[list[DkRecord], np.ndarray]:
    count = feature_count(shp)
    if count > MAX_FEATURES:
        raise PackageError(f"{shp.name} 有 {count} 个要素，超过上限", f"{shp.name} has too many features ({count})")
    rows, geoms = read_rows(shp, encoding=encoding)
    if rows and "DKBM" not in rows[0]:
        raise PackageError(f"{shp.name} 没有 DKBM 字段", f"{shp.name} has no DKBM field")
    assert geoms is not None
    geoms = np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)  # a row without a shape is checked as empty
    return [DkRecord(str(r.get("DKBM") or "").strip(), r) for r in rows], geoms


def _plane_srid(county: str, source_srid: int, geoms: np.ndarray) -> int:
    settings_row = CountySettings.objects.filter(region__code=county).first()
    if settings_row:
        return settings_row.measure_srid
    if source_srid != STORAGE_SRID:
        return source_srid
    centre = shapely.centroid(shapely.union_all(shapely.envelope(geoms[:1000])))
    return gk3_srid_for_longitude(centre.x)


def _tables(pkg_root: Path) -> dict[str, str]:
    folder = pkg_root / "权属数据"
    found = {}
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() in (".mdb", ".accdb", ".gpkg"):
                found[p.name] = p.suffix.lower().lstrip(".")
    return found


@dataclass
class PackageData:
    """What a package holds, read and checked; geometries in the county plane."""

    report: Report
    records: list[DkRecord] = field(default_factory=list)
    geoms: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    plane: int = 0
    regions: list[tuple[str, str, str, shapely.Geometry]] = field(default_factory=list)  # level, code, name, geom
    issuers: list[dict[str, Any]] = field(default_factory=list)  # FBF rows
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # CBF, CBF_JTCY, CBHT, CBDKXX, CBJYQZ
    boundaries: Boundaries = field(default_factory=Boundaries)  # JZD, JZX
    checks: "Future[Report] | None" = None  # the geometry checks, running in a thread (finish_checks)


def _read_regions(pkg: Package, plane: int) -> list[tuple[str, str, str, shapely.Geometry]]:
    out = []
    for level, layer in S.REGION_LAYERS.items():
        shp = pkg.layer_path(layer.name)
        if shp is None:
            continue
        check_sidecars(shp)
        srid = pkg.layer_srid(shp)
        code_field, name_field = list(layer.fields)[2], list(layer.fields)[3]
        rows, geoms = read_rows(shp, encoding=layer_encoding(shp))
        assert geoms is not None
        planar = reproject(geoms, srid, plane)
        out += [
            (level, str(r.get(code_field) or ""), str(r.get(name_field) or ""), g)
            for r, g in zip(rows, planar, strict=True)
        ]
    return out


def read_package(pkg: Package, progress: Progress) -> PackageData:
    """Read and check the DK layer (and the region layers and FBF table where present)."""
    data = PackageData(Report(county=pkg.county))
    report = data.report
    # Threads of their own for GDAL's reading of the tables and for shapely's checks (both release the
    # GIL): the tables are read while the DK layer is, the geometry is checked while the rest goes on.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="package-tables")
    tables_read = pool.submit(_read_and_check_tables, pkg.root, pkg.county)
    pool.shutdown(wait=False)  # the threads end with their tasks; nobody waits here
    shp = pkg.layer_path("DK")
    if shp is None:
        report.reject("数据包中没有 DK 地块图层", "the package has no DK layer")
        return data
    check_sidecars(shp)
    srid = pkg.layer_srid(shp)
    encoding = layer_encoding(shp)
    data.records, geoms = _read_dk(shp, encoding)
    progress(f"读取 DK 地块 {len(data.records)} 个（EPSG:{srid}，{encoding}）/ read {len(data.records)} parcels")
    data.plane = _plane_srid(pkg.county, srid, geoms)
    data.geoms = reproject(geoms, srid, data.plane)
    report.layers["DK"] = {
        "file": shp.name,
        "features": len(data.records),
        "srid": srid,
        "encoding": encoding,
        "measured_in": data.plane,
    }
    check_codes(report, data.records)
    dkbms = {r.dkbm for r in data.records}
    tables = _tables(pkg.root)
    report.layers["tables"] = {"files": tables}
    if not tables:
        report.layers["tables"]["note"] = "数据包没有权属数据表，只含地块 / no attribute tables: parcels only"
    data.regions = _read_regions(pkg, data.plane)
    jzd, jzx = pkg.layer_path("JZD"), pkg.layer_path("JZX")
    if jzd is not None or jzx is not None:
        data.boundaries = read_boundaries(jzd, jzx, data.plane, report, dkbms, pkg.layer_srid)
        progress(
            f"读取界址点 {len(data.boundaries.points)} 个、界址线 {len(data.boundaries.lines)} 条"
            f" / read boundary points and lines"
        )
    territories = {code for level, code, _, _ in data.regions if level == "group"}
    checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="package-checks")
    data.checks = checks.submit(_geometry_checks, report.county, data.records, data.geoms, territories)
    checks.shutdown(wait=False)
    source = table_source(pkg.root)
    data.tables, found = tables_read.result()
    report.code_errors += found.code_errors
    report.duplicate_codes += found.duplicate_codes
    report.households_without_members = found.households_without_members
    report.id_check_failures = found.id_check_failures
    if found.rejected:
        report.rejected = True
        report.reasons += found.reasons
    if source is not None:
        report.layers["tables"]["read_from"] = source.name
        report.layers["tables"]["rows"] = {name: len(rows) for name, rows in data.tables.items()}
        progress(f"读取权属数据 {source.name} / read the attribute tables")
    counted = [name for name in COUNTED_ONLY if data.tables.pop(name, None) is not None]
    if counted:
        report.layers["tables"]["not_loaded"] = counted
    data.issuers = data.tables.pop("FBF", [])
    if data.tables:
        report.contract_parcels_missing = contract_parcels_missing(data.tables, dkbms)
    return data


def _read_and_check_tables(root: Path, county: str) -> tuple[dict[str, list[dict[str, Any]]], Report]:
    """Read the attribute tables and check what needs no parcels (codes, members, ID numbers)."""
    tables = read_tables(root)
    found = Report(county=county)
    check_tables(found, tables, None)
    return tables, found


GEOMETRY_FINDINGS = [
    "invalid_geometries",
    "area_mismatches",
    "mu_mismatches",
    "missing_four_sides",
    "overlaps",
    "neighbouring_issuers",
    "gaps",
]


def _geometry_checks(county: str, records: list[DkRecord], geoms: np.ndarray, territories: set[str]) -> Report:
    """In a thread of its own (shapely releases the GIL), beside the reading of the tables and the load."""
    found = Report(county=county)
    check_geometry(found, records, geoms)
    check_gaps(found, records, geoms, territories)
    return found


def finish_checks(data: PackageData, progress: Progress) -> None:
    """Wait for the geometry checks and put their findings into the report."""
    if data.checks is not None:
        found = data.checks.result()
        data.checks = None
        for name in GEOMETRY_FINDINGS:
            setattr(data.report, name, getattr(found, name))
    report = data.report
    progress(
        f"检查完成 / checked: {len(report.overlaps)} 处重叠, {len(report.area_mismatches)} 个面积不符, "
        f"{len(report.code_errors)} 个编码错误, {len(report.invalid_geometries)} 个无效图形"
    )


def package_check(*, path: Path, progress: Progress = print) -> Report:
    """Open, read and check a package; writes nothing. Problems become findings, never exceptions."""
    try:
        with open_package(path) as pkg:
            data = read_package(pkg, progress)
            finish_checks(data, progress)
            return data.report
    except PackageError as exc:
        report = Report(county="")
        report.reject(exc.zh, exc.en)
        return report


def package_import(*, actor: Any, path: Path, county: str | None = None, progress: Progress = print) -> Report:
    """Check a package and, when it is usable, load it into the registry in one transaction.

    Unusable packages (unreadable layers, CRS outside the list, malformed or duplicate codes) change
    nothing and come back with the reasons. Quality findings are imported as flags on the parcels.
    Importing the same package again changes nothing; a changed parcel gets a new version.
    """
    from .load import load_package

    try:
        with open_package(path) as pkg:
            data = read_package(pkg, progress)
            if county is not None and pkg.county != county:
                data.report.reject(
                    f"数据包属于 {pkg.county}，不是所选的县 {county}",
                    f"the package is of county {pkg.county}, not {county}",
                )
            if data.report.rejected:
                finish_checks(data, progress)  # the whole report, so that one round of fixes is enough
                return data.report
            ensure(actor, "packages.import", pkg.county)
            load_package(actor=actor, data=data, source=Path(path).name, progress=progress)
            return data.report
    except PackageError as exc:
        report = Report(county="")
        report.reject(exc.zh, exc.en)
        return report
