from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from demo.load import demo_county_generate
from demo.users import demo_users_create
from spatial.models import Region


class Command(BaseCommand):
    help = "生成示范县 / Generate a realistic demo county (regions, issuers, households, parcels) and load it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default="450326", help="6-digit county code (default 450326 永福县)")
        parser.add_argument("--parcels", type=int, default=20000, help="number of parcels")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same county)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the county is already loaded")
        parser.add_argument("--no-users", action="store_true", help="do not create the demo logins")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["parcels"] < 100:
            raise CommandError("--parcels 至少 100 / at least 100")
        if opts["if_empty"] and Region.objects.filter(code=opts["county"]).exists():
            self.stdout.write(f"示范县 {opts['county']} 已加载 / demo county already loaded")
            if not opts["no_users"]:  # a demo login added since (farmer2, say) is made; the others are kept
                demo_users_create(county=Region.objects.get(code=opts["county"]))
            return
        try:
            result = demo_county_generate(
                county_code=opts["county"],
                n_parcels=opts["parcels"],
                seed=opts["seed"],
                progress=lambda msg: self.stdout.write(msg),
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        if not opts["no_users"]:
            demo_users_create(county=Region.objects.get(code=opts["county"]))
        rate = result.parcels / result.seconds if result.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"示范县 {result.county_code}: {result.townships} 乡镇, {result.villages} 村, {result.groups} 组, "
                f"{result.households} 户, {result.members} 人, {result.parcels} 地块; "
                f"{result.seconds:.1f}s ({rate:,.0f} parcels/s)"
            )
        )
