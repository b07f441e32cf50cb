"""Ingesting the real sample imagery (../shared/data/imagery, rasterio's test data, CC0): a 3857 COG, a UTM
GeoTIFF that is not a COG, a 4326 world image; and files that must be refused."""

from pathlib import Path

import numpy as np
import pytest
import rasterio
from django.core.management import CommandError, call_command
from pyproj import Transformer
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds
from rio_cogeo.cogeo import cog_validate

from accounts.models import User
from audit.models import AuditEvent
from core.errors import PermissionDeniedError
from imagery.ingest import ImageryError, imagery_ingest
from imagery.models import Imagery

IMAGERY = Path(__file__).resolve().parents[2] / "imagery" / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def imagery_root(settings, tmp_path):
    settings.IMAGERY_ROOT = tmp_path / "imagery"
    return settings.IMAGERY_ROOT


def _ingest(file: str, actor: User | None = None, **kw) -> Imagery:
    return imagery_ingest(actor=actor, path=IMAGERY / file, county_code="450326", progress=lambda m: None, **kw)


@pytest.mark.parametrize(("name", "epsg"), [("cogeo.tif", 3857), ("RGB.byte.tif", 32618), ("world.rgb.tif", 4326)])
def test_each_sample_becomes_a_valid_web_optimised_cog_with_its_footprint(demo, imagery_root, name, epsg):
    image = _ingest(name)
    cog = imagery_root / image.cog_path
    assert cog_validate(str(cog), quiet=True)[0]
    with rasterio.open(IMAGERY / name) as src, rasterio.open(cog) as out:
        assert out.crs.to_epsg() == 3857
        assert out.overviews(1) or max(out.width, out.height) <= 512  # overviews down to one 512-px block
        assert out.count == src.count  # the mask is internal, not a band
        assert image.source_crs == f"EPSG:{epsg}" and (image.width, image.height) == (src.width, src.height)
        # The footprint is the source's bounds, reprojected independently here with pyproj.
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    fx0, fy0, fx1, fy1 = image.footprint.extent
    assert (fx0, fy0, fx1, fy1) == pytest.approx((west, south, east, north), abs=0.01)
    event = AuditEvent.objects.get(action="imagery.ingested", subject_id=str(image.pk))
    assert event.data["crs"] == f"EPSG:{epsg}"


def test_pixels_survive_the_conversion(demo, imagery_root):
    """The UTM Landsat scene, read back from the COG at a point inside it, equals the source there."""
    image = _ingest("RGB.byte.tif")
    with rasterio.open(IMAGERY / "RGB.byte.tif") as src, rasterio.open(imagery_root / image.cog_path) as out:
        row, col = 300, 400
        x, y = src.xy(row, col)
        mx, my = Transformer.from_crs(src.crs, out.crs, always_xy=True).transform(x, y)
        r2, c2 = out.index(mx, my)
        window = ((row - 1, row + 2), (col - 1, col + 2))
        source = src.read(window=window).astype(int)
        converted = out.read(window=((r2, r2 + 1), (c2, c2 + 1))).astype(int)[:, 0, 0]
    # Resampled (bilinear) to a slightly finer grid: within the range of the 3x3 neighbourhood.
    assert np.all(converted >= source.min(axis=(1, 2)) - 1) and np.all(converted <= source.max(axis=(1, 2)) + 1)
    assert converted.sum() > 0


def test_the_command_records_name_date_and_public_flag(demo, capsys, imagery_root):
    call_command(
        "ingest_imagery",
        str(IMAGERY / "cogeo.tif"),
        "--county",
        "450326",
        "--name",
        "Yongfu 2017",
        "--date",
        "2017-05-03",
        "--public",
    )
    image = Imagery.objects.latest("pk")
    assert image.name == "yongfu-2017" and str(image.acquired_on) == "2017-05-03" and image.public
    with pytest.raises(CommandError, match="已存在"):
        call_command("ingest_imagery", str(IMAGERY / "cogeo.tif"), "--county", "450326", "--name", "Yongfu 2017")
    call_command("ingest_imagery", str(IMAGERY / "world.rgb.tif"))  # one county loaded: it is the default
    assert Imagery.objects.get(name="worldrgb").county.code == "450326"


def _write(path: Path, crs: str | None) -> Path:
    data = np.full((3, 64, 64), 120, dtype=np.uint8)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=3,
        dtype="uint8",
        crs=crs,
        transform=from_origin(400000, 2700000, 1, 1),
    ) as dst:
        dst.write(data)
    return path


def test_bad_files_are_refused_and_leave_nothing(demo, tmp_path, imagery_root):
    before = (Imagery.objects.count(), AuditEvent.objects.filter(action="imagery.ingested").count())
    good = (IMAGERY / "RGB.byte.tif").read_bytes()
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(good[: len(good) // 3])
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"II*\x00" + b"\x00" * 500)
    cases = {
        truncated: "不是可读的 GeoTIFF",
        garbage: "不是可读的 GeoTIFF",
        _write(tmp_path / "nocrs.tif", None): "没有坐标系",
        _write(tmp_path / "osgb.tif", "EPSG:27700"): "EPSG:27700",
    }
    for path, message in cases.items():
        with pytest.raises(ImageryError) as exc:
            imagery_ingest(actor=None, path=path, county_code="450326", progress=lambda m: None)
        assert message in exc.value.zh, (path.name, exc.value.zh)
    # nothing new (a test that drives a real worker may have committed imagery of its own before)
    assert (Imagery.objects.count(), AuditEvent.objects.filter(action="imagery.ingested").count()) == before
    assert not imagery_root.exists() or not any(imagery_root.rglob("*.tif"))


def test_only_the_county_bureau_ingests(demo):
    with pytest.raises(PermissionDeniedError):
        imagery_ingest(
            actor=User.objects.get(username="township"),
            path=IMAGERY / "cogeo.tif",
            county_code="450326",
            progress=lambda m: None,
        )
    county = User.objects.get(username="county")
    image = _ingest("cogeo.tif", actor=county, name="by-county")
    assert image.name == "by-county" and image.created_by == county
