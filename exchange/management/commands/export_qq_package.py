from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError

from ...export import package_export


class Command(BaseCommand):
    help = "导出确权数据交换包 / Export a county as an NY/T 2539 exchange package."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="folder to write the package into")
        parser.add_argument("--county", required=True, help="6-digit county code, e.g. 450326")
        parser.add_argument("--year", type=int, help="year in the file names (default: this year)")

    def handle(self, *args: Any, **opts: Any) -> None:
        out = Path(opts["out"])
        out.mkdir(parents=True, exist_ok=True)
        try:
            result = package_export(
                actor=None,
                county_code=opts["county"],
                out_dir=out,
                year=opts["year"],
                progress=lambda msg: self.stdout.write(msg),
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(f"已导出 / exported: {result.folder}"))
