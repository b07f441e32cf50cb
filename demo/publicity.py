"""Demo data for `make run`: a posted contract notice of the demo county, so that the notice pages, the map
and the printed notice have something to show. Here, in the app that may use every other (it picks a
contract from `contracts` and posts it through `publicity`).

Guangxi's 壮族三月三 of the current year may not be in the table (its notice was not found for 2026), and
without it no Yongfu period can be counted. The demo database alone then marks the year as covered with
no regional days, saying so in the year's source; a real installation enters the notice's days instead.
"""

from collections.abc import Callable
from datetime import date

from contracts.models import Contract
from publicity.models import CalendarYear, Notice
from publicity.notices import notice_create, notice_post

DEMO_SOURCE = (
    "演示数据：未核对本年壮族三月三通知，未录入其放假日（仅供演示）/ demo only: the regional days are not entered"
)


def demo_publicity_load(*, county_code: str, progress: Callable[[str], None] = print) -> Notice | None:
    today = date.today()
    for year in (today.year, today.year + 1):
        if year <= 2026 and not CalendarYear.objects.filter(year=year, region_prefix=county_code[:2]).exists():
            CalendarYear.objects.create(year=year, region_prefix=county_code[:2], source=DEMO_SOURCE)
            progress(f"节假日表：{year} 年区域 {county_code[:2]} 标为演示（未录入三月三）")
    existing = Notice.objects.filter(owner_code__startswith=county_code).first()
    if existing is not None:
        return existing
    village = f"{county_code}100200"  # 金源村, where the demo `village` login sits
    contract = (
        Contract.objects.filter(cbhtbm__startswith=village, valid_to__isnull=True)
        .select_related("contractor")
        .order_by("cbhtbm")
        .first()
    )
    if contract is None:
        return None
    from accounts.models import User

    officer = User.objects.get(username="village")
    parcels = list(contract.parcels.values_list("dkbm", flat=True))
    notice = notice_create(
        actor=officer,
        kind="contract",
        owner_code=village,
        title=f"{contract.contractor.name}户承包合同公示",
        body="根据《农村土地承包法》，现将以下承包合同及地块予以公示。",
        parcels=parcels,
        contracts=[contract.cbhtbm],
    )
    notice = notice_post(actor=officer, notice=notice)
    progress(f"示范公示 {notice.code}：{notice.posted_on} 至 {notice.ends_on}")
    return notice
