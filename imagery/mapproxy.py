"""MapProxy for the imagery: its tile caches, its configuration from the database, its WSGI app.

MapProxy has no GeoTIFF source (STACK.md), so each ingested COG is rendered by GDAL into an MBTiles
tile cache (`gdal_translate -of MBTILES`, PNG tiles keep the mask's transparency; `gdaladdo` down to the
zoom where the image fits one tile), and MapProxy serves that cache on the Web Mercator grid: XYZ as
WMTS REST (`/wmts/{layer}/webmercator/{z}/{x}/{y}.png`), TMS, WMTS KVP and WMS. The configuration file
is written from the `Imagery` rows after each ingest; the app reloads it when it changes (MapProxy's
reloader), so no restart is needed. Each layer is also on a CGCS2000 (EPSG:4490) grid like Tianditu's,
reprojected by MapProxy from the Web Mercator tiles and cached on disk; WMS 1.3.0 in EPSG:4490 takes
latitude first.

Mounted at /imagery/ behind the access check (imagery.access, imagery.views, config/wsgi.py). Seeding:
imagery.seed (run by imagery.jobs as a Celery task from the imagery page).
"""

import functools
import math
import os
import shutil
import sqlite3
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import morecantile
import rasterio
import yaml
from django.conf import settings
from django.db.models import F

from .access import write_layer_table
from .models import Imagery

TILE_PX = 256
MIN_ZOOM = 8  # the lowest zoom with imagery tiles: a prefecture on one screen
UPSCALE_LEVELS = 10  # zooms beyond an image's native zoom that MapProxy enlarges (a 30 m scene on a 1:1000 print)
TMS = morecantile.tms.get("WebMercatorQuad")
WEBMERCATOR_HALF = 20037508.342789244


def imagery_root() -> Path:
    return Path(settings.IMAGERY_ROOT)


def config_path() -> Path:
    return imagery_root() / "mapproxy.yaml"


def native_zoom(cog: Path) -> int:
    """The Web Mercator zoom of a web-optimised COG's full resolution (read once per file and version)."""
    return _native_zoom(str(cog), cog.stat().st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _native_zoom(cog: str, _mtime_ns: int) -> int:
    with rasterio.open(cog) as src:
        res = abs(src.res[0])
    return max(0, round(math.log2(2 * WEBMERCATOR_HALF / TILE_PX / res)))


def _gdal(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise FileNotFoundError(f"{tool} (Debian package gdal-bin) is not installed")
    return path


def build_mbtiles(cog: Path, target: Path) -> None:
    """The COG's tiles at its native zoom and every zoom down to one tile, as MBTiles (PNG)."""
    partial = target.with_name(target.stem + ".partial.mbtiles")  # GDAL knows MBTiles by the extension
    partial.unlink(missing_ok=True)
    with rasterio.open(cog) as src:  # halvings until the image fits one tile (GDAL refuses smaller)
        levels = max(0, math.ceil(math.log2(max(src.width, src.height) / TILE_PX)))
        # The COG's mask becomes the tiles' alpha: GDAL's MBTiles writer ignores a mask band on its own, and
        # an orthophoto's no-data collar would show as black. A 4th band is already alpha.
        bands = [] if src.count == 4 else [a for b in [*range(1, src.count + 1), "mask"] for a in ("-b", str(b))]
    subprocess.run(  # noqa: S603 - fixed arguments, our own paths
        [_gdal("gdal_translate"), "-q", "-of", "MBTILES", "-co", "TILE_FORMAT=PNG", *bands, str(cog), str(partial)],
        check=True,
        capture_output=True,
    )
    if levels:
        factors = [str(2**i) for i in range(1, levels + 1)]
        subprocess.run(  # noqa: S603
            [_gdal("gdaladdo"), "-q", "-r", "average", str(partial), *factors], check=True, capture_output=True
        )
    _low_zooms(cog, partial)
    os.replace(partial, target)


def _low_zooms(cog: Path, mbtiles: Path) -> None:
    """Tiles from the zoom where the image fits one tile down to MIN_ZOOM, rendered with rio-tiler from the
    COG's overviews (GDAL's MBTiles driver makes no overview smaller than a tile, so a county-wide view
    would show nothing). A handful of tiles per level: the image covers one to four of them."""
    from rasterio.crs import CRS
    from rio_tiler.io import Reader

    with sqlite3.connect(mbtiles) as con:
        lowest = con.execute("SELECT min(zoom_level) FROM tiles").fetchone()[0]
        if lowest is None:
            return
        with Reader(str(cog)) as reader:
            bounds = reader.get_geographic_bounds(CRS.from_epsg(4326))
            for z in range(lowest - 1, MIN_ZOOM - 1, -1):
                for t in TMS.tiles(bounds[0], bounds[1], bounds[2], bounds[3], zooms=[z]):
                    png = reader.tile(t.x, t.y, t.z, tilesize=TILE_PX).render(img_format="PNG")
                    con.execute(
                        "INSERT OR REPLACE INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?,?,?,?)",
                        (z, t.x, 2**z - 1 - t.y, png),  # MBTiles rows count from the south
                    )
        con.execute("UPDATE metadata SET value = ? WHERE name = 'minzoom'", [str(min(MIN_ZOOM, lowest))])


def mosaics() -> dict[str, list[str]]:
    """County code → its layers, oldest first (MapProxy draws later sources over earlier ones)."""
    out: dict[str, list[str]] = defaultdict(list)
    images = Imagery.objects.select_related("county").order_by(F("acquired_on").asc(nulls_first=True), "name")
    for image in images:
        out[image.county.code].append(image.name)
    return dict(out)


def config() -> dict[str, Any]:
    layers, caches = [], {}
    for image in Imagery.objects.order_by("name"):
        cache, geodetic = f"{image.name}_cache", f"{image.name}_4490"
        layers.append({"name": image.name, "title": image.title, "sources": [cache], "tile_sources": [cache, geodetic]})
        caches[cache] = {
            "grids": ["webmercator"],
            "sources": [],
            "format": "image/png",
            "cache": {"type": "mbtiles", "filename": str(imagery_root() / f"{image.name}.mbtiles")},
            # Beyond the native zoom, tiles are enlarged from the deepest tiles there are (not stored):
            # WMS/WMTS clients and the printed maps zoom further than the image's resolution.
            "upscale_tiles": UPSCALE_LEVELS,
            "cache_rescaled_tiles": False,
        }
        caches[geodetic] = {  # reprojected by MapProxy from the Web Mercator tiles, cached on disk
            "grids": ["cgcs2000"],
            "sources": [cache],
            "format": "image/png",
            "cache": {"type": "file", "directory_layout": "tms"},
        }
    # One mosaic layer per county: its images, the newest drawn over the older ones.
    for county, names in mosaics().items():
        mosaic = f"{county}-mosaic"
        caches[f"{mosaic}_cache"] = {
            "grids": ["webmercator", "cgcs2000"],
            "sources": [f"{n}_cache" for n in names],
            "format": "image/png",
            "cache": {"type": "file", "directory_layout": "tms"},
        }
        layers.append({"name": mosaic, "title": f"{county} 影像镶嵌 mosaic", "sources": [f"{mosaic}_cache"]})
    return {
        "services": {
            "tms": {"use_grid_names": True},  # TMS rows count from the south; XYZ clients use WMTS REST below
            "wmts": {"restful": True, "kvp": True},
            "wms": {
                "srs": ["EPSG:3857", "EPSG:4490", "EPSG:4326"],
                "versions": ["1.1.1", "1.3.0"],
                "md": {"title": "田界 Tianjie imagery"},
            },
        },
        "layers": layers or [{"name": "none", "title": "(no imagery yet)", "sources": []}],
        "caches": caches,
        "grids": {
            "webmercator": {"base": "GLOBAL_WEBMERCATOR", "origin": "sw", "num_levels": 22},  # to zoom 21
            # CGCS2000 geographic like Tianditu's "c" tiles: level 0 is 2 x 1 tiles of 0.703125 deg/px
            # (Tianditu's level 1), each next level halves the resolution; rows from the north.
            "cgcs2000": {
                "srs": "EPSG:4490",
                "bbox": [-180, -90, 180, 90],
                "bbox_srs": "EPSG:4490",
                "origin": "nw",
                "min_res": 0.703125,
                "num_levels": 20,
                "tile_size": [TILE_PX, TILE_PX],
            },
        },
        "globals": {
            "srs": {"axis_order_ne": ["EPSG:4490", "EPSG:4326"]},  # WMS 1.3.0: latitude first
            "cache": {"base_dir": str(imagery_root() / "cache"), "lock_dir": str(imagery_root() / "locks")},
            "image": {"formats": {"image/png": {"transparent": True}}},
        },
    }


def write_config() -> Path:
    """Write the configuration atomically (the reloader sees a complete file or the old one), and the
    table of layers the access check reads."""
    rows = Imagery.objects.values_list("name", "county__code", "public")
    table = {name: (county, public) for name, county, public in rows}
    table |= {f"{county}-mosaic": (county, False) for county in mosaics()}
    write_layer_table(table)
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(yaml.safe_dump(config(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(partial, path)
    return path


def mosaic_cache_clear(county: str) -> None:
    """Drop a county mosaic's cached tiles (both grids): they were drawn from the images it had then."""
    for folder in (imagery_root() / "cache").glob(f"{county}-mosaic_cache_*"):
        shutil.rmtree(folder, ignore_errors=True)


def imagery_changed(county: str) -> None:
    """After an image of `county` is added: the new configuration, and a mosaic redrawn with it."""
    write_config()
    mosaic_cache_clear(county)


_app: Any = None


def mapproxy_app() -> Any:
    """MapProxy's WSGI app for this process (created on first use; it reloads its configuration itself)."""
    global _app
    path = config_path()
    if _app is None or getattr(_app, "_tianjie_config", None) != str(path):  # once per process: not per tile
        from mapproxy.wsgiapp import make_wsgi_app

        if not path.exists():
            write_config()
        _app = make_wsgi_app(str(path), reloader=True)
        _app._tianjie_config = str(path)  # a test may point IMAGERY_ROOT elsewhere
    return _app
