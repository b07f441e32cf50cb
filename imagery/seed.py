"""Seeding MapProxy's derived caches (the CGCS2000 grid, the county mosaics) for a region and zoom range,
with MapProxy's own seeder, so that the first user of a village's map does not wait for reprojection.

The Web Mercator tiles of each image are complete from the ingest (MBTiles); what MapProxy computes on
demand, and what is worth seeding, is the `cgcs2000` grid of a layer and both grids of a mosaic.
A service and a command with progress; imagery.jobs runs it as a Celery task behind the imagery page.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from audit import services as audit
from core.errors import DomainError
from core.ports import ensure
from spatial.models import Region

from .mapproxy import config_path, write_config
from .models import Imagery


class SeedError(DomainError):
    default_code = "seed_invalid"


def _cache_for(layer: str, grid: str) -> tuple[str, str]:
    """The cache to seed for a layer on a grid, and the county the layer belongs to."""
    if layer.endswith("-mosaic"):
        county = layer.removesuffix("-mosaic")
        if not Imagery.objects.filter(county__code=county).exists():
            raise SeedError(f"县 {county} 没有影像", f"county {county} has no imagery")
        return f"{layer}_cache", county
    image = Imagery.objects.select_related("county").filter(name=layer).first()
    if image is None:
        raise SeedError(f"没有名为 {layer} 的影像图层", f"there is no imagery layer named {layer}")
    if grid != "cgcs2000":
        raise SeedError(
            "单幅影像的 Web 墨卡托瓦片在导入时已全部生成，只需预生成 cgcs2000 格网",
            "an image's Web Mercator tiles are complete from the ingest: seed its cgcs2000 grid",
        )
    return f"{layer}_4490", image.county.code


@dataclass(frozen=True)
class SeedPlan:
    cache: str
    grid: str
    county: str
    bbox: tuple[float, float, float, float]  # the region's box, EPSG:4490 lon/lat


def seed_plan(*, layer: str, region_code: str, zoom_from: int, zoom_to: int, grid: str = "cgcs2000") -> SeedPlan:
    """Check a seeding request (a typed error when it cannot run) and say what it will fill."""
    if grid not in ("cgcs2000", "webmercator"):
        raise SeedError(f"未知格网 {grid}", f"unknown grid {grid}")
    if not 0 <= zoom_from <= zoom_to <= 20:
        raise SeedError("级别范围应在 0–20 之间且起始不大于结束", "levels must lie in 0–20, from ≤ to")
    cache, county = _cache_for(layer, grid)
    region = Region.objects.filter(code=region_code).first()
    if region is None or region.outline is None or not region_code.startswith(county):
        raise SeedError(
            f"区域 {region_code} 不存在、没有界线或不在该影像的县内",
            f"region {region_code} does not exist, has no outline or is outside the layer's county",
        )
    return SeedPlan(cache, grid, county, region.outline.extent)


def imagery_seed(
    *,
    actor: Any,
    layer: str,
    region_code: str,
    zoom_from: int,
    zoom_to: int,
    grid: str = "cgcs2000",
    progress: Callable[[float], None] = lambda fraction: None,
) -> None:
    """Seed `layer` on `grid` over the bounding box of the region's outline, levels zoom_from..zoom_to."""
    from mapproxy.config.loader import load_configuration
    from mapproxy.seed.config import load_seed_tasks_conf
    from mapproxy.seed.seeder import seed
    from mapproxy.seed.util import ProgressLog

    plan = seed_plan(layer=layer, region_code=region_code, zoom_from=zoom_from, zoom_to=zoom_to, grid=grid)
    ensure(actor, "imagery.ingest", region_code)
    if not config_path().exists():
        write_config()

    class Progress(ProgressLog):  # MapProxy's logger, reporting to the caller instead of a terminal
        def log_step(self, p: Any) -> None:
            progress(float(p.progress))

        def log_progress(self, p: Any, level: Any, bbox: Any, tiles: Any) -> None:
            progress(float(p.progress))

    x0, y0, x1, y1 = plan.bbox
    seeds = {
        "seeds": {
            "job": {
                "caches": [plan.cache],
                "grids": [grid],
                "coverages": ["region"],
                "levels": {"from": zoom_from, "to": zoom_to},
            }
        },
        "coverages": {"region": {"bbox": [x0, y0, x1, y1], "srs": "EPSG:4490"}},
    }
    with tempfile.TemporaryDirectory() as tmp:
        seed_file = Path(tmp) / "seed.yaml"
        seed_file.write_text(yaml.safe_dump(seeds), encoding="utf-8")
        conf = load_configuration(str(config_path()), seed=True)
        tasks = load_seed_tasks_conf(str(seed_file), conf).seeds(["job"])
        seed(tasks, concurrency=1, progress_logger=Progress(silent=True))
    progress(1.0)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="imagery.seeded",
            subject=("tiles.imagery", layer),
            region_code=region_code,
            data={"layer": layer, "grid": grid, "levels": [zoom_from, zoom_to]},
        )
