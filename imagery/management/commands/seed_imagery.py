from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError

from ...seed import imagery_seed


class Command(BaseCommand):
    help = "预生成影像瓦片 / Seed an imagery layer's CGCS2000 grid (or a county mosaic) over a region."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("layer", help="an imagery layer, or {county}-mosaic")
        parser.add_argument("--region", required=True, help="region code whose outline bounds the seeding")
        parser.add_argument("--from", dest="zoom_from", type=int, required=True, help="first level")
        parser.add_argument("--to", dest="zoom_to", type=int, required=True, help="last level")
        parser.add_argument("--grid", default="cgcs2000", choices=["cgcs2000", "webmercator"])

    def handle(self, *args: Any, **opts: Any) -> None:
        last = [-1]

        def progress(fraction: float) -> None:
            percent = int(fraction * 100)
            if percent >= last[0] + 5 or (percent == 100 and last[0] < 100):
                last[0] = percent
                self.stdout.write(f"预生成 seeding: {percent}%")

        try:
            imagery_seed(
                actor=None,
                layer=opts["layer"],
                region_code=opts["region"],
                zoom_from=opts["zoom_from"],
                zoom_to=opts["zoom_to"],
                grid=opts["grid"],
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(f"已完成 / done: {opts['layer']}"))
