"""Fixtures of the survey tests."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from surveys.services import survey_task_create


@pytest.fixture
def farmer_parcel(demo, settings, tmp_path):
    """A parcel of the demo farmer's household with a neighbour held by another household."""
    settings.MEDIA_ROOT = tmp_path / "media"
    farmer = User.objects.get(username="farmer")
    household = farmer.offices.get().contractor_code
    with connection.cursor() as cur:
        cur.execute(
            "SELECT a.dkbm, b.dkbm FROM spatial_parcel a JOIN spatial_parcel b ON b.valid_to IS NULL "
            "AND b.dkbm <> a.dkbm AND ST_Intersects(a.geom, b.geom) "
            "JOIN contracts_contractparcel cpa ON cpa.dkbm = a.dkbm "
            "JOIN contracts_contract ca ON ca.id = cpa.contract_id "
            "AND ca.valid_to IS NULL JOIN contracts_contractor ha ON ha.id = ca.contractor_id "
            "JOIN contracts_contractparcel cpb ON cpb.dkbm = b.dkbm "
            "JOIN contracts_contract cb ON cb.id = cpb.contract_id "
            "AND cb.valid_to IS NULL JOIN contracts_contractor hb ON hb.id = cb.contractor_id "
            "WHERE a.valid_to IS NULL AND ha.cbfbm = %s AND hb.cbfbm <> %s ORDER BY a.dkbm, b.dkbm LIMIT 1",
            [household, household],
        )
        dkbm, neighbour = cur.fetchone()
    task = survey_task_create(
        actor=User.objects.get(username="county"),
        dkbms=[dkbm],
        reason="界线调整",
        company="示范测绘有限公司",
        assignee=User.objects.get(username="surveyor"),
        due_on=timezone.localdate() + timedelta(days=30),
    )
    return task, dkbm, neighbour, household


# The 100 real Dutch reference parcels moved into Yongfu's plane (publicity's fixture, shared).
from publicity.tests.conftest import dutch_fields  # noqa: E402, F401
