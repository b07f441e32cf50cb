"""Imagery ingest: a GeoTIFF checked with rasterio and written as a web-optimised Cloud-Optimized GeoTIFF
(rio-cogeo) in EPSG:3857, aligned to the Web Mercator tile grid, with overviews and a mask (outside the
image is transparent). The footprint, resolution, date and source CRS are recorded; one audit event.

Allowed source CRSs: CGCS2000 (EPSG:4490) and its 3° Gauss-Kruger zones (4513–4554), WGS 84 (4326),
Web Mercator (3857) and the WGS 84 UTM zones (32601–32660, 32701–32760). Anything else, a file without a
CRS, or one rasterio cannot read, is refused before anything is written.
"""

import math
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import morecantile
import rasterio
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import transaction
from django.utils.text import slugify
from rasterio.errors import RasterioError
from rasterio.warp import transform_geom
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles

from audit import services as audit
from core.effects import after_commit
from core.errors import DomainError
from core.ports import ensure
from spatial.measure import STORAGE_SRID
from spatial.models import Region

from .mapproxy import build_mbtiles, imagery_changed, imagery_root
from .models import Imagery

ALLOWED_EPSG = {4490, 4326, 3857, *range(4513, 4555), *range(32601, 32661), *range(32701, 32761)}
ALLOWED_DTYPES = {"uint8"}
ALLOWED_BANDS = {1, 3, 4}
MAX_PIXELS = 200_000 * 200_000  # a county at 0.2 m is about 50,000 × 50,000
MAX_BYTES = 100 * 1024**3
Progress = Callable[[str], None]


class ImageryError(DomainError):
    default_code = "imagery_invalid"


@dataclass
class SourceInfo:
    epsg: int
    bands: int
    width: int
    height: int
    resolution_m: float
    footprint: shapely.Geometry  # EPSG:4490


def inspect_source(path: Path) -> SourceInfo:
    """Open and check a GeoTIFF; a typed error with the reason when it cannot be ingested."""
    if not path.is_file():
        raise ImageryError(f"找不到文件 {path.name}", f"{path.name} does not exist")
    if path.stat().st_size > MAX_BYTES:
        raise ImageryError(f"{path.name} 超过 100 GB 上限", f"{path.name} is larger than 100 GB")
    try:
        with rasterio.open(path) as src:
            if src.driver != "GTiff":
                raise ImageryError(f"{path.name} 不是 GeoTIFF（{src.driver}）", f"{path.name} is not a GeoTIFF")
            if src.crs is None:
                raise ImageryError(
                    f"{path.name} 没有坐标系，无法确定位置", f"{path.name} has no coordinate reference system"
                )
            epsg = src.crs.to_epsg()
            if epsg not in ALLOWED_EPSG:
                raise ImageryError(
                    f"{path.name} 的坐标系不在允许范围（识别为 EPSG:{epsg}）：须为 CGCS2000、其 3 度带、WGS 84、"
                    "Web 墨卡托或 UTM",
                    f"{path.name} is in a CRS outside the list (read as EPSG:{epsg}): CGCS2000 and its 3° zones, "
                    "WGS 84, Web Mercator or UTM",
                )
            if src.count not in ALLOWED_BANDS or src.dtypes[0] not in ALLOWED_DTYPES:
                raise ImageryError(
                    f"{path.name} 有 {src.count} 个 {src.dtypes[0]} 波段：须为 1、3 或 4 个 8 位波段",
                    f"{path.name} has {src.count} {src.dtypes[0]} bands: 1, 3 or 4 bands of 8 bits are needed",
                )
            if src.width * src.height > MAX_PIXELS:
                raise ImageryError(f"{path.name} 像素过多", f"{path.name} has too many pixels")
            if src.crs.is_geographic:
                lat = (src.bounds.bottom + src.bounds.top) / 2
                res = abs(src.res[0]) * 111_320 * math.cos(math.radians(lat))
            else:
                res = abs(src.res[0])
            outline = shapely.box(*src.bounds)
            outline = shapely.segmentize(outline, max(src.bounds.right - src.bounds.left, 1e-9) / 64)
            footprint = shapely.geometry.shape(
                transform_geom(src.crs, f"EPSG:{STORAGE_SRID}", outline.__geo_interface__)
            )
            src.read(1, window=((0, 1), (0, min(src.width, 256))))  # the first strip or tile really decodes
            return SourceInfo(epsg, src.count, src.width, src.height, res, footprint)
    except RasterioError as exc:
        raise ImageryError(
            f"{path.name} 不是可读的 GeoTIFF（文件损坏或格式不对）：{exc}",
            f"{path.name} is not a readable GeoTIFF (damaged or another format): {exc}",
        ) from None


def _cog(path: Path, target: Path, bands: int) -> None:
    profile = dict(cog_profiles["deflate"])  # lossless: tiles show what the survey delivered
    cog_translate(
        str(path),
        str(target),
        profile,
        add_mask=bands != 4,  # a 4th band is taken as alpha; otherwise a mask makes the outside transparent
        tms=morecantile.tms.get("WebMercatorQuad"),  # web-optimised: aligned to the XYZ tile grid
        overview_resampling="average",
        resampling="bilinear",
        quiet=True,
        in_memory=False,
    )
    valid, errors, _warnings = cog_validate(str(target), quiet=True)
    if not valid:
        raise ImageryError(f"生成的 COG 无效：{errors}", f"the COG written is not valid: {errors}")


def imagery_ingest(
    *,
    actor: Any,
    path: Path,
    county_code: str,
    name: str | None = None,
    title: str | None = None,
    acquired_on: date | None = None,
    public: bool = False,
    progress: Progress = print,
) -> Imagery:
    """Check, convert and register one image. Nothing is kept when a step fails."""
    ensure(actor, "imagery.ingest", county_code)
    county = Region.objects.filter(code=county_code, level="county").first()
    if county is None:
        raise ImageryError(f"县 {county_code} 不存在", f"county {county_code} does not exist")
    slug = slugify(name or path.stem) or "imagery"
    if Imagery.objects.filter(name=slug).exists():
        raise ImageryError(f"影像图层名 {slug} 已存在", f"an imagery layer named {slug} already exists")
    info = inspect_source(path)
    progress(f"检查通过 / checked: EPSG:{info.epsg}，{info.bands} 波段，{info.width}×{info.height}")
    root = imagery_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{slug}.tif"
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        partial = Path(tmp) / target.name
        tiles = Path(tmp) / f"{slug}.mbtiles"
        progress("转换为 COG（EPSG:3857，含金字塔）/ writing the COG")
        try:
            _cog(path, partial, info.bands)
            progress("生成瓦片缓存 / writing the tile cache (MBTiles)")
            build_mbtiles(partial, tiles)
        except RasterioError as exc:
            raise ImageryError(f"转换失败：{exc}", f"conversion failed: {exc}") from None
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode("utf-8", "replace").strip()[:300] or str(exc)
            raise ImageryError(f"生成瓦片失败：{detail}", f"writing the tiles failed: {detail}") from None
        with transaction.atomic():
            footprint = GEOSGeometry(memoryview(shapely.to_wkb(info.footprint)), srid=STORAGE_SRID)
            if not isinstance(footprint, MultiPolygon):
                footprint = MultiPolygon(footprint, srid=STORAGE_SRID)
            image = Imagery.objects.create(
                name=slug,
                title=title or path.stem,
                county=county,
                acquired_on=acquired_on,
                source_file=path.name,
                source_crs=f"EPSG:{info.epsg}",
                source_resolution_m=round(info.resolution_m, 3),
                bands=info.bands,
                width=info.width,
                height=info.height,
                cog_path=target.name,
                footprint=footprint,
                public=public,
                created_by=actor,
            )
            audit.record(
                actor=actor,
                action="imagery.ingested",
                subject=image,
                region_code=county_code,
                data={"name": slug, "source": path.name, "crs": image.source_crs, "size": [info.width, info.height]},
            )
            shutil.move(partial, target)  # last: a failure above leaves no file behind
            shutil.move(tiles, root / tiles.name)
            # MapProxy reloads its configuration when the file changes; the county mosaic is redrawn
            after_commit(imagery_changed, county_code)
    progress(f"已导入影像 / ingested: {slug}")
    return image
