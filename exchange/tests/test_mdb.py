"""Packages whose attribute tables come as an Access `.mdb`, as counties hold them, read with mdbtools.

The `.mdb` files are written by `jet4.py` from the tables our own export puts in its GeoPackage, so an
import of the `.mdb` package must find the registry unchanged; a change made in the `.mdb` must show.
"""

import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import fiona
import pytest

from audit.models import AuditEvent
from contracts.models import Contractor
from exchange import mdb
from exchange import standard as S
from exchange.export import package_export
from exchange.importer import package_check, package_import
from exchange.tests.jet4 import write_mdb
from exchange.tests.test_import_check import YEAR
from spatial.models import Parcel

KINDS = {"str": "text", "int": "long", "float": "double", "date": "date"}
LZHT = [("LZHTBM", "text", 18), ("CBHTBM", "text", 19), ("LZFS", "text", 3), ("LZMJ", "double", 0)]


def _spec(layer: S.Layer) -> list[tuple[str, str, int]]:
    out = []
    for name, kind in layer.fields.items():
        base, _, width = kind.partition(":")
        out.append((name, KINDS[base], int(width) if base == "str" else 0))
    return out


def _as_mdb(folder: Path, change: Any = None, extra: dict[str, Any] | None = None) -> Path:
    """Replace the package's GeoPackage by an .mdb holding the same tables (optionally changed)."""
    gpkg = next((folder / "权属数据").glob("*.gpkg"))
    tables: dict[str, Any] = {}
    for layer in S.TABLES:
        with fiona.open(gpkg, layer=layer.name) as src:
            rows = [dict(f["properties"]) for f in src]
        for r in rows:
            for k, v in r.items():
                if isinstance(v, str) and len(v) == 10 and layer.fields.get(k) == "date":
                    r[k] = date.fromisoformat(v)
            if change:
                change(layer.name, r)
        tables[layer.name] = (_spec(layer), rows)
    tables.update(extra or {})
    gpkg.unlink()
    return write_mdb(folder / "权属数据" / f"{folder.name[:6]}{YEAR}.mdb", tables)


@pytest.fixture
def package(demo, tmp_path) -> Path:
    return package_export(
        actor=None, county_code=demo.county, out_dir=tmp_path / "out", year=YEAR, progress=lambda m: None
    ).folder


def test_mdbtools_reads_what_the_test_writer_writes(tmp_path):
    path = write_mdb(
        tmp_path / "t.mdb",
        {
            "CBF": (
                [("CBFBM", "text", 18), ("CBFMC", "text", 50), ("N", "long", 0), ("D", "date", 0)],
                [
                    {"CBFBM": "450326100201001001", "CBFMC": "韦秀英", "N": 4, "D": date(2017, 5, 3)},
                    {"CBFBM": "450326100201001002", "CBFMC": '引号"逗号,换行\n', "N": None, "D": None},
                ],
            )
        },
    )
    assert subprocess.run(["mdb-ver", str(path)], capture_output=True, text=True).stdout.strip() == "JET4"
    assert mdb.table_names(path) == ["CBF"]
    assert mdb.read_table(path, "CBF") == [
        {"CBFBM": "450326100201001001", "CBFMC": "韦秀英", "N": 4, "D": "2017-05-03 00:00:00"},
        {"CBFBM": "450326100201001002", "CBFMC": '引号"逗号,换行\n'},
    ]


def test_a_package_with_an_mdb_imports_as_the_registry_holds_it(package):
    _as_mdb(package, extra={"LZHT": (LZHT, [{"LZHTBM": "450326100201001001", "LZFS": "1", "LZMJ": 1.5}])})
    before = Contractor.objects.filter(valid_to__isnull=True).count()
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert not report.rejected, report.reasons
    tables = report.layers["tables"]
    assert tables["read_from"].endswith(".mdb")
    assert tables["rows"]["CBF"] == before and tables["rows"]["LZHT"] == 1
    assert tables["not_loaded"] == ["LZHT"]
    # Every name, ID number, date and area read back equal: nothing new, nothing changed.
    assert report.tables_imported.get("households_new", 0) == 0
    assert report.tables_imported.get("households_changed", 0) == 0
    assert report.tables_imported.get("contracts_new", 0) == 0
    assert report.tables_imported.get("contracts_changed", 0) == 0
    assert report.id_check_failures == [] and report.contract_parcels_missing == []


def test_a_change_in_the_mdb_makes_a_new_household_version(package):
    household = Contractor.objects.filter(valid_to__isnull=True, cbflx="1").order_by("cbfbm")[5]

    def rename(table, r):
        if table == "CBF" and r["CBFBM"] == household.cbfbm:
            r["CBFMC"] = "覃桂兰"

    _as_mdb(package, rename)
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert report.tables_imported["households_changed"] == 1
    assert Contractor.objects.get(cbfbm=household.cbfbm, valid_to__isnull=True).name == "覃桂兰"


@pytest.mark.parametrize("cut", ["last_page", "mid_page"])
def test_a_truncated_mdb_rejects_the_package_and_writes_nothing(package, cut):
    path = _as_mdb(package)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 4096] if cut == "last_page" else data[: len(data) - 1000])
    parcels, events = Parcel.objects.count(), AuditEvent.objects.count()
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert report.rejected
    assert any("不完整" in r["message"] or "损坏" in r["message"] for r in report.reasons), report.reasons
    assert Parcel.objects.count() == parcels and AuditEvent.objects.count() == events


def test_a_file_that_is_not_an_access_database_is_refused(package):
    (package / "权属数据" / f"{package.name[:6]}{YEAR}.mdb").write_bytes(b"PK\x03\x04 not an access file" * 200)
    report = package_check(path=package, progress=lambda m: None)
    assert report.rejected
    assert any("不是 Access 数据库" in r["message"] for r in report.reasons), report.reasons
