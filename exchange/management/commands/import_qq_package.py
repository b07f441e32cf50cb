import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...importer import package_check


class Command(BaseCommand):
    help = "导入确权数据交换包 / Import an NY/T 2539 package (for now: --dry-run, the quality report)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the package folder or a .zip of it")
        parser.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
        parser.add_argument("--report", help="write the quality report as JSON to this file")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["dry_run"]:
            raise CommandError(
                "写入登记库的导入尚未实现，请先用 --dry-run 检查数据包 / "
                "loading into the registry is not implemented yet; use --dry-run to check a package"
            )
        report = package_check(path=Path(opts["path"]), progress=lambda msg: self.stdout.write(msg))
        if opts["report"]:
            Path(opts["report"]).write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        if report.rejected:
            for r in report.reasons:
                self.stderr.write(f"拒绝 rejected: {r['message']} / {r['message_en']}")
            raise CommandError("数据包不能导入 / the package cannot be imported")
        self.stdout.write(
            self.style.SUCCESS(f"数据包可以导入 / the package can be imported: {report.parcels_read} 地块")
        )
