from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from demo.users import DEMO_FARMER_PHONE, DEMO_PASSWORD, demo_farmer_id_number, demo_logins


class Command(BaseCommand):
    help = "列出示范账号 / Print the demo logins, one per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(f"\n田界 Tianjie 已启动 / is running: {opts['url']}\n")
        self.stdout.write(f"示范账号 demo logins (密码 password: {DEMO_PASSWORD}):")
        for d in demo_logins():
            self.stdout.write(f"  {d.username:<10} {d.note:<20} {d.region.name}（{d.region.code}）")
        id_number = demo_farmer_id_number()
        if id_number:
            self.stdout.write(
                f"  农户手机登录 farmer phone login: {opts['url']}my/login/  手机 phone {DEMO_FARMER_PHONE}, "
                f"身份证 ID {id_number}（示范数据 demo data）"
                f"；验证码 the code: {Path(settings.DATA_DIR) / 'demo-phone.txt'}（示范手机 the demo's phone）"
            )
        self.stdout.write("\n停止 stop: make stop\n")
