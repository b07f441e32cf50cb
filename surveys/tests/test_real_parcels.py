"""Real field parcels (the 100 Dutch reference parcels, a clean partition, moved into Yongfu's plane by
the dutch_fields fixture) surveyed again as a GeoPackage: unchanged they pass; moved 0.6 m the overlaps
found are exactly those shapely finds by brute force."""

from datetime import timedelta

import fiona
import shapely
from django.db import connection
from django.utils import timezone
from shapely import affinity
from shapely.geometry import mapping

from accounts.models import User
from surveys.models import SurveyUpload
from surveys.services import survey_task_create
from surveys.tests.test_uploads import _upload

PLANE_CRS = "EPSG:4546"


def _gpkg(path, polygons) -> bytes:
    schema = {"geometry": "MultiPolygon", "properties": {"name": "str"}}
    with fiona.open(path, "w", driver="GPKG", crs=PLANE_CRS, schema=schema) as sink:
        for i, p in enumerate(polygons):
            multi = p if p.geom_type == "MultiPolygon" else shapely.MultiPolygon([p])
            sink.write({"geometry": mapping(multi), "properties": {"name": f"田{i + 1}"}})
    return path.read_bytes()


def test_real_parcels_resurveyed_pass_and_a_shifted_one_overlaps_exactly_its_neighbours(
    dutch_fields, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    geoms, group_of = dutch_fields
    with connection.cursor() as cur:  # the fixture lays them just south of the generated county's outline
        cur.execute(
            "UPDATE spatial_region SET outline = ST_Multi(ST_Union(outline, (SELECT ST_SetSRID(ST_Buffer("
            "ST_Extent(geom)::geometry, 0.01), 4490) FROM spatial_parcel WHERE dkbm LIKE '450326100299%%'))) "
            "WHERE code = '450326'"
        )
    codes: list[str] = []
    seq: dict[str, int] = {}
    for code in group_of:
        seq[code] = seq.get(code, 0) + 1
        codes.append(f"{code}{seq[code]:05d}")
    # the parcel with the most neighbours, and the parcels of its group that touch it
    touching = {
        i: [j for j in range(len(geoms)) if j != i and geoms[i].distance(geoms[j]) < 0.01] for i in range(len(geoms))
    }
    target = max(range(len(geoms)), key=lambda i: len(touching[i]))
    task = survey_task_create(
        actor=User.objects.get(username="county"),
        dkbms=[codes[target]],
        reason="复测",
        company="示范测绘有限公司",
        assignee=User.objects.get(username="surveyor"),
        due_on=timezone.localdate() + timedelta(days=5),
    )
    same = _upload(task, "same.gpkg", _gpkg(tmp_path / "same.gpkg", [geoms[target]]))
    assert same.status == SurveyUpload.Status.DONE and same.srid == 4546 and same.file_format == "GeoPackage"
    parcel = same.parcels.get()
    assert parcel.dkbm == codes[target] and parcel.status == "ok", parcel.messages

    moved = affinity.translate(geoms[target], 0.6, 0.0)
    upload = _upload(task, "moved.gpkg", _gpkg(tmp_path / "moved.gpkg", [moved]))
    found = {m["zh"].split()[1] for m in upload.parcels.get().messages if m["code"] == "overlap"}
    expected = {codes[j] for j in touching[target] if shapely.intersection(moved, geoms[j]).area >= 0.01}
    assert expected and found == expected
