"""Reading and checking a package (import_qq_package --dry-run): what it finds, and what it refuses."""

import io
import json
import shutil
import zipfile
from itertools import combinations
from pathlib import Path

import fiona
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db import connection
from fiona.crs import CRS
from shapely.geometry import mapping, shape

from exchange import standard as S
from exchange.importer import package_check
from exchange.tests.conftest import YEAR
from spatial.measure import mu_from_m2

FIXTURES = Path(__file__).parent / "fixtures"


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in folder.rglob("*"):
            zf.write(p, p.relative_to(folder.parent))
    return target


def test_exported_package_is_clean_and_names_neighbouring_issuers(exported, demo):
    report = package_check(path=exported, progress=lambda m: None)
    assert not report.rejected and report.county == demo.county
    assert report.parcels_read > 0 and report.layers["DK"]["encoding"] == "GBK"
    assert report.overlaps == [] and report.code_errors == [] and report.area_mismatches == []
    assert report.mu_mismatches == [] and report.invalid_geometries == []
    with connection.cursor() as cur:  # the same pairs, found by PostGIS in the registry
        cur.execute("""
            SELECT DISTINCT least(left(a.dkbm, 14), left(b.dkbm, 14)), greatest(left(a.dkbm, 14), left(b.dkbm, 14))
            FROM spatial_parcel a JOIN spatial_parcel b ON a.id < b.id AND a.geom && b.geom
              AND left(a.dkbm, 14) <> left(b.dkbm, 14) AND ST_Relate(a.geom, b.geom, '****1****')""")
        expected = sorted([list(r) for r in cur.fetchall()])
    assert expected and report.neighbouring_issuers == expected


def test_zip_of_the_package_gives_the_same_report(exported, tmp_path):
    folder_report = package_check(path=exported, progress=lambda m: None).as_dict()
    zip_report = package_check(path=_zip(exported, tmp_path / "pkg.zip"), progress=lambda m: None).as_dict()
    assert zip_report == folder_report


def _zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("entries", "needle"),
    [
        ({"../../etc/evil.txt": b"x", "450326永福县/矢量数据/a.txt": b"x"}, "非法路径"),
        ({"/abs/evil.txt": b"x"}, "非法路径"),
        ({"450326永福县/矢量数据/zeros.bin": b"\0" * (30 * 1024 * 1024)}, "压缩炸弹"),
        ({"readme.txt": b"no package here"}, "找不到数据包文件夹"),
    ],
)
def test_unsafe_or_empty_zips_are_refused_before_anything_is_read(db, tmp_path, entries, needle):
    path = tmp_path / "bad.zip"
    path.write_bytes(_zip_bytes(entries))
    report = package_check(path=path, progress=lambda m: None)
    assert report.rejected and needle in report.reasons[0]["message"]
    assert not (tmp_path.parent / "etc" / "evil.txt").exists()


def test_not_a_zip_is_refused(db, tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 truncated")
    report = package_check(path=path, progress=lambda m: None)
    assert report.rejected and "zip" in report.reasons[0]["message_en"]


def _dk(folder: Path) -> Path:
    return next((folder / "矢量数据").glob("DK*.shp"))


def test_missing_shx_wrong_crs_and_unknown_encoding_are_refused(exported):
    dk = _dk(exported)
    prj, dbf = dk.with_suffix(".prj").read_text(), dk.with_suffix(".dbf").read_bytes()

    dk.with_suffix(".shx").rename(dk.with_suffix(".shx.bak"))
    assert "缺少 .shx" in package_check(path=exported, progress=lambda m: None).reasons[0]["message"]
    dk.with_suffix(".shx.bak").rename(dk.with_suffix(".shx"))

    dk.with_suffix(".prj").write_text(CRS.from_epsg(4326).to_wkt())
    report = package_check(path=exported, progress=lambda m: None)
    assert report.rejected and "EPSG:4326" in report.reasons[0]["message"]
    dk.with_suffix(".prj").write_text(prj)

    dk.with_suffix(".cpg").unlink()
    header = int.from_bytes(dbf[8:10], "little")
    dk.with_suffix(".dbf").write_bytes(dbf[:header] + b"\xff\xfe" + dbf[header + 2 :])
    report = package_check(path=exported, progress=lambda m: None)
    assert report.rejected and "编码无法识别" in report.reasons[0]["message"]


def test_without_prj_the_metadata_xml_gives_the_crs(exported):
    for prj in (exported / "矢量数据").glob("*.prj"):
        prj.unlink()
    report = package_check(path=exported, progress=lambda m: None)
    assert not report.rejected, report.reasons
    assert report.layers["DK"]["srid"] == 4546 and report.overlaps == []  # read in the right plane

    xml = next((exported / "元数据").glob("*.xml"))
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace("<datum>001</datum>", "<datum>002</datum>"), encoding="utf-8")  # not CGCS2000
    report = package_check(path=exported, progress=lambda m: None)
    assert report.rejected and "元数据中也没有坐标系" in report.reasons[0]["message"]

    bomb = (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]><Metadata><refSysInfo><epsg>&i;</epsg></refSysInfo></Metadata>"
    )
    xml.write_text(bomb, encoding="utf-8")  # entity expansion: refused, not expanded
    report = package_check(path=exported, progress=lambda m: None)
    assert report.rejected and "元数据中也没有坐标系" in report.reasons[0]["message"]


@pytest.mark.parametrize(
    ("meridian", "easting", "epsg"),
    [
        ("111", "500000", 4546),
        ("111", "37500000", 4525),
        ("114", "38500000", 4526),
        ("111", "38500000", None),
        ("110.5", "500000", None),
    ],
)
def test_metadata_reference_systems(tmp_path, meridian, easting, epsg):
    from exchange.package import metadata_srid

    (tmp_path / "元数据").mkdir()
    (tmp_path / "元数据" / "SL4503262026.xml").write_text(
        f"<Metadata><refSysInfo><datum>001</datum><centralMeridian>{meridian}</centralMeridian>"
        f"<falseEasting>{easting}</falseEasting><zoneWidth>002</zoneWidth></refSysInfo></Metadata>",
        encoding="utf-8",
    )
    assert metadata_srid(tmp_path) == epsg


def _real_fields_dk(tmp_path: Path, county: str = "450326") -> tuple[Path, list, list[str]]:
    """The 100 Dutch parcels moved into Yongfu's plane as a DK layer of two issuers, with one parcel copied
    2 m east (an overlap), one SCMJ wrong and one parcel with only two of its four sides."""
    with fiona.open(FIXTURES / "nl_referentiepercelen" / "referentiepercelen.gpkg") as src:
        geoms = [shape(f["geometry"]) for f in src]
    cx, cy = shapely.centroid(shapely.union_all(geoms)).coords[0]
    geoms = [shapely.affinity.translate(g, 400000 - cx, 2765000 - cy) for g in geoms]
    geoms.append(shapely.affinity.translate(geoms[10], 2.0, 0.0))
    xs = [shapely.centroid(g).x for g in geoms]
    median = sorted(xs)[len(xs) // 2]
    codes = []
    west, east = f"{county}10020001", f"{county}10020002"
    seq = {west: 0, east: 0}
    for x in xs:  # west half to group 01, east half to group 02
        issuer = west if x < median else east
        seq[issuer] += 1
        codes.append(f"{issuer}{seq[issuer]:05d}")
    package = tmp_path / f"{county}测试县"
    for name in S.FOLDERS:
        (package / name).mkdir(parents=True)
    shp = package / "矢量数据" / f"DK{county}{YEAR}.shp"
    schema = {"geometry": "MultiPolygon", "properties": S.DK.fields}
    with fiona.open(shp, "w", driver="ESRI Shapefile", schema=schema, crs=CRS.from_epsg(4546), encoding="GBK") as dst:
        for i, (g, code) in enumerate(zip(geoms, codes, strict=True)):
            g = g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
            scmj = round(g.area, 2) + (5.0 if i == 20 else 0.0)
            props = {k: None for k in S.DK.fields} | {
                "BSM": i + 1,
                "YSDM": "211011",
                "DKBM": code,
                "DKMC": "荷兰田",
                "SCMJ": scmj,
                "SCMJM": float(mu_from_m2(scmj)),
                "DKDZ": "路",
                "DKXZ": "沟",
                "DKNZ": "田",
                "DKBZ": "田",
            }
            if i == 30:
                props["DKNZ"] = props["DKBZ"] = ""
            dst.write({"geometry": mapping(g), "properties": props})
    return package, geoms, codes


def test_real_field_parcels_overlaps_and_neighbours_match_an_independent_count(db, tmp_path):
    package, geoms, codes = _real_fields_dk(tmp_path)
    report = package_check(path=package, progress=lambda m: None)
    assert not report.rejected and report.parcels_read == 101
    # Independent answers: every pair, by brute force, without a spatial index.
    overlaps: dict[tuple[str, str], float] = {}
    neighbours = set()
    for i, j in combinations(range(len(geoms)), 2):
        area = geoms[i].intersection(geoms[j]).area
        if area >= 0.01:
            overlaps[tuple(sorted((codes[i], codes[j])))] = area
        shares_edge = geoms[i].intersection(geoms[j]).length > 0 if geoms[i].touches(geoms[j]) else area > 0
        if shares_edge and codes[i][:14] != codes[j][:14]:
            neighbours.add(tuple(sorted((codes[i][:14], codes[j][:14]))))
    assert len(overlaps) >= 1  # the copied parcel overlaps its original
    found = {tuple(sorted(o[:2])): o[2] for o in report.overlaps}
    assert set(found) == set(overlaps)
    assert all(found[k] == pytest.approx(overlaps[k], abs=1e-3) for k in overlaps)
    assert report.neighbouring_issuers == [list(p) for p in sorted(neighbours)]
    assert [m["dkbm"] for m in report.area_mismatches] == [codes[20]]
    assert report.missing_four_sides == [codes[30]]


def test_malformed_and_duplicate_codes_reject_the_package(db, tmp_path):
    package, _, codes = _real_fields_dk(tmp_path)
    shp = _dk(package)
    with fiona.open(shp) as src:
        schema, crs, feats = src.schema, src.crs, list(src)
    with fiona.open(shp, "w", driver="ESRI Shapefile", schema=schema, crs=crs, encoding="GBK") as dst:
        for i, f in enumerate(feats):
            props = dict(f["properties"])
            if i == 1:
                props["DKBM"] = codes[0]  # duplicate
            if i == 2:
                props["DKBM"] = "45032610020001ABCDE"  # malformed
            dst.write({"geometry": f["geometry"], "properties": props})
    report = package_check(path=package, progress=lambda m: None)
    assert report.rejected
    assert report.duplicate_codes == [codes[0]]
    assert [e["dkbm"] for e in report.code_errors] == ["45032610020001ABCDE"]


def test_command_dry_run_writes_the_json_report(exported, tmp_path, capsys):
    out = tmp_path / "report.json"
    call_command("import_qq_package", str(exported), "--dry-run", "--report", str(out))
    data = json.loads(out.read_text())
    for key in (
        "parcels_imported",
        "overlaps",
        "area_mismatches",
        "code_errors",
        "invalid_geometries",
        "neighbouring_issuers",
    ):
        assert key in data
    assert "可以导入" in capsys.readouterr().out
    shutil.rmtree(exported)
    with pytest.raises(CommandError):
        call_command("import_qq_package", str(exported), "--dry-run")


def _zip_with_raw_names(folder: Path, target: Path, encoding: str) -> Path:
    """A zip whose names are raw `encoding` bytes without the UTF-8 flag, as Info-ZIP (UTF-8) and Chinese
    Windows (GBK) write them: written with ASCII placeholders of the same length, then patched."""
    entries = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, p in enumerate(sorted(folder.rglob("*"))):
            if p.is_dir():
                continue
            real = str(p.relative_to(folder.parent)).encode(encoding)
            # "Q00012Q" marks entry 12 alone: no other placeholder contains it.
            placeholder = (f"Q{i:05d}Q" + "z" * (len(real) - 7)).encode("ascii")
            zf.write(p, placeholder.decode("ascii"))
            entries.append((placeholder, real))
    data = target.read_bytes()
    for placeholder, real in entries:
        data = data.replace(placeholder, real)
    target.write_bytes(data)
    return target


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_zips_with_chinese_names_without_the_utf8_flag(exported, tmp_path, encoding):
    path = _zip_with_raw_names(exported, tmp_path / f"pkg-{encoding}.zip", encoding)
    with zipfile.ZipFile(path) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
    report = package_check(path=path, progress=lambda m: None)
    assert not report.rejected, report.reasons
    assert report.parcels_read > 0


def test_a_missing_parcel_inside_a_group_territory_is_a_gap(db, tmp_path):
    package, geoms, codes = _real_fields_dk(tmp_path, county="450327")
    whole = shapely.union_all(geoms[:100])

    def surrounded_by_own_group(i: int) -> bool:
        """Its whole boundary is shared with parcels of its own group (found without the code under test)."""
        shared = 0.0
        for j in range(100):
            if j != i and geoms[i].touches(geoms[j]):
                if codes[j][:14] != codes[i][:14]:
                    return False
                shared += geoms[i].intersection(geoms[j]).length
        return abs(shared - geoms[i].length) < 1e-6

    inner = next(i for i in range(100) if surrounded_by_own_group(i))
    zjqy = package / "矢量数据" / f"ZJQY450327{YEAR}.shp"
    schema = {"geometry": "MultiPolygon", "properties": S.ZJQY.fields}
    with fiona.open(zjqy, "w", driver="ESRI Shapefile", schema=schema, crs=CRS.from_epsg(4546), encoding="GBK") as dst:
        for k, code in enumerate(sorted({c[:14] for c in codes})):
            dst.write(
                {
                    "geometry": mapping(shapely.MultiPolygon([whole.envelope])),
                    "properties": dict.fromkeys(S.ZJQY.fields) | {"BSM": k + 1, "ZJQYDM": code, "ZJQYMC": "组"},
                }
            )
    before = {tuple(g[2]) for g in package_check(path=package, progress=lambda m: None).gaps}

    shp = next((package / "矢量数据").glob("DK*.shp"))
    with fiona.open(shp) as src:
        schema, crs, feats = src.schema, src.crs, [f for f in src if f["properties"]["DKBM"] != codes[inner]]
    with fiona.open(shp, "w", driver="ESRI Shapefile", schema=schema, crs=crs, encoding="GBK") as dst:
        dst.writerecords(feats)
    after = package_check(path=package, progress=lambda m: None).gaps
    new = [g for g in after if tuple(g[2]) not in before]
    assert len(new) == 1 and new[0][0] == codes[inner][:14]
    assert new[0][1] == pytest.approx(geoms[inner].area, abs=0.01)
    assert shapely.Point(new[0][2]).within(geoms[inner])
    zjqy.unlink()
    for ext in (".shx", ".dbf", ".prj", ".cpg"):
        zjqy.with_suffix(ext).unlink()
    assert package_check(path=package, progress=lambda m: None).gaps == []  # no territories: not checked
