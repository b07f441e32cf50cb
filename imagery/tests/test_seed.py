"""Seeding the CGCS2000 grid of a layer over a region, with MapProxy's seeder."""

from pathlib import Path

import pytest

from accounts.models import User
from audit.models import AuditEvent
from core.errors import PermissionDeniedError
from imagery.seed import SeedError, imagery_seed


def _span(z: int) -> float:
    return 256 * 0.703125 / 2**z


def test_seeding_writes_the_tiles_of_the_region_and_reports_progress(aerial, settings):
    seen: list[float] = []
    imagery_seed(actor=None, layer="aerial", region_code="450326100299", zoom_from=13, zoom_to=15, progress=seen.append)
    assert seen and seen[-1] == 1.0
    x0, y0, x1, y1 = aerial.footprint.extent
    expected = {  # the grid's tiles meeting the region's box, from the grid's definition (rows from the north)
        (z, x, y)
        for z in range(13, 16)
        for x in range(int((x0 + 180) // _span(z)), int((x1 + 180) // _span(z)) + 1)
        for y in range(int((90 - y1) // _span(z)), int((90 - y0) // _span(z)) + 1)
    }
    cache = Path(settings.IMAGERY_ROOT) / "cache" / "aerial_4490_EPSG4490"
    written = {tuple(int(p) for p in f.with_suffix("").relative_to(cache).parts) for f in cache.rglob("*.png")}
    assert expected <= written  # MapProxy renders whole 4 x 4 metatiles: their neighbours come too
    assert {z for z, _, _ in written} == {13, 14, 15}
    assert AuditEvent.objects.filter(action="imagery.seeded", subject_id="aerial").exists()


def test_seeding_is_for_the_county_bureau_and_checks_its_input(aerial):
    with pytest.raises(PermissionDeniedError):
        imagery_seed(
            actor=User.objects.get(username="township"),
            layer="aerial",
            region_code="450326100299",
            zoom_from=13,
            zoom_to=13,
        )
    with pytest.raises(SeedError, match="已全部生成"):
        imagery_seed(
            actor=None, layer="aerial", region_code="450326100299", zoom_from=13, zoom_to=13, grid="webmercator"
        )
    with pytest.raises(SeedError, match="级别范围"):
        imagery_seed(actor=None, layer="aerial", region_code="450326100299", zoom_from=15, zoom_to=13)
