"""A surveyor's upload read in each format and checked against the registry in the county plane (EPSG:4546,
CM 111°E); bad files are refused with their reason and write nothing."""

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import ezdxf
import pytest
import shapely
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from shapely import affinity

from accounts.models import User
from audit.models import AuditEvent
from config.celery import app
from conftest import wait_until_finished
from core.errors import DomainError, PermissionDeniedError
from surveys.models import ProposedParcel, SurveyTask, SurveyUpload
from surveys.selectors import tasks_visible
from surveys.services import SurveyError, survey_task_create, survey_upload_create, survey_upload_run

SAMPLES = Path(__file__).resolve().parent / "fixtures"  # copies of shared/data, with their SOURCES note
PLANE = 4546
ZONE_37 = 37_000_000


def _plane(dkbm: str) -> shapely.Polygon:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_AsBinary(ST_Transform(geom, %s)) FROM spatial_parcel WHERE dkbm = %s AND valid_to IS NULL",
            [PLANE, dkbm],
        )
        geom = shapely.from_wkb(bytes(cur.fetchone()[0]))
    return geom.geoms[0] if geom.geom_type == "MultiPolygon" else geom


def _neighbours(dkbm: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT b.dkbm FROM spatial_parcel a JOIN spatial_parcel b ON b.valid_to IS NULL AND b.dkbm <> a.dkbm "
            "AND ST_DWithin(ST_Transform(a.geom, 4546), ST_Transform(b.geom, 4546), 0.01) "
            "WHERE a.dkbm = %s AND a.valid_to IS NULL ORDER BY b.dkbm",
            [dkbm],
        )
        return [r[0] for r in cur.fetchall()]


@pytest.fixture
def task(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with connection.cursor() as cur:
        cur.execute(
            "SELECT dkbm FROM spatial_parcel WHERE valid_to IS NULL AND dkbm LIKE '45032610020001%%' ORDER BY dkbm"
        )
        first = cur.fetchone()[0]
    return survey_task_create(
        actor=User.objects.get(username="county"),
        dkbms=[first],
        reason="地块调整重新测量",
        company="示范测绘有限公司",
        assignee=User.objects.get(username="surveyor"),
        due_on=timezone.localdate() + timedelta(days=30),
    )


def _upload(task: SurveyTask, name: str, data: bytes, srid: int | None = None) -> SurveyUpload:
    job = survey_upload_create(
        actor=User.objects.get(username="surveyor"), task=task, upload=SimpleUploadedFile(name, data), srid=srid
    )
    return survey_upload_run(upload=job)  # what the Celery task does (a real worker runs one below)


def _geojson(polygons: list[shapely.Polygon], props: list[dict] | None = None) -> bytes:
    """GeoJSON in the county plane, with its CRS named (as GDAL writes it)."""
    features = [
        {"type": "Feature", "properties": (props or [{}] * len(polygons))[i], "geometry": shapely.geometry.mapping(p)}
        for i, p in enumerate(polygons)
    ]
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{PLANE}"}}
    return json.dumps({"type": "FeatureCollection", "crs": crs, "features": features}).encode()


def _messages(upload: SurveyUpload) -> list[str]:
    return [m["code"] for p in upload.parcels.all() for m in p.messages]


def test_a_resurveyed_parcel_matches_its_registry_parcel_and_passes(task):
    dkbm = task.dkbms[0]
    upload = _upload(task, "result.geojson", _geojson([_plane(dkbm)]))
    assert upload.status == SurveyUpload.Status.DONE, upload.report
    proposed = upload.parcels.get()
    assert proposed.dkbm == dkbm and proposed.status == ProposedParcel.Status.OK, proposed.messages
    assert abs(proposed.area_m2 - proposed.registry_area_m2) <= 0.02  # SCMJ is this area in this plane
    assert upload.srid == PLANE and upload.report["unmatched_task_parcels"] == []
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.UPLOADED
    assert AuditEvent.objects.filter(action="survey.upload_checked", subject_id=str(upload.pk)).exists()


def test_a_parcel_pushed_into_its_neighbour_is_an_overlap_naming_the_neighbour(task):
    dkbm = task.dkbms[0]
    grown = _plane(dkbm).buffer(1.5, join_style="mitre")
    upload = _upload(task, "grown.geojson", _geojson([grown]))
    proposed = upload.parcels.get()
    assert proposed.status == ProposedParcel.Status.ERROR
    overlaps = [m for m in proposed.messages if m["code"] == "overlap"]
    named = {n for n in _neighbours(dkbm) if any(n in m["zh"] for m in overlaps)}
    assert named and named == set(_neighbours(dkbm)) - {dkbm}  # every neighbour, each by its code
    added = [f for f in upload.report["overlay"]["features"] if f["properties"]["status"] == "added"]
    ring = _plane(dkbm)
    assert len(added) == 1 and added[0]["properties"]["label"] == f"+{grown.area - ring.area:.2f} m²"


def test_a_parcel_pulled_back_from_its_neighbours_leaves_gaps(task):
    dkbm = task.dkbms[0]
    shrunk = _plane(dkbm).buffer(-0.3, join_style="mitre")
    proposed = _upload(task, "shrunk.geojson", _geojson([shrunk])).parcels.get()
    assert "gap" in [m["code"] for m in proposed.messages] and proposed.status == ProposedParcel.Status.WARNING
    assert "overlap" not in [m["code"] for m in proposed.messages]


def test_a_self_intersecting_polygon_is_an_error_with_a_repair_suggestion(task):
    x0, y0, x1, y1 = _plane(task.dkbms[0]).bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    proposed = _upload(task, "bowtie.geojson", _geojson([bowtie])).parcels.get()
    invalid = next(m for m in proposed.messages if m["code"] == "geometry_invalid")
    assert "Self-intersection" in invalid["zh"] and "建议修复" in invalid["zh"]


def test_coordinates_outside_the_county_say_so(task):
    far = affinity.translate(_plane(task.dkbms[0]), xoff=0, yoff=-900_000)
    proposed = _upload(task, "far.geojson", _geojson([far])).parcels.get()
    assert [m["code"] for m in proposed.messages] == ["outside_county"]


def test_a_coordinate_list_with_the_zone_number_finds_its_zone(task):
    ring = list(_plane(task.dkbms[0]).exterior.coords)[:-1]
    rows = ["点号,X,Y"] + [f"J{i + 1},{y:.3f},{x + ZONE_37:.3f}" for i, (x, y) in enumerate(ring)]
    upload = _upload(task, "jzd.csv", "\n".join(rows).encode("gbk"))
    assert upload.status == SurveyUpload.Status.DONE and upload.srid == 4525  # zone 37 with its prefix
    assert upload.parcels.get().dkbm == task.dkbms[0] and upload.report["counts"]["point"] == len(ring)

    plain = ["点号,X,Y"] + [f"J{i + 1},{y:.3f},{x:.3f}" for i, (x, y) in enumerate(ring)]
    refused = _upload(task, "jzd.csv", "\n".join(plain).encode())
    assert refused.status == SurveyUpload.Status.REJECTED and refused.report["error"]["code"] == "survey_crs_needed"
    assert not refused.parcels.exists()
    swapped = ["点号,X,Y"] + [f"J{i + 1},{x:.3f},{y:.3f}" for i, (x, y) in enumerate(ring)]  # X/Y the wrong way
    upload = _upload(task, "jzd.txt", "\n".join(swapped).encode(), srid=PLANE)
    assert upload.parcels.get().dkbm == task.dkbms[0]
    assert any("填反" in p["zh"] for p in upload.report["problems"])


def test_a_cass_dat_file_reads_east_before_north(task):
    ring = list(_plane(task.dkbms[0]).exterior.coords)[:-1]
    rows = [f"{i + 1},,{x + ZONE_37:.3f},{y:.3f},152.3" for i, (x, y) in enumerate(ring)]
    upload = _upload(task, "jzd.dat", "\n".join(rows).encode())
    assert upload.srid == 4525 and upload.parcels.get().dkbm == task.dkbms[0]


def test_a_dxf_gives_parcels_points_and_numbers_and_refuses_3d_entities(task, tmp_path):
    ring = list(_plane(task.dkbms[0]).exterior.coords)[:-1]
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    msp.add_lwpolyline(ring, close=True, dxfattribs={"layer": "DK"})
    for i, (x, y) in enumerate(ring):
        msp.add_point((x, y, 0), dxfattribs={"layer": "JZD"})
        msp.add_text(f"J{i + 1}", dxfattribs={"insert": (x + 0.2, y + 0.2)})
    msp.add_lwpolyline(ring[:3], close=False)  # unclosed: a reference line
    msp.add_3dface([(0, 0, 0), (1, 0, 1), (1, 1, 2)])
    path = tmp_path / "result.dxf"
    doc.saveas(path)
    upload = _upload(task, "result.dxf", path.read_bytes(), srid=PLANE)
    assert upload.status == SurveyUpload.Status.DONE
    assert upload.parcels.get().dkbm == task.dkbms[0]
    assert upload.report["counts"]["point"] == len(ring) and upload.report["counts"]["line"] == 1
    problems = " ".join(p["zh"] for p in upload.report["problems"])
    assert "三维面" in problems and "未闭合" in problems

    without_crs = _upload(task, "result.dxf", path.read_bytes())
    assert without_crs.status == SurveyUpload.Status.REJECTED and "请选择坐标系" in without_crs.message


def test_the_shared_sample_dxfs_are_read_feature_by_feature(task):
    """Real files: 30 POLYLINE variants and a 3D face; a Leica Disto export; a DXF georeferenced in British
    National Grid, refused for its CRS."""
    poly = _upload(task, "POLI-ALL210_12.DXF", (SAMPLES / "dxf/POLI-ALL210_12.DXF").read_bytes(), srid=PLANE)
    assert poly.status == SurveyUpload.Status.DONE and poly.report["counts"]["polygon"] == 14
    errors = [p["zh"] for p in poly.report["problems"] if p["level"] == "error"]
    assert sum("三维面" in e for e in errors) == 1 and sum("没有面积" in e for e in errors) == 2  # two 2-point rings
    assert poly.parcels.count() == 12
    assert set(_messages(poly)) == {"outside_county"}  # drawn near 0,0: not in Yongfu
    leica = _upload(task, "disto.dxf", (SAMPLES / "dxf/Leica_Disto_S910.dxf").read_bytes(), srid=PLANE)
    assert leica.report["counts"] == {"polygon": 0, "point": 11, "line": 10, "text": 11}
    london = (SAMPLES / "dxf/houses_of_parliament_georeferenced.dxf").read_bytes()
    refused = _upload(task, "london.dxf", london, srid=PLANE)
    assert refused.status == SurveyUpload.Status.REJECTED and "EPSG:27700" in refused.message


def test_gpx_tracks_are_reference_only(task):
    upload = _upload(task, "track.gpx", (SAMPLES / "gpx/ezdxf_track1.gpx").read_bytes())
    assert upload.status == SurveyUpload.Status.DONE and not upload.parcels.exists()
    assert upload.report["counts"]["line"] == 1 and upload.srid == 4490
    assert [f["properties"]["status"] for f in upload.report["overlay"]["features"]] == ["line"]  # drawn on the map


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_bad_files_are_refused_with_their_reason_and_write_nothing(task):
    shp = SAMPLES / "dk_marker_2026"
    danish = _zip(
        {f"Marker_2026{ext}": (shp / f"Marker_2026{ext}").read_bytes() for ext in (".shp", ".shx", ".dbf", ".prj")}
    )
    cases = {
        "danish.zip": (danish, "不在允许范围"),  # ETRS89 / UTM 32N: not CGCS2000
        "evil.zip": (_zip({"../../etc/passwd.shp": b"x"}), "非法路径"),
        "bomb.zip": (_zip({"big.shp": b"\0" * (60 * 1024**2)}), "压缩炸弹"),
        "broken.gpx": (b"<gpx><trk><trkseg><trkpt lat='x'", "无法读取 GPX"),
        "empty.csv": (b"\n\n", "坐标表为空"),
        "notes.docx": (b"PK..", "请上传"),
    }
    for name, (data, message) in cases.items():
        try:
            upload = _upload(task, name, data)
        except DomainError as exc:  # refused at once, on the form
            assert message in exc.zh, (name, exc.zh)
            continue
        assert upload.status == SurveyUpload.Status.REJECTED, name
        assert message in upload.message, (name, upload.message)
        assert not upload.parcels.exists()
    assert not ProposedParcel.objects.filter(upload__task=task).exists()


def test_only_the_county_assigns_and_only_the_assignee_uploads(task, demo):
    with pytest.raises(PermissionDeniedError):
        survey_task_create(
            actor=User.objects.get(username="township"),
            dkbms=task.dkbms,
            reason="x",
            company="x",
            assignee=User.objects.get(username="surveyor"),
            due_on=timezone.localdate(),
        )
    with pytest.raises(SurveyError):  # a township officer is no surveyor
        survey_task_create(
            actor=User.objects.get(username="county"),
            dkbms=task.dkbms,
            reason="x",
            company="x",
            assignee=User.objects.get(username="township"),
            due_on=timezone.localdate(),
        )
    with pytest.raises(PermissionDeniedError):
        survey_upload_create(
            actor=User.objects.get(username="county"), task=task, upload=SimpleUploadedFile("a.geojson", b"{}")
        )
    assert list(tasks_visible(User.objects.get(username="township"))) == [task]  # 永福镇 holds the parcel
    assert list(tasks_visible(User.objects.get(username="township2"))) == []
    assert list(tasks_visible(User.objects.get(username="surveyor"))) == [task]
    assert list(tasks_visible(User.objects.get(username="farmer"))) == []


def test_a_real_worker_checks_an_upload(django_db_setup, django_db_blocker, tmp_path, settings):
    """Committed for real so that the worker's connection sees it (nothing here touches the registry)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_db_blocker.unblock():
        with connection.cursor() as cur:
            cur.execute("SELECT dkbm FROM spatial_parcel WHERE valid_to IS NULL AND dkbm LIKE '45032610020002%%'")
            dkbm = cur.fetchone()[0]
        task = survey_task_create(
            actor=User.objects.get(username="county"),
            dkbms=[dkbm],
            reason="worker",
            company="示范测绘有限公司",
            assignee=User.objects.get(username="surveyor"),
            due_on=timezone.localdate() + timedelta(days=1),
        )
        try:
            with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
                with transaction.atomic():
                    job = survey_upload_create(
                        actor=User.objects.get(username="surveyor"),
                        task=task,
                        upload=SimpleUploadedFile("r.geojson", _geojson([_plane(dkbm)])),
                    )
                wait_until_finished(job, 60)
            assert job.status == SurveyUpload.Status.DONE, job.message
            assert job.parcels.get().dkbm == dkbm
        finally:
            ProposedParcel.objects.filter(upload__task=task).delete()
            SurveyUpload.objects.filter(task=task).delete()
            task.delete()
