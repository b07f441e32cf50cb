"""Demo imagery for `make run`: the sample Landsat scene (rasterio's RGB.byte.tif, CC0; see
imagery/tests/fixtures/SOURCES.md) moved over the demo county so that the map shows imagery under the
parcels. The pixels are kept; the georeferencing is new: the county's CGCS2000 Gauss-Kruger zone, centred
on its parcels, the pixel size (300 m in the sample) shrunk so that the scene just covers them (about
20 m for the 20,000-parcel demo county). The title says that it is not the place.
"""

import tempfile
from collections.abc import Callable
from pathlib import Path

import rasterio
from django.conf import settings
from django.db import connection
from rasterio.transform import from_origin

from imagery.ingest import ImageryError, imagery_ingest
from imagery.models import Imagery
from spatial.models import CountySettings

SAMPLE = Path(settings.BASE_DIR) / "imagery" / "tests" / "fixtures" / "RGB.byte.tif"
NAME = "demo-landsat"
TITLE = "演示影像（Landsat 样例像素移至本县，非本地实景）Demo: a sample Landsat scene moved here, not this place"


def demo_imagery_load(*, county_code: str, progress: Callable[[str], None] = print) -> Imagery:
    """Ingest the moved sample scene as the county's demo layer (once; later calls return it)."""
    existing = Imagery.objects.filter(name=NAME).first()
    if existing is not None:
        return existing
    srid = CountySettings.objects.get(region__code=county_code).measure_srid
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(ST_Transform(geom, %s)) e "
            "FROM spatial_parcel WHERE dkbm LIKE %s AND valid_to IS NULL) s",
            [srid, county_code + "%"],
        )
        x0, y0, x1, y1 = cur.fetchone()
    if x0 is None:
        raise ImageryError(f"县 {county_code} 还没有地块", f"county {county_code} has no parcels yet")
    with rasterio.open(SAMPLE) as src:
        pixels, profile = src.read(), src.profile
        width, height = src.width, src.height
    res = round(1.2 * max((x1 - x0) / width, (y1 - y0) / height), 2)  # the parcels and a margin
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    profile.update(crs=f"EPSG:{srid}", transform=from_origin(cx - width * res / 2, cy + height * res / 2, res, res))
    with tempfile.TemporaryDirectory() as tmp:
        moved = Path(tmp) / f"{NAME}.tif"
        with rasterio.open(moved, "w", **profile) as out:
            out.write(pixels)
        return imagery_ingest(
            actor=None, path=moved, county_code=county_code, name=NAME, title=TITLE, progress=progress
        )
