"""`make run`'s demo imagery: the sample scene lies under the demo county's parcels, with its pixels unchanged."""

import rasterio
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon

from demo.imagery import NAME, SAMPLE, demo_imagery_load
from imagery.mapproxy import imagery_root
from spatial.models import Parcel


def test_the_demo_scene_covers_the_parcels_and_keeps_its_pixels(demo, settings, tmp_path):
    settings.IMAGERY_ROOT = tmp_path / "imagery"
    image = demo_imagery_load(county_code=demo.county, progress=lambda m: None)
    assert demo_imagery_load(county_code=demo.county, progress=lambda m: None).pk == image.pk  # once
    parcels = Parcel.objects.filter(dkbm__startswith=demo.county).aggregate(e=Extent("geom"))["e"]
    assert image.footprint.contains(Polygon.from_bbox(parcels))
    assert image.source_crs == "EPSG:4546" and image.source_resolution_m < 30  # shrunk from the sample's 300 m
    assert "非本地实景" in image.title  # says it is not this place
    with rasterio.open(SAMPLE) as src, rasterio.open(imagery_root() / image.cog_path) as cog:
        assert cog.crs.to_epsg() == 3857 and cog.count == 3
        # the scene's histogram survives the move (resampled into Web Mercator, so compared loosely)
        mean_src = src.read().astype(float)[src.read_masks() > 0].mean()
        mean_cog = cog.read().astype(float)[cog.read_masks() > 0].mean()
        assert abs(mean_src - mean_cog) < 2
    assert image.name == NAME
