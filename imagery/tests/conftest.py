"""Fixtures of the imagery tests."""

from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from imagery.ingest import imagery_ingest
from spatial import services as spatial_services
from spatial.models import Region

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def aerial(demo, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.IMAGERY_ROOT = tmp_path / "imagery"
    with django_capture_on_commit_callbacks(execute=True):
        image = imagery_ingest(
            actor=None, path=FIXTURES / "cogeo.tif", county_code="450326", name="aerial", progress=lambda m: None
        )
    # A village of the demo county drawn around the sample image (which lies in Korea), to seed over.
    outline = MultiPolygon(Polygon.from_bbox(image.footprint.extent), srid=4490)
    spatial_services.region_create(
        actor=None,
        code="450326100299",
        name="影像村",
        level="village",
        parent=Region.objects.get(code="450326100"),
        outline=outline,
    )
    return image
