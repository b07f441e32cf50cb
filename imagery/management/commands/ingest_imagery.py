from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from spatial.models import Region

from ...ingest import imagery_ingest


class Command(BaseCommand):
    help = "导入影像 / Ingest a GeoTIFF orthophoto as a Cloud-Optimized GeoTIFF layer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the GeoTIFF")
        parser.add_argument("--county", help="6-digit county code, e.g. 450326; default: the only county loaded")
        parser.add_argument("--name", help="layer name (letters, digits, -); default: the file name")
        parser.add_argument("--title", help="title shown on the map")
        parser.add_argument("--date", help="acquisition date YYYY-MM-DD")
        parser.add_argument("--public", action="store_true", help="usable by public publicity pages")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            acquired = date.fromisoformat(opts["date"]) if opts["date"] else None
        except ValueError:
            raise CommandError(f"日期格式应为 YYYY-MM-DD / the date must be YYYY-MM-DD: {opts['date']}") from None
        county = opts["county"]
        if not county:
            counties = list(Region.objects.filter(level="county").values_list("code", flat=True))
            if len(counties) != 1:
                raise CommandError(
                    f"请用 --county 指定县级代码（库中有 {len(counties)} 个县）/ give --county "
                    f"({len(counties)} counties are loaded)"
                )
            county = counties[0]
        try:
            image = imagery_ingest(
                actor=None,
                path=Path(opts["file"]),
                county_code=county,
                name=opts["name"],
                title=opts["title"],
                acquired_on=acquired,
                public=opts["public"],
                progress=lambda msg: self.stdout.write(msg),
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(f"{image.name}: {image.source_crs}, {image.width}×{image.height}"))
