from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError

from ...calendar import add_working_days


class Command(BaseCommand):
    help = "公示期末日 / The last day of a period of N working days counted from the day after --from."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="posting date YYYY-MM-DD")
        parser.add_argument("--days", type=int, required=True, help="working days, e.g. 10")
        parser.add_argument("--region", default="", help="region code (e.g. 450326): its regional days count")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            start = date.fromisoformat(opts["start"])
        except ValueError:
            raise CommandError(f"日期格式应为 YYYY-MM-DD / the date must be YYYY-MM-DD: {opts['start']}") from None
        try:
            last = add_working_days(start, opts["days"], opts["region"])
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(last.isoformat())
