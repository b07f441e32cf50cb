import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError

from ...importer import package_check, package_import


class Command(BaseCommand):
    help = "导入确权数据交换包 / Import an NY/T 2539 package: regions, issuers, parcels, boundaries and tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the package folder or a .zip of it")
        parser.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
        parser.add_argument("--report", help="write the quality report as JSON to this file")

    def handle(self, *args: Any, **opts: Any) -> None:
        progress = lambda msg: self.stdout.write(msg)  # noqa: E731
        try:
            if opts["dry_run"]:
                report = package_check(path=Path(opts["path"]), progress=progress)
            else:
                report = package_import(actor=None, path=Path(opts["path"]), progress=progress)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        if opts["report"]:
            Path(opts["report"]).write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        if report.rejected:
            for r in report.reasons:
                self.stderr.write(f"拒绝 rejected: {r['message']} / {r['message_en']}")
            raise CommandError("数据包不能导入 / the package cannot be imported")
        if opts["dry_run"]:
            message = f"数据包可以导入 / the package can be imported: {report.parcels_read} 地块"
        else:
            message = f"已导入 / imported: {report.parcels_imported} 个地块新增或变更 (new or changed parcels)"
        self.stdout.write(self.style.SUCCESS(message))
