"""Importing packages into the registry: idempotent, versions for changes, all or nothing."""

from pathlib import Path

import fiona
import pytest
import shapely
from django.core.management import call_command
from django.db import connection
from shapely.geometry import mapping, shape

from accounts.models import User
from audit.models import AuditEvent
from core.errors import PermissionDeniedError
from exchange.importer import package_import
from exchange.tests.test_import_check import YEAR, _real_fields_dk
from spatial.models import CountySettings, Issuer, Parcel, Region


def _rewrite_dk(folder: Path, change) -> None:
    shp = next((folder / "矢量数据").glob("DK*.shp"))
    with fiona.open(shp) as src:
        schema, crs, feats = (
            src.schema,
            src.crs,
            [dict(geometry=f["geometry"], properties=dict(f["properties"])) for f in src],
        )
    for f in feats:
        change(f)
    with fiona.open(shp, "w", driver="ESRI Shapefile", schema=schema, crs=crs, encoding="GBK") as dst:
        dst.writerecords(feats)


def test_importing_the_registrys_own_package_changes_nothing(demo, tmp_path, exported):
    folder = exported
    before = list(Parcel.objects.order_by("id").values_list("id", "version", "valid_to"))
    report = package_import(actor=User.objects.get(username="county"), path=folder, progress=lambda m: None)
    assert not report.rejected and report.parcels_imported == 0
    assert report.layers["DK"]["unchanged"] == len(before)
    assert list(Parcel.objects.order_by("id").values_list("id", "version", "valid_to")) == before
    event = AuditEvent.objects.filter(action="package.imported").latest("id")
    assert event.data["new"] == 0 and event.data["changed"] == 0


def test_a_changed_parcel_gets_a_new_version_and_keeps_its_history(demo, tmp_path, exported):
    folder = exported
    target = Parcel.objects.filter(valid_to__isnull=True).order_by("dkbm")[5]
    other = Parcel.objects.filter(valid_to__isnull=True).order_by("dkbm")[6]

    def change(f):  # rename one parcel and move one of its vertices 0.5 m east
        if f["properties"]["DKBM"] == target.dkbm:
            f["properties"]["DKMC"] = "新名田"
            g = shape(f["geometry"])
            f["geometry"] = mapping(shapely.affinity.translate(g, 0.5, 0.0))

    _rewrite_dk(folder, change)
    report = package_import(actor=None, path=folder, progress=lambda m: None)
    assert report.layers["DK"]["changed"] == 1 and report.layers["DK"]["new"] == 0
    versions = list(Parcel.objects.filter(dkbm=target.dkbm).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].valid_to is not None and versions[0].status == "superseded"
    assert versions[1].valid_to is None and versions[1].dkmc == "新名田"
    assert versions[0].dkmc == target.dkmc  # the old version is kept as it was
    assert Parcel.objects.filter(dkbm=other.dkbm).count() == 1
    # Import the same changed package again: nothing more happens.
    assert package_import(actor=None, path=folder, progress=lambda m: None).parcels_imported == 0


def test_coordinates_survive_to_the_millimetre(demo, tmp_path, exported):
    folder = exported
    target = Parcel.objects.filter(valid_to__isnull=True).order_by("dkbm")[9]

    def nudge(f):  # 2 mm is a real change
        if f["properties"]["DKBM"] == target.dkbm:
            f["geometry"] = mapping(shapely.affinity.translate(shape(f["geometry"]), 0.002, 0.0))

    _rewrite_dk(folder, nudge)
    assert package_import(actor=None, path=folder, progress=lambda m: None).layers["DK"]["changed"] == 1


def test_a_new_county_with_parcels_only_creates_regions_issuers_and_parcels(db, tmp_path, capsys):
    package, geoms, codes = _real_fields_dk(tmp_path, county="450327")
    call_command("import_qq_package", str(package))
    assert "已导入" in capsys.readouterr().out
    assert Parcel.objects.filter(dkbm__startswith="450327").count() == len(geoms)
    assert set(Issuer.objects.filter(fbfbm__startswith="450327").values_list("fbfbm", flat=True)) == {
        c[:14] for c in codes
    }
    assert Region.objects.get(code="450327").level == "county"
    assert CountySettings.objects.get(region__code="450327").measure_srid == 4546
    overlapping = Parcel.objects.get(dkbm=codes[-1])  # the copied parcel is flagged, not refused
    assert overlapping.quality_flags["overlaps"][0][0] == codes[10]
    assert Parcel.objects.get(dkbm=codes[20]).quality_flags["area_mismatch"]["scmj"] > 0


def test_a_rejected_package_writes_nothing(db, tmp_path):
    package, _, codes = _real_fields_dk(tmp_path, county="450327")

    def duplicate(f):
        if f["properties"]["DKBM"] == codes[1]:
            f["properties"]["DKBM"] = codes[0]

    _rewrite_dk(package, duplicate)
    before = (Region.objects.count(), Issuer.objects.count(), Parcel.objects.count(), AuditEvent.objects.count())
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert report.rejected and report.duplicate_codes == [codes[0]]
    assert (
        Region.objects.count(),
        Issuer.objects.count(),
        Parcel.objects.count(),
        AuditEvent.objects.count(),
    ) == before


def test_only_the_county_bureau_may_import(demo, tmp_path, exported):
    folder = exported
    with pytest.raises(PermissionDeniedError):
        package_import(actor=User.objects.get(username="township"), path=folder, progress=lambda m: None)


def _rewrite_table(folder: Path, layer: str, change) -> None:
    gpkg = next((folder / "权属数据").glob("*.gpkg"))
    import fiona as _fiona

    layers = {}
    for name in _fiona.listlayers(gpkg):
        with _fiona.open(gpkg, layer=name) as src:
            layers[name] = (src.schema, [dict(f["properties"]) for f in src])
    gpkg.unlink()
    for name, (schema, rows) in layers.items():
        if name == layer:
            for r in rows:
                change(r)
        with _fiona.open(gpkg, "w", driver="GPKG", layer=name, schema=schema) as dst:
            dst.writerecords([{"geometry": None, "properties": r} for r in rows])


def test_tables_round_trip_unchanged_and_a_member_change_makes_a_new_household_version(demo, tmp_path, exported):
    from contracts.models import Contract, Contractor

    folder = exported
    report = package_import(actor=None, path=folder, progress=lambda m: None)
    assert report.tables_imported.get("households_new", 0) == 0
    assert report.tables_imported.get("households_changed", 0) == 0
    assert report.tables_imported.get("contracts_changed", 0) == 0
    assert report.id_check_failures == [] and report.contract_parcels_missing == []

    household = Contractor.objects.filter(valid_to__isnull=True).order_by("cbfbm")[3]
    renamed = household.members.order_by("id")[0].name + "改"

    def rename(r):
        if r["CBFBM"] == household.cbfbm and r["YHZGX"] == "02":
            r["CYXM"] = renamed

    _rewrite_table(folder, "CBF_JTCY", rename)
    report = package_import(actor=None, path=folder, progress=lambda m: None)
    assert report.tables_imported["households_changed"] == 1
    versions = list(Contractor.objects.filter(cbfbm=household.cbfbm).order_by("version"))
    assert [v.version for v in versions] == [1, 2] and versions[0].valid_to is not None
    assert renamed in {m.name for m in versions[1].members.all()}
    assert renamed not in {m.name for m in versions[0].members.all()}
    # The household's contract now points at the new version, itself as a new contract version.
    contract = Contract.objects.get(cbhtbm=household.cbfbm + "J", valid_to__isnull=True)
    assert contract.contractor_id == versions[1].id and contract.version == 2
    assert contract.parcels.count() == contract.parcel_count


def test_bad_id_check_digits_are_reported_without_the_numbers(demo, tmp_path, exported):
    folder = exported

    def spoil(r):
        if r["YHZGX"] == "02" and r["CBFBM"].endswith("0001"):
            good = r["CYZJHM"]
            r["CYZJHM"] = good[:17] + ("0" if good[17] != "0" else "1")

    _rewrite_table(folder, "CBF_JTCY", spoil)
    from exchange.importer import package_check

    report = package_check(path=folder, progress=lambda m: None)
    assert not report.rejected and report.id_check_failures
    assert all(set(f) == {"table", "code", "field"} for f in report.id_check_failures)


def test_households_of_another_county_reject_the_package(demo, tmp_path, exported):
    from exchange.importer import package_check

    folder = exported
    first: dict[str, str] = {}

    def move(r):
        if not first:
            first["code"] = r["CBFBM"]
            r["CBFBM"] = "450327" + r["CBFBM"][6:]

    _rewrite_table(folder, "CBF", move)
    report = package_check(path=folder, progress=lambda m: None)
    assert report.rejected
    assert [e["table"] for e in report.code_errors] == ["CBF"] and "450327" in report.code_errors[0]["code"]


def test_region_layers_give_new_regions_their_names_and_outlines(db, tmp_path):
    from fiona.crs import CRS

    from exchange import standard as S

    package, geoms, codes = _real_fields_dk(tmp_path, county="450327")
    whole = shapely.union_all(geoms).buffer(1.0)
    layers = [
        (S.XJXZQ, [("450327", "测试县", whole)]),
        (S.ZJQY, [(codes[0][:14], "西组", whole), (codes[-1][:14], "东组", whole)]),
    ]
    for layer, rows in layers:
        shp = package / "矢量数据" / f"{layer.file_stem('450327', YEAR)}.shp"
        schema = {"geometry": "MultiPolygon", "properties": layer.fields}
        with fiona.open(
            shp, "w", driver="ESRI Shapefile", schema=schema, crs=CRS.from_epsg(4546), encoding="GBK"
        ) as dst:
            for i, (code, name, g) in enumerate(rows):
                g = g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
                props = dict.fromkeys(layer.fields) | {
                    "BSM": i + 1,
                    list(layer.fields)[2]: code,
                    list(layer.fields)[3]: name,
                }
                dst.write({"geometry": mapping(g), "properties": props})
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert not report.rejected
    county = Region.objects.get(code="450327")
    assert county.name == "测试县" and county.outline is not None
    assert county.outline.transform(4546, clone=True).area == pytest.approx(whole.area, rel=1e-6)
    assert Region.objects.get(code=codes[0][:14]).name == "西组"
    # The township and village were in no layer: created with their codes as names, and listed.
    assert sorted(report.layers["regions"]["created_without_name"]) == ["450327100", "450327100200"]


def _schema(tables: list[str]) -> tuple[set, set]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
        indexes = set(cur.fetchall())
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        return indexes, set(cur.fetchall())


def test_the_first_load_of_an_empty_registry_rebuilds_indexes_and_keys_as_they_were(demo, tmp_path, exported):
    from contracts.models import Contractor, ContractParcel
    from exchange.load import BULK_TABLES

    tables = BULK_TABLES["DK"] + BULK_TABLES["tables"]
    folder = exported
    parcels, households = Parcel.objects.count(), Contractor.objects.count()
    before = _schema(tables)
    assert len(before[0]) > 20 and any("FOREIGN KEY" in c[2] for c in before[1])
    with connection.cursor() as cur:  # an empty registry, issuers too: the import creates them first (rolled back)
        cur.execute(f"TRUNCATE {', '.join(tables + BULK_TABLES['JZD/JZX'])}, spatial_issuer CASCADE")
    report = package_import(actor=None, path=folder, progress=lambda m: None)
    assert not report.rejected and report.parcels_imported == parcels
    event = AuditEvent.objects.filter(action="package.imported").latest("id")
    assert "spatial_parcel" in event.data["bulk_loaded_tables"]
    assert "contracts_contractparcel" in event.data["bulk_loaded_tables"]
    assert _schema(tables) == before  # every index and key back, as the migrations made them
    assert Contractor.objects.count() == households and ContractParcel.objects.exists()
    again = package_import(actor=None, path=folder, progress=lambda m: None)
    assert again.parcels_imported == 0 and again.tables_imported.get("households_changed", 0) == 0
    assert "bulk_loaded_tables" in AuditEvent.objects.filter(action="package.imported").latest("id").data
    assert AuditEvent.objects.filter(action="package.imported").latest("id").data["bulk_loaded_tables"] == []
