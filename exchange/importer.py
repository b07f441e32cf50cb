"""Reading a package and checking it. This is the first half of `import_qq_package`: it reads the DK layer
(and reports what attribute tables are present) and produces the quality report without writing
anything. Loading into the registry (one transaction, versions for changed records) is the next step of
the import issue and is not implemented yet.
"""

from collections.abc import Callable
from pathlib import Path

import fiona
import numpy as np
import shapely
from fiona.errors import FionaError
from shapely.geometry import shape

from spatial.bulk import reproject
from spatial.measure import STORAGE_SRID, gk3_srid_for_longitude
from spatial.models import CountySettings

from .package import PackageError, check_sidecars, layer_encoding, layer_srid, open_package
from .quality import DkRecord, Report, check_dk

MAX_FEATURES = 5_000_000  # a county has well under a million parcels; more is junk, not data
Progress = Callable[[str], None]


def _read_dk(shp: Path, encoding: str) -> tuple[list[DkRecord], np.ndarray]:
    records, geoms = [], []
    try:
        with fiona.open(shp, encoding=encoding) as src:
            if len(src) > MAX_FEATURES:
                raise PackageError(f"{shp.name} 有 {len(src)} 个要素，超过上限", f"{shp.name} has too many features")
            if "DKBM" not in src.schema["properties"]:
                raise PackageError(f"{shp.name} 没有 DKBM 字段", f"{shp.name} has no DKBM field")
            for feat in src:
                props = dict(feat["properties"])
                records.append(DkRecord(str(props.get("DKBM") or "").strip(), props))
                geoms.append(shape(feat["geometry"]) if feat["geometry"] else shapely.Polygon())
    except (FionaError, OSError, ValueError) as exc:
        raise PackageError(f"无法读取 {shp.name}：{exc}", f"cannot read {shp.name}: {exc}") from None
    return records, np.array(geoms, dtype=object)


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
            if p.suffix.lower() in (".mdb", ".gpkg"):
                found[p.name] = p.suffix.lower().lstrip(".")
    return found


def package_check(*, path: Path, progress: Progress = print) -> Report:
    """Open, read and check a package; writes nothing. Problems become findings, never exceptions."""
    try:
        with open_package(path) as pkg:
            report = Report(county=pkg.county)
            shp = pkg.layer_path("DK")
            if shp is None:
                report.reject("数据包中没有 DK 地块图层", "the package has no DK layer")
                return report
            check_sidecars(shp)
            srid = layer_srid(shp)
            encoding = layer_encoding(shp)
            records, geoms = _read_dk(shp, encoding)
            progress(f"读取 DK 地块 {len(records)} 个（EPSG:{srid}，{encoding}）/ read {len(records)} parcels")
            plane = _plane_srid(pkg.county, srid, geoms)
            report.layers["DK"] = {
                "file": shp.name,
                "features": len(records),
                "srid": srid,
                "encoding": encoding,
                "measured_in": plane,
            }
            check_dk(report, records, reproject(geoms, srid, plane))
            tables = _tables(pkg.root)
            report.layers["tables"] = {"files": tables}
            if not tables:
                report.layers["tables"]["note"] = "数据包没有权属数据表，只含地块 / no attribute tables: parcels only"
            progress(
                f"检查完成 / checked: {len(report.overlaps)} 处重叠, {len(report.area_mismatches)} 个面积不符, "
                f"{len(report.code_errors)} 个编码错误, {len(report.invalid_geometries)} 个无效图形"
            )
            return report
    except PackageError as exc:
        report = Report(county="")
        report.reject(exc.zh, exc.en)
        return report
