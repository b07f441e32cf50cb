from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spatial.errors import DomainError

from ...ingest import imagery_ingest


class Command(BaseCommand):
    help = "导入影像 / Ingest a GeoTIFF orthophoto as a Cloud-Optimized GeoTIFF layer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the GeoTIFF")
        parser.add_argument("--county", required=True, help="6-digit county code, e.g. 450326")
        parser.add_argument("--name", help="layer name (letters, digits, -); default: the file name")
        parser.add_argument("--title", help="title shown on the map")
        parser.add_argument("--date", help="acquisition date YYYY-MM-DD")
        parser.add_argument("--public", action="store_true", help="usable by public publicity pages")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            acquired = date.fromisoformat(opts["date"]) if opts["date"] else None
        except ValueError:
            raise CommandError(f"日期格式应为 YYYY-MM-DD / the date must be YYYY-MM-DD: {opts['date']}") from None
        try:
            image = imagery_ingest(
                actor=None,
                path=Path(opts["file"]),
                county_code=opts["county"],
                name=opts["name"],
                title=opts["title"],
                acquired_on=acquired,
                public=opts["public"],
                progress=lambda msg: self.stdout.write(msg),
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(f"{image.name}: {image.source_crs}, {image.width}×{image.height}"))
