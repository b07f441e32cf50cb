"""Write the queued filings not yet exported into the natural resources bureau's folder (what Celery beat
runs every 15 minutes), and print the folders written."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from nrb.services import export_folder, filings_export_folder


class Command(BaseCommand):
    help = "把尚未导出的备案合同写入自然资源局交换目录 / export queued filings to the bureau's folder"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", type=Path, default=None, help="默认 TIANJIE_NRB_EXPORT_DIR")

    def handle(self, *args: Any, folder: Path | None = None, **options: Any) -> None:
        written = filings_export_folder(folder=folder)
        for path in written:
            self.stdout.write(str(path))
        where = folder or export_folder()
        self.stdout.write(f"导出 {len(written)} 份备案 / exported {len(written)} filings to {where}")
