"""The demo's shortcut through publicity periods: refused on a real database; on the demo one it ends the
running notices as the night job would, and what waits on them (a contract's application) moves on."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from contracts.models import Contract
from demo.publicity import DEMO_SOURCE
from publicity.models import CalendarYear, Notice
from publicity.notices import notice_create, notice_post
from publicity.tests.conftest import _Today


def test_it_is_refused_outside_the_demo_and_ends_the_running_notices_in_it(demo, monkeypatch):
    village = User.objects.get(username="village")
    monkeypatch.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))
    contract = Contract.objects.filter(cbhtbm__startswith="450326100200", valid_to__isnull=True).first().cbhtbm
    notice = notice_create(
        actor=village, kind="contract", owner_code=contract[:12], title="承包合同公示", contracts=[contract]
    )
    notice = notice_post(actor=village, notice=notice)
    with pytest.raises(CommandError, match="不是演示数据库"):
        call_command("demo_end_notices")
    assert Notice.objects.get(pk=notice.pk).status == "posted"
    CalendarYear.objects.create(year=2099, region_prefix="45", source=DEMO_SOURCE)
    call_command("demo_end_notices")
    assert Notice.objects.get(pk=notice.pk).status == "closed"
