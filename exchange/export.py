"""Export a county's registry as an NY/T 2539 exchange package.

Vector layers go out as shapefiles (GBK DBF with `.cpg`, the county's Gauss-Kruger `.prj`), coordinates
in the county plane. No maintained library writes Access `.mdb` files, so the attribute tables go into a
GeoPackage `权属数据/{county}{year}.gpkg` with the standard's table and column names, plus a DBF copy of
each table. The metadata XML gives the reference system.
"""

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import fiona
import shapely
from django.db import connection, transaction
from fiona.crs import CRS
from pyproj import CRS as ProjCRS
from shapely.geometry import mapping

from audit import services as audit
from core.crypto import decrypt
from core.errors import CodeError
from core.ports import ensure
from spatial.models import CountySettings, Region

from . import standard as S

Progress = Callable[[str], None]


@dataclass
class ExportResult:
    folder: Path
    counts: dict[str, int] = field(default_factory=dict)


def _rows(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    with connection.chunked_cursor() as cur:
        cur.execute(sql, params)
        while batch := cur.fetchmany(5000):
            yield from batch


def _write_layer(path: Path, layer: S.Layer, crs: CRS | None, records: Iterator[dict[str, Any]]) -> int:
    schema = {"geometry": layer.geometry, "properties": layer.fields}
    with fiona.open(path, "w", driver="ESRI Shapefile", schema=schema, crs=crs, encoding="GBK") as sink:
        return _write_batches([sink], records)


def _write_batches(sinks: list[Any], records: Iterator[dict[str, Any]], size: int = 5000) -> int:
    """writerecords in batches: one transaction per batch in a GeoPackage, not one per record."""
    n, batch = 0, []
    for rec in records:
        batch.append(rec)
        if len(batch) == size:
            for sink in sinks:
                sink.writerecords(batch)
            n, batch = n + len(batch), []
    if batch:
        for sink in sinks:
            sink.writerecords(batch)
        n += len(batch)
    return n


def _geom_records(sql: str, params: list[Any], layer: S.Layer) -> Iterator[dict[str, Any]]:
    """Rows whose last column is WKB in the county plane become fiona records."""
    names = list(layer.fields)
    for row in _rows(sql, params):
        *values, wkb = row
        geom = shapely.from_wkb(bytes(wkb)) if wkb is not None else None
        if geom is not None and layer.geometry == "MultiPolygon" and geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])  # the shapefile type is "polygon" either way
        yield {
            "geometry": mapping(geom) if geom is not None else None,
            "properties": dict(zip(names, values, strict=True)),
        }


def _table(
    gpkg: Path,
    dbf_dir: Path,
    layer: S.Layer,
    sql: str,
    params: list[Any],
    convert: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None,
) -> int:
    names = list(layer.fields)
    schema = {"geometry": None, "properties": layer.fields}
    records = (
        {"geometry": None, "properties": dict(zip(names, convert(row) if convert else row, strict=True))}
        for row in _rows(sql, params)
    )
    with (
        fiona.open(gpkg, "w", driver="GPKG", layer=layer.name, schema=schema) as g,
        fiona.open(dbf_dir / f"{layer.name}.dbf", "w", driver="ESRI Shapefile", schema=schema, encoding="GBK") as d,
    ):
        n = _write_batches([g, d], records)
    for ext in (".shp", ".shx"):  # an attribute table needs only its .dbf (and .cpg)
        (dbf_dir / f"{layer.name}{ext}").unlink(missing_ok=True)
    return n


def _metadata(path: Path, county: Region, srid: int, year: int) -> None:
    operation = ProjCRS.from_epsg(srid).coordinate_operation
    params = {p.name: p.value for p in operation.params} if operation else {}
    root = ET.Element("Metadata")
    ident = ET.SubElement(root, "dataIdInfo")
    ET.SubElement(ident, "title").text = f"{county.name}农村土地承包经营权确权登记数据"
    ET.SubElement(ident, "county").text = county.code
    ET.SubElement(ident, "year").text = str(year)
    ET.SubElement(ident, "date").text = date.today().isoformat()
    ET.SubElement(ident, "producer").text = "田界 Tianjie"
    ref = ET.SubElement(root, "refSysInfo")
    ET.SubElement(ref, "datum").text = "001"  # CGCS2000
    ET.SubElement(ref, "centralMeridian").text = f"{params.get('Longitude of natural origin', 0):g}"
    ET.SubElement(ref, "falseEasting").text = f"{params.get('False easting', 0):g}"
    ET.SubElement(ref, "zoneWidth").text = "002"  # 3°
    ET.SubElement(ref, "epsg").text = str(srid)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)


def _person(row: tuple[Any, ...], enc_index: int) -> tuple[Any, ...]:
    values = list(row)
    values[enc_index] = decrypt(values[enc_index]) if values[enc_index] else ""
    return tuple(values)


@transaction.atomic
def package_export(
    *, actor: Any, county_code: str, out_dir: Path, year: int | None = None, progress: Progress = print
) -> ExportResult:
    """Write the package of `county_code` into `out_dir`/{county}{name}/; an existing folder is replaced."""
    county = Region.objects.filter(code=county_code, level="county").first()
    if county is None:
        raise CodeError(f"县 {county_code} 不存在", f"county {county_code} does not exist", field="county")
    ensure(actor, "packages.export", county_code)
    settings_row = CountySettings.objects.filter(region=county).first()
    if settings_row is None:
        raise CodeError(f"县 {county_code} 未设置量算坐标系", f"county {county_code} has no measurement CRS")
    srid = settings_row.measure_srid
    year = year or date.today().year
    crs = CRS.from_epsg(srid)
    folder = Path(out_dir) / f"{county_code}{county.name}"
    if folder.exists():
        shutil.rmtree(folder)
    for name in S.FOLDERS:
        (folder / name).mkdir(parents=True)
    vec, tab = folder / "矢量数据", folder / "权属数据"
    result = ExportResult(folder)
    prefix = county_code + "%"

    dk_sql = f"""
        SELECT bsm, ysdm, dkbm, dkmc, syqxz, dklb, tdlylx, dldj, tdyt, sfjbnt, scmj::float8, dkdz, dkxz, dknz,
               dkbz, dkbzxx, zjrxm, kjzb, scmjm::float8, ST_AsBinary(ST_Transform(geom, {int(srid)}))
        FROM spatial_parcel WHERE valid_to IS NULL AND dkbm LIKE %s ORDER BY dkbm"""
    result.counts["DK"] = _write_layer(
        vec / f"{S.DK.file_stem(county_code, year)}.shp", S.DK, crs, _geom_records(dk_sql, [prefix], S.DK)
    )
    progress(f"DK 地块: {result.counts['DK']}")

    jzd_sql = f"""
        SELECT p.bsm, p.ysdm, p.jzdh, p.jzdlx, p.jblx,
               (SELECT string_agg(DISTINCT pa.dkbm, '/' ORDER BY pa.dkbm) FROM spatial_boundarypoint_parcels l
                  JOIN spatial_parcel pa ON pa.id = l.parcel_id WHERE l.boundarypoint_id = p.id),
               p.xzbz::float8, p.yzbz::float8, ST_AsBinary(ST_Transform(p.geom, {int(srid)}))
        FROM spatial_boundarypoint p JOIN spatial_issuer i ON i.id = p.issuer_id
        WHERE i.fbfbm LIKE %s AND p.valid_to IS NULL ORDER BY p.id"""
    result.counts["JZD"] = _write_layer(
        vec / f"{S.JZD.file_stem(county_code, year)}.shp", S.JZD, crs, _geom_records(jzd_sql, [prefix], S.JZD)
    )
    jzx_sql = f"""
        SELECT x.bsm, x.ysdm, x.jxxz, x.jzxlb, x.jzxwz, x.jzxsm, x.pldwqlr, x.pldwzjr, x.jzxh, s.jzdh, e.jzdh,
               (SELECT string_agg(DISTINCT pa.dkbm, '/' ORDER BY pa.dkbm) FROM spatial_boundaryline_parcels l
                  JOIN spatial_parcel pa ON pa.id = l.parcel_id WHERE l.boundaryline_id = x.id),
               ST_AsBinary(ST_Transform(x.geom, {int(srid)}))
        FROM spatial_boundaryline x JOIN spatial_issuer i ON i.id = x.issuer_id
        JOIN spatial_boundarypoint s ON s.id = x.start_point_id JOIN spatial_boundarypoint e ON e.id = x.end_point_id
        WHERE i.fbfbm LIKE %s AND x.valid_to IS NULL ORDER BY x.id"""
    result.counts["JZX"] = _write_layer(
        vec / f"{S.JZX.file_stem(county_code, year)}.shp", S.JZX, crs, _geom_records(jzx_sql, [prefix], S.JZX)
    )
    for level, layer in S.REGION_LAYERS.items():
        sql = f"""SELECT row_number() OVER (ORDER BY code)::int, '', code, name,
                         ST_AsBinary(ST_Transform(outline, {int(srid)}))
                  FROM spatial_region WHERE level = %s AND code LIKE %s AND outline IS NOT NULL ORDER BY code"""
        result.counts[layer.name] = _write_layer(
            vec / f"{layer.file_stem(county_code, year)}.shp", layer, crs, _geom_records(sql, [level, prefix], layer)
        )
    progress("JZD/JZX/区域图层 boundary points, lines and region layers written")

    gpkg = tab / f"{county_code}{year}.gpkg"
    result.counts["FBF"] = _table(
        gpkg,
        tab,
        S.FBF,
        """
        SELECT fbfbm, name, person_in_charge, person_id_type, person_id_number, phone, address, postcode,
               surveyor, survey_date, survey_notes
        FROM spatial_issuer WHERE fbfbm LIKE %s ORDER BY fbfbm""",
        [prefix],
        lambda r: _person(r, 4),
    )
    result.counts["CBF"] = _table(
        gpkg,
        tab,
        S.CBF,
        """
        SELECT cbfbm, cbflx, name, id_type, id_number, address, postcode, phone, member_count, survey_date,
               surveyor, survey_notes, publicity_notes, publicity_recorder, publicity_review_date, publicity_reviewer
        FROM contracts_contractor WHERE valid_to IS NULL AND cbfbm LIKE %s ORDER BY cbfbm""",
        [prefix],
        lambda r: _person(r, 4),
    )
    result.counts["CBF_JTCY"] = _table(
        gpkg,
        tab,
        S.CBF_JTCY,
        """
        SELECT c.cbfbm, m.name, m.sex, m.id_type, m.id_number, m.relation, m.remark_code,
               CASE WHEN m.is_co_owner THEN '1' ELSE '2' END, m.remark
        FROM contracts_familymember m JOIN contracts_contractor c ON c.id = m.contractor_id
        WHERE c.valid_to IS NULL AND c.cbfbm LIKE %s ORDER BY c.cbfbm, m.id""",
        [prefix],
        lambda r: _person(r, 4),
    )
    result.counts["CBDKXX"] = _table(
        gpkg,
        tab,
        S.CBDKXX,
        """
        SELECT cp.dkbm, left(ct.cbhtbm, 14), c.cbfbm, cp.acquisition, cp.htmj::float8, ct.cbhtbm,
               cp.transfer_code, cp.certificate_code, cp.original_htmj::float8, cp.htmjm::float8,
               NULL::float8, CASE WHEN cp.confirmed_by_share THEN '1' ELSE '2' END
        FROM contracts_contractparcel cp JOIN contracts_contract ct ON ct.id = cp.contract_id
        JOIN contracts_contractor c ON c.id = ct.contractor_id
        WHERE ct.valid_to IS NULL AND ct.cbhtbm LIKE %s ORDER BY cp.dkbm""",
        [prefix],
    )
    result.counts["CBHT"] = _table(
        gpkg,
        tab,
        S.CBHT,
        """
        SELECT ct.cbhtbm, ct.previous_code, i.fbfbm, c.cbfbm, ct.method, ct.term_start, ct.term_end,
               ct.total_area::float8, ct.parcel_count, ct.signed_on, ct.total_area_mu::float8,
               ct.original_total_area::float8, NULL::float8
        FROM contracts_contract ct JOIN contracts_contractor c ON c.id = ct.contractor_id
        JOIN spatial_issuer i ON i.id = ct.issuer_id
        WHERE ct.valid_to IS NULL AND ct.cbhtbm LIKE %s ORDER BY ct.cbhtbm""",
        [prefix],
    )
    result.counts["CBJYQZ"] = _table(
        gpkg,
        tab,
        S.CBJYQZ,
        """
        SELECT q.cbjyqzbm, q.issuing_authority, q.issued_on, CASE WHEN q.collected THEN '1' ELSE '2' END,
               q.collected_on, q.collector_name, q.collector_id_type, q.collector_id_number
        FROM contracts_certificate q WHERE q.cbjyqzbm LIKE %s AND q.status = 'issued' ORDER BY q.cbjyqzbm""",
        [prefix],
        lambda r: _person(r, 7),
    )
    progress(f"权属数据 tables: {', '.join(f'{t.name} {result.counts[t.name]}' for t in S.TABLES)}")

    _metadata(folder / "元数据" / f"SL{county_code}{year}.xml", county, srid, year)
    audit.record(
        actor=actor,
        action="package.exported",
        subject=county,
        region_code=county_code,
        data={"folder": folder.name, "year": year, "counts": result.counts},
    )
    return result
