from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import chain_verify


class Command(BaseCommand):
    help = "核验审计日志哈希链 / Verify the audit log's hash chain; exits non-zero at the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = chain_verify()
        if broken:
            raise CommandError(
                f"审计链在事件 {broken.event_id} 处断开：{broken.reason}（此前 {checked} 条完好）/ "
                f"audit chain broken at event {broken.event_id} after {checked} intact events"
            )
        self.stdout.write(self.style.SUCCESS(f"审计链完好 / audit chain intact: {checked} events"))
