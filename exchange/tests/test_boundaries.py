"""Boundary points (JZD) and lines (JZX): imported with the parcels, kept with history, exported back.

The layers are built here from the demo county's exported parcels, independently of the importer: one
point per distinct vertex (to the millimetre) listing every parcel that has it, one line per distinct edge.
"""

from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import fiona
import pytest
import shapely
from django.contrib.gis.geos import Point
from fiona.crs import CRS
from shapely.geometry import mapping, shape

from audit.models import AuditEvent
from exchange import standard as S
from exchange.export import package_export
from exchange.importer import package_import
from exchange.tests.conftest import YEAR
from spatial.models import BoundaryLine, BoundaryPoint

N_PARCELS = 40


def _mm(x: float, y: float) -> tuple[int, int]:
    return round(x * 1000), round(y * 1000)


def _layers(folder: Path, move: tuple[int, int] | None = None, extra_point: dict | None = None) -> dict:
    """Write JZD and JZX for the first parcels of the package's DK; `move` shifts the point at that
    millimetre position 20 mm east (and the lines ending there). Returns what was written."""
    dk = next((folder / "矢量数据").glob("DK*.shp"))
    with fiona.open(dk) as src:
        crs_wkt = src.crs_wkt
        parcels = sorted(((f["properties"]["DKBM"], shape(f["geometry"])) for f in src), key=lambda p: p[0])
    parcels = parcels[:N_PARCELS]
    points: dict[tuple[int, int], set[str]] = defaultdict(set)
    edges: dict[tuple, set[str]] = defaultdict(set)
    for dkbm, geom in parcels:
        for poly in getattr(geom, "geoms", [geom]):
            for ring in [poly.exterior, *poly.interiors]:
                mm = [_mm(x, y) for x, y in ring.coords]
                for a, b in pairwise(mm):
                    points[a].add(dkbm)
                    edges[min((a, b), (b, a))].add(dkbm)

    def at(p: tuple[int, int]) -> tuple[float, float]:
        x, y = p[0] / 1000, p[1] / 1000
        return (x + 0.02, y) if p == move else (x, y)

    numbers = {p: f"J{i + 1}" for i, p in enumerate(sorted(points))}
    jzd = [
        {
            "geometry": mapping(shapely.Point(*at(p))),
            "properties": {
                "BSM": i + 1,
                "YSDM": "211021",
                "JZDH": numbers[p],
                "JZDLX": "1",
                "JBLX": "6",
                "DKBM": "/".join(sorted(d)),
                "XZBZ": round(at(p)[1], 3),
                "YZBZ": round(at(p)[0], 3),
            },
        }
        for i, (p, d) in enumerate(sorted(points.items()))
    ]
    if extra_point:
        jzd.append(extra_point)
    jzx = [
        {
            "geometry": mapping(shapely.LineString([at(a), at(b)])),
            "properties": {
                "BSM": i + 1,
                "YSDM": "211031",
                "JXXZ": "600001",
                "JZXLB": "01",
                "JZXWZ": "2",
                "JZXSM": "",
                "PLDWQLR": "",
                "PLDWZJR": "",
                "JZXH": f"X{i + 1}",
                "QJZDH": numbers[a],
                "ZJZDH": numbers[b],
                "DKBM": "/".join(sorted(d)),
            },
        }
        for i, ((a, b), d) in enumerate(sorted(edges.items()))
    ]
    for layer, feats in ((S.JZD, jzd), (S.JZX, jzx)):
        for old in (folder / "矢量数据").glob(f"{layer.name}*"):
            old.unlink()
        schema = {"geometry": layer.geometry, "properties": dict(layer.fields)}
        path = folder / "矢量数据" / f"{layer.file_stem(folder.name[:6], YEAR)}.shp"
        with fiona.open(path, "w", driver="ESRI Shapefile", schema=schema, crs_wkt=crs_wkt, encoding="GBK") as dst:
            dst.writerecords(feats)
    return {"points": points, "edges": edges}


@pytest.fixture
def package(exported: Path) -> Path:
    return exported


def _plane_mm(point: BoundaryPoint) -> tuple[int, int]:
    g = point.geom.transform(4546, clone=True)  # Yongfu's Gauss-Kruger zone, the package's plane
    assert isinstance(g, Point)
    return _mm(g.x, g.y)


def _current_points() -> dict[tuple[int, int], set[str]]:
    points = BoundaryPoint.objects.filter(valid_to__isnull=True).prefetch_related("parcels")
    return {_plane_mm(p): {q.dkbm for q in p.parcels.all()} for p in points}


def test_points_and_lines_import_once_and_again_unchanged(package):
    written = _layers(package)
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert not report.rejected, report.reasons
    assert report.layers["JZD"]["new"] == len(written["points"]) and report.layers["JZX"]["new"] == len(
        written["edges"]
    )
    # Each point where it was written, with the parcels that share it.
    assert _current_points() == written["points"]
    shared = next(p for p, d in written["points"].items() if len(d) >= 3)
    assert len(_current_points()[shared]) >= 3
    line = BoundaryLine.objects.filter(valid_to__isnull=True).select_related("start_point", "end_point").first()
    assert line.geom.coords[0] == pytest.approx(line.start_point.geom.coords, abs=1e-9)
    assert line.geom.coords[-1] == pytest.approx(line.end_point.geom.coords, abs=1e-9)

    again = package_import(actor=None, path=package, progress=lambda m: None)
    assert again.layers["JZD"]["unchanged"] == len(written["points"]) and again.layers["JZD"]["new"] == 0
    assert again.layers["JZX"]["unchanged"] == len(written["edges"]) and again.layers["JZX"]["changed"] == 0
    assert BoundaryPoint.objects.count() == len(written["points"])
    assert AuditEvent.objects.filter(action="package.imported").latest("id").data["boundaries"]["points_new"] == 0


def test_export_writes_them_back_to_the_millimetre_and_reimports_unchanged(package, tmp_path, demo):
    written = _layers(package)
    package_import(actor=None, path=package, progress=lambda m: None)
    out = package_export(
        actor=None, county_code=demo.county, out_dir=tmp_path / "again", year=YEAR, progress=lambda m: None
    ).folder
    with fiona.open(next((out / "矢量数据").glob("JZD*.shp"))) as src:
        exported = {_mm(*f["geometry"]["coordinates"]): set(f["properties"]["DKBM"].split("/")) for f in src}
    assert exported == written["points"]
    report = package_import(actor=None, path=out, progress=lambda m: None)
    assert report.layers["JZD"]["unchanged"] == len(written["points"])
    assert report.layers["JZX"]["unchanged"] == len(written["edges"])


def test_a_moved_point_closes_the_old_one_and_rewrites_its_lines(package):
    written = _layers(package)
    package_import(actor=None, path=package, progress=lambda m: None)
    moved = next(p for p, d in written["points"].items() if len(d) == 2)
    n_lines = sum(1 for e in written["edges"] if moved in e)
    _layers(package, move=moved)
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert report.layers["JZD"]["new"] == 1 and report.layers["JZD"]["closed"] == 1
    assert report.layers["JZX"]["new"] == n_lines and report.layers["JZX"]["closed"] == n_lines
    now = _current_points()
    assert moved not in now and (moved[0] + 20, moved[1]) in now
    old = BoundaryPoint.objects.get(valid_to__isnull=False)  # kept, with the time it ended
    assert _plane_mm(old) == moved
    assert BoundaryLine.objects.filter(valid_to__isnull=False).count() == n_lines


def test_a_point_of_an_unknown_parcel_is_reported_not_imported(package, demo):
    stray = {
        "geometry": mapping(shapely.Point(500000.0, 2750000.0)),
        "properties": {
            "BSM": 999,
            "YSDM": "211021",
            "JZDH": "J999",
            "JZDLX": "1",
            "JBLX": "6",
            "DKBM": f"{demo.county}9999999999999",
            "XZBZ": 2750000.0,
            "YZBZ": 500000.0,
        },
    }
    written = _layers(package, extra_point=stray)
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert not report.rejected
    assert [(f["layer"], f["code"]) for f in report.boundary_findings] == [("JZD", "J999")]
    assert "不在 DK 图层" in report.boundary_findings[0]["message"]
    assert BoundaryPoint.objects.count() == len(written["points"])


def test_a_jzd_layer_in_a_crs_outside_the_list_rejects_the_package(package):
    _layers(package)
    jzd = next((package / "矢量数据").glob("JZD*.shp"))
    jzd.with_suffix(".prj").write_text(CRS.from_epsg(4326).to_wkt())
    points, events = BoundaryPoint.objects.count(), AuditEvent.objects.count()
    report = package_import(actor=None, path=package, progress=lambda m: None)
    assert report.rejected and BoundaryPoint.objects.count() == points and AuditEvent.objects.count() == events
