from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...demo.users import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "列出示范账号 / Print the demo logins, one per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(f"\n田界 Tianjie 已启动 / is running: {opts['url']}\n")
        self.stdout.write(f"示范账号 demo logins (密码 password: {DEMO_PASSWORD}):")
        for d in demo_logins():
            self.stdout.write(f"  {d.username:<10} {d.note:<20} {d.region.name}（{d.region.code}）")
        self.stdout.write("\n停止 stop: make stop\n")
