from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from demo.imagery import demo_imagery_load


class Command(BaseCommand):
    help = "示范影像 / Put the sample Landsat scene under the demo county's parcels (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default="450326", help="6-digit county code of the demo county")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            image = demo_imagery_load(county_code=opts["county"], progress=lambda msg: self.stdout.write(msg))
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(f"示范影像 demo imagery: {image.name}"))
