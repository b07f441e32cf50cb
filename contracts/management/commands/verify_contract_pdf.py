from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...pdfsign import verify_pdf


class Command(BaseCommand):
    help = "验证合同签名 / Verify a signed contract PDF: signers, signing times, validity (exit 1 unless valid)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the PDF")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件 / no such file: {path}")
        report = verify_pdf(path.read_bytes())
        if report.error:
            raise CommandError(report.error)
        for s in report.signatures:
            when = s.signed_at.isoformat() if s.signed_at else "—"
            verdict = "有效 valid" if s.ok else "无效 NOT valid"
            self.stdout.write(f"{s.field_name}: {s.signer} · {when} · {verdict}")
            for p in s.problems:
                self.stdout.write(f"  - {p}")
        if not report.ok:
            raise CommandError("文件不完整或签名无效 / the file is not intact and validly signed")
        self.stdout.write(self.style.SUCCESS("全部签名有效 / all signatures valid"))
