"""For trying the whole flow on the demo county without waiting: end the running notices as the night job
would once their periods are over (publicity.notices.notices_close_ended with a later day). A notice with
an unanswered objection still waits. Only on the demo database (it carries the demo calendar mark)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from demo.publicity import DEMO_SOURCE
from publicity.models import CalendarYear, Notice, NoticeStatus
from publicity.notices import notices_close_ended


class Command(BaseCommand):
    help = "演示：公示期视为已满，结束公示 / Demo only: end the running notices as if their periods were over."

    def handle(self, *args: Any, **opts: Any) -> None:
        if not CalendarYear.objects.filter(source=DEMO_SOURCE).exists():
            raise CommandError(
                "这不是演示数据库，不能提前结束公示 / not the demo database: notices end on their own day"
            )
        running = Notice.objects.filter(
            status__in=[NoticeStatus.POSTED, NoticeStatus.OBJECTED, NoticeStatus.PERIOD_OVER]
        )
        last = running.aggregate(last=Max("ends_on"))["last"]
        if last is None:
            self.stdout.write("没有公示中的公示 / no running notice")
            return
        done = notices_close_ended(today=last + timedelta(days=1))
        self.stdout.write(self.style.SUCCESS(f"已结束 closed {done['closed']}，待答复异议 waiting {done['waiting']}"))
