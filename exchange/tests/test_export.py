"""Exporting a county as an NY/T 2539 package: layout, the standard's fields, GBK, coordinates to 1 mm."""

import xml.etree.ElementTree as ET

import fiona
import pytest
import shapely
from django.db import connection
from shapely.geometry import shape

from accounts.models import User
from audit.models import AuditEvent
from contracts.models import Contractor, FamilyMember
from core.codes import validate_resident_id
from core.errors import CodeError, PermissionDeniedError
from exchange import standard as S
from exchange.export import package_export
from spatial.models import Parcel

YEAR = 2026


@pytest.fixture
def package(demo, tmp_path):
    result = package_export(actor=None, county_code=demo.county, out_dir=tmp_path, year=YEAR, progress=lambda m: None)
    return result.folder


def test_layout_and_file_names(package, demo):
    assert package.name == f"{demo.county}永福县"
    assert all((package / name).is_dir() for name in S.FOLDERS)
    for layer in S.VECTOR_LAYERS:
        stem = package / "矢量数据" / layer.file_stem(demo.county, YEAR)
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            assert stem.with_suffix(ext).exists(), stem.with_suffix(ext)
    assert (package / "权属数据" / f"{demo.county}{YEAR}.gpkg").exists()
    assert (package / "元数据" / f"SL{demo.county}{YEAR}.xml").exists()


def test_dk_layer_has_the_standards_fields_widths_and_gbk(package, demo):
    stem = package / "矢量数据" / f"DK{demo.county}{YEAR}"
    assert stem.with_suffix(".cpg").read_text().strip() == "GBK"
    assert "CGCS2000_3_Degree_GK_CM_111E" in stem.with_suffix(".prj").read_text()
    with fiona.open(stem.with_suffix(".shp")) as src:
        assert src.schema["properties"] == S.DK.fields  # names, order, types and widths
        assert len(src) == Parcel.objects.filter(valid_to__isnull=True).count()
        first = next(iter(src))
    raw = stem.with_suffix(".dbf").read_bytes()
    assert first["properties"]["DKMC"].encode("gbk") in raw  # Chinese text stored as GBK, not UTF-8


def test_coordinates_are_the_registrys_to_the_millimetre(package, demo):
    with fiona.open(package / "矢量数据" / f"DK{demo.county}{YEAR}.shp") as src:
        exported = {f["properties"]["DKBM"]: shape(f["geometry"]) for f in src}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT dkbm, ST_AsBinary(ST_Transform(geom, 4546)), scmj FROM spatial_parcel "
            "WHERE valid_to IS NULL ORDER BY dkbm LIMIT 300"
        )
        rows = cur.fetchall()
    for dkbm, wkb, scmj in rows:
        ours = shapely.from_wkb(bytes(wkb))
        theirs = exported[dkbm]
        assert shapely.get_num_coordinates(ours) == shapely.get_num_coordinates(theirs)
        assert shapely.equals_exact(
            shapely.normalize(ours),
            shapely.normalize(shapely.MultiPolygon([theirs] if theirs.geom_type == "Polygon" else theirs.geoms)),
            tolerance=0.001,
        )
        assert abs(theirs.area - float(scmj)) <= 0.01  # SCMJ is the plane area


def test_tables_hold_the_registry_with_full_id_numbers(package, demo):
    gpkg = package / "权属数据" / f"{demo.county}{YEAR}.gpkg"
    assert fiona.listlayers(gpkg) == [t.name for t in S.TABLES]
    with fiona.open(gpkg, layer="CBF") as src:
        rows = [f["properties"] for f in src]
    assert len(rows) == Contractor.objects.filter(valid_to__isnull=True).count()
    assert all(validate_resident_id(r["CBFZJHM"]) == r["CBFZJHM"] for r in rows[:200])
    with fiona.open(package / "权属数据" / "CBF_JTCY.dbf") as src:
        assert len(src) == FamilyMember.objects.count()
        assert set(src.schema["properties"]) == set(S.CBF_JTCY.fields)
    assert not (package / "权属数据" / "CBF_JTCY.shp").exists()  # attribute tables: .dbf (+ .cpg) only


def test_metadata_gives_the_reference_system(package, demo):
    ref = ET.parse(package / "元数据" / f"SL{demo.county}{YEAR}.xml").getroot().find("refSysInfo")
    assert ref.findtext("datum") == "001" and ref.findtext("zoneWidth") == "002"
    assert ref.findtext("centralMeridian") == "111" and ref.findtext("falseEasting") == "500000"


def test_export_is_audited(package, demo):
    event = AuditEvent.objects.filter(action="package.exported", subject_id__isnull=False).latest("id")
    assert event.region_code == demo.county and event.data["counts"]["DK"] > 0


def test_only_the_county_bureau_may_export(demo, tmp_path):
    with pytest.raises(PermissionDeniedError):
        package_export(
            actor=User.objects.get(username="township"),
            county_code=demo.county,
            out_dir=tmp_path,
            progress=lambda m: None,
        )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CodeError):
        package_export(actor=None, county_code="450399", out_dir=tmp_path, progress=lambda m: None)
