"""MapProxy, for real and in process, serving an ingested image: tiles equal to the COG's pixels, transparent
outside it, WMTS capabilities that GDAL's WMTS driver opens."""

import io
import subprocess
import threading
from datetime import date
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import morecantile
import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.windows import from_bounds
from werkzeug.test import Client

from imagery.ingest import imagery_ingest
from imagery.mapproxy import mapproxy_app, native_zoom, write_config

FIXTURES = Path(__file__).parent / "fixtures"
TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture
def served(demo, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.IMAGERY_ROOT = tmp_path / "imagery"
    with django_capture_on_commit_callbacks(execute=True):  # the ingest writes MapProxy's config on commit
        image = imagery_ingest(
            actor=None, path=FIXTURES / "cogeo.tif", county_code="450326", name="aerial", progress=lambda m: None
        )
    return image, settings.IMAGERY_ROOT / image.cog_path, mapproxy_app()


def _png(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))


def test_a_tile_at_native_zoom_has_the_cogs_pixels(served):
    _image, cog, app = served
    z = native_zoom(cog)
    with rasterio.open(cog) as src:
        cx, cy = (src.bounds.left + src.bounds.right) / 2, (src.bounds.bottom + src.bounds.top) / 2
        tile = TMS.tile(*TMS.lnglat(cx, cy), z)
        b = TMS.xy_bounds(tile)
        window = from_bounds(b.left, b.bottom, b.right, b.top, src.transform)
        expected = src.read(window=window.round_offsets().round_lengths(), boundless=True)
        mask = src.dataset_mask(window=window.round_offsets().round_lengths(), boundless=True)
    resp = Client(app).get(f"/wmts/aerial/webmercator/{z}/{tile.x}/{tile.y}.png")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    got = _png(resp.data)
    assert got.shape == (256, 256, 4)
    inside = mask > 0
    assert inside.sum() > 1000
    assert np.array_equal(got[..., :3][inside], np.moveaxis(expected, 0, -1)[inside])  # lossless
    assert np.all(got[..., 3][inside] == 255)


def test_the_no_data_collar_inside_an_image_is_transparent_not_black(demo, settings, tmp_path):
    """RGB.byte.tif is a tilted scene in a rectangle of no-data (0): the collar must not show as black."""
    settings.IMAGERY_ROOT = tmp_path / "imagery"
    image = imagery_ingest(
        actor=None, path=FIXTURES / "RGB.byte.tif", county_code="450326", name="scene", progress=lambda m: None
    )
    cog = settings.IMAGERY_ROOT / image.cog_path
    write_config()
    app = mapproxy_app()
    z = native_zoom(cog)
    with rasterio.open(cog) as src:  # a tile where collar and scene meet
        west, south = TMS.lnglat(src.bounds.left, src.bounds.bottom)
        east, north = TMS.lnglat(src.bounds.right, src.bounds.top)
        for tile in TMS.tiles(west, south, east, north, [z]):
            b = TMS.xy_bounds(tile)
            window = from_bounds(b.left, b.bottom, b.right, b.top, src.transform).round_offsets().round_lengths()
            mask = src.dataset_mask(window=window, boundless=True)
            if (mask == 0).sum() > 5000 and (mask > 0).sum() > 5000:
                break
    assert (mask == 0).sum() > 5000 and (mask > 0).sum() > 5000
    got = _png(Client(app).get(f"/wmts/scene/webmercator/{z}/{tile.x}/{tile.y}.png").data)
    assert np.array_equal(got[..., 3] > 0, mask > 0)


def test_beyond_the_native_zoom_tiles_are_enlarged_not_blank(served):
    _image, cog, app = served
    z = native_zoom(cog) + 3
    with rasterio.open(cog) as src:
        lon, lat = TMS.lnglat((src.bounds.left + src.bounds.right) / 2, (src.bounds.bottom + src.bounds.top) / 2)
    tile = TMS.tile(lon, lat, z)
    got = _png(Client(app).get(f"/wmts/aerial/webmercator/{z}/{tile.x}/{tile.y}.png").data)
    assert (got[..., 3] == 255).all() and got[..., :3].std() > 1  # the image, enlarged: not empty, not flat


def test_outside_the_image_a_tile_is_transparent_not_an_error(served):
    _image, cog, app = served
    z = native_zoom(cog)
    far = TMS.tile(108.9, 24.9, z)  # Yongfu, far from the sample image (Korea)
    resp = Client(app).get(f"/wmts/aerial/webmercator/{z}/{far.x}/{far.y}.png")
    assert resp.status_code == 200
    assert np.all(_png(resp.data)[..., 3] == 0)


def test_lower_zooms_come_from_the_overviews(served):
    _image, cog, app = served
    with rasterio.open(cog) as src:
        lon, lat = TMS.lnglat((src.bounds.left + src.bounds.right) / 2, (src.bounds.bottom + src.bounds.top) / 2)
    for z in (native_zoom(cog) - 2, 12, 9):  # GDAL's overviews; then rio-tiler's tiles down to county view
        tile = TMS.tile(lon, lat, z)
        got = _png(Client(app).get(f"/wmts/aerial/webmercator/{tile.z}/{tile.x}/{tile.y}.png").data)
        assert (got[..., 3] > 0).sum() >= 1, z  # the image, shrunk (at z9 it is two pixels across)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_gdal_opens_the_wmts(served):
    _image, _cog, app = served
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/wmts/1.0.0/WMTSCapabilities.xml"
        out = subprocess.run(
            ["gdalinfo", f"WMTS:{url},layer=aerial"], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        server.shutdown()
    assert out.returncode == 0, out.stderr
    assert "Driver: WMTS" in out.stdout and "Band 4" in out.stdout  # RGBA


def _image_lonlat(image):
    x0, y0, x1, y1 = image.footprint.extent
    return x0, y0, x1, y1


def test_wms_in_cgcs2000_takes_latitude_first_in_1_3_0(served):
    image, _cog, app = served
    x0, y0, x1, y1 = _image_lonlat(image)
    common = "SERVICE=WMS&REQUEST=GetMap&LAYERS=aerial&STYLES=&FORMAT=image/png&TRANSPARENT=true&WIDTH=256&HEIGHT=256"
    right = Client(app).get(f"/service?{common}&VERSION=1.3.0&CRS=EPSG:4490&BBOX={y0},{x0},{y1},{x1}")
    old = Client(app).get(f"/service?{common}&VERSION=1.1.1&SRS=EPSG:4490&BBOX={x0},{y0},{x1},{y1}")
    swapped = Client(app).get(f"/service?{common}&VERSION=1.3.0&CRS=EPSG:4490&BBOX={x0},{y0},{x1},{y1}")
    for resp in (right, old):
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
        assert (_png(resp.data)[..., 3] == 255).mean() > 0.9  # the image fills the requested box
    if swapped.headers["Content-Type"] == "image/png":  # lon/lat read as lat/lon: somewhere else (or refused)
        assert (_png(swapped.data)[..., 3] == 255).mean() < 0.01
    else:
        assert b"ServiceException" in swapped.data


def test_tiles_on_the_cgcs2000_grid(served):
    image, _cog, app = served
    x0, y0, x1, y1 = _image_lonlat(image)
    lon, lat, z = (x0 + x1) / 2, (y0 + y1) / 2, 14
    span = 256 * 0.703125 / 2**z  # degrees per tile at level z (level 0: 2 x 1 tiles over the world)
    x, y = int((lon + 180) // span), int((90 - lat) // span)
    resp = Client(app).get(f"/wmts/aerial/cgcs2000/{z}/{x}/{y}.png")
    assert resp.status_code == 200
    alpha = _png(resp.data)[..., 3]
    assert 0 < (alpha == 255).sum() < alpha.size  # the image, reprojected, inside a transparent tile
    caps = Client(app).get("/wmts/1.0.0/WMTSCapabilities.xml").data.decode()
    assert "<ows:Identifier>cgcs2000</ows:Identifier>" in caps and "EPSG:4490</ows:SupportedCRS>" in caps


def test_a_newer_image_redraws_the_mosaic_where_it_lies(served, django_capture_on_commit_callbacks, tmp_path):
    """The mosaic's tiles are cached; an image flown later over the same place must replace them."""
    image, cog, app = served
    z = native_zoom(cog)
    x0, y0, x1, y1 = image.footprint.extent
    tile = TMS.tile((x0 + x1) / 2, (y0 + y1) / 2, z)
    url = f"/wmts/450326-mosaic/webmercator/{z}/{tile.x}/{tile.y}.png"
    old = _png(Client(app).get(url).data)  # drawn from the first image, and now in the mosaic's cache
    with rasterio.open(FIXTURES / "cogeo.tif") as src:  # the same place, other pixels (the colours inverted)
        profile, pixels = src.profile, src.read()
    newer = tmp_path / "newer.tif"
    with rasterio.open(newer, "w", **profile) as dst:
        dst.write(255 - pixels)
    with django_capture_on_commit_callbacks(execute=True):
        imagery_ingest(
            actor=None,
            path=newer,
            county_code="450326",
            name="aerial-2024",
            acquired_on=date(2024, 5, 1),
            progress=lambda m: None,
        )
    client = Client(mapproxy_app())
    now = _png(client.get(url).data)
    own = _png(client.get(f"/wmts/aerial-2024/webmercator/{z}/{tile.x}/{tile.y}.png").data)
    diff = lambda a, b: np.abs(a.astype(int) - b.astype(int)).mean()  # noqa: E731 - merged tiles are re-encoded
    assert diff(now, own) < 3 < 30 < diff(now, old)  # the newest image, on top; not the cached old tile


def test_the_county_mosaic_holds_each_of_its_images(served, django_capture_on_commit_callbacks):
    from imagery.access import layer_table

    image, cog, _app = served
    with django_capture_on_commit_callbacks(execute=True):
        landsat = imagery_ingest(
            actor=None, path=FIXTURES / "RGB.byte.tif", county_code="450326", name="landsat", progress=lambda m: None
        )
    client = Client(mapproxy_app())
    for layer, z in ((image, native_zoom(cog)), (landsat, native_zoom(cog.parent / landsat.cog_path))):
        x0, y0, x1, y1 = layer.footprint.extent
        tile = TMS.tile((x0 + x1) / 2, (y0 + y1) / 2, z)
        own = client.get(f"/wmts/{layer.name}/webmercator/{z}/{tile.x}/{tile.y}.png")
        mosaic = client.get(f"/wmts/450326-mosaic/webmercator/{z}/{tile.x}/{tile.y}.png")
        assert mosaic.status_code == 200
        assert np.array_equal(_png(mosaic.data), _png(own.data)), layer.name  # the images do not overlap
        assert (_png(own.data)[..., 3] == 255).sum() > 100
    assert layer_table()["450326-mosaic"] == ("450326", False)  # for the county's users only
