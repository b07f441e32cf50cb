"""Notices: the neighbouring collectives on real field parcels (answers computed here with shapely), posting
with the working-day period, objections that block completion, the scheduled close, and scoping."""

from datetime import date

import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry

from accounts.models import Notification, Role
from accounts.tests.factories import office_for
from audit.models import AuditEvent
from core.errors import PermissionDeniedError
from publicity.models import Notice, NoticeStatus, ObjectionStatus
from publicity.notices import (
    NoticeError,
    notice_complete,
    notice_create,
    notice_post,
    notices_close_ended,
    objection_answer,
    objection_file,
)
from publicity.selectors import neighbouring_issuers
from spatial.models import Parcel

from .conftest import GROUPS, VILLAGE, _Today


def _expected_neighbours(geoms, group_of, own: set[str]) -> set[str]:
    """By brute force in the plane: groups with a parcel within 0.5 m of one of the own groups' parcels."""
    out = set()
    for g, code in zip(geoms, group_of, strict=True):
        if code in own:
            continue
        if any(o.distance(g) < 0.5 for o, c in zip(geoms, group_of, strict=True) if c in own):
            out.add(code)
    return out


def test_neighbouring_collectives_on_real_field_parcels(dutch_fields):
    geoms, group_of = dutch_fields
    for own in ({GROUPS[0]}, {GROUPS[3]}, {GROUPS[0], GROUPS[1]}):
        got = {f for f, _name in neighbouring_issuers(sorted(own), 4546)}
        expected = _expected_neighbours(geoms, group_of, own)
        assert got == expected, own
        assert expected  # the quadrants touch: the check is not vacuous
    # the demo county's own groups, 20 km north, are not neighbours
    assert all(f.startswith(VILLAGE) for f, _ in neighbouring_issuers([GROUPS[0]], 4546))


def test_a_gap_of_more_than_half_a_metre_is_not_a_neighbour(dutch_fields):
    geoms, group_of = dutch_fields
    # Move group 04's parcels 0.6 m further east-north: only what was within 0.5 m before and still is counts.
    for p in Parcel.objects.filter(dkbm__startswith=GROUPS[3]):
        moved = GEOSGeometry(p.geom.wkt, srid=4490)
        moved.transform(4546)
        shifted = shapely.affinity.translate(shapely.from_wkt(moved.wkt), 0.6, 0.6)
        back = GEOSGeometry(shifted.wkt, srid=4546)
        back.transform(4490)
        Parcel.objects.filter(pk=p.pk).update(geom=back)
    shifted_geoms = [
        shapely.affinity.translate(g, 0.6, 0.6) if c == GROUPS[3] else g for g, c in zip(geoms, group_of, strict=True)
    ]
    got = {f for f, _ in neighbouring_issuers([GROUPS[3]], 4546)}
    assert got == _expected_neighbours(shifted_geoms, group_of, {GROUPS[3]})


def _contract_notice(officer, posted=date(2025, 9, 26)):
    parcels = list(Parcel.objects.filter(dkbm__startswith=GROUPS[0]).values_list("dkbm", flat=True)[:3])
    notice = notice_create(
        actor=officer, kind="contract", owner_code=GROUPS[0], title="荷兰01组承包合同公示", parcels=parcels
    )
    return notice


def test_posting_fixes_the_period_and_the_audience(people, dutch_fields, monkeypatch):
    officer, _neighbour, _ = people
    for code in GROUPS[1:]:
        office_for(role=Role.GROUP_ISSUER, region_code=code)
    notice = _contract_notice(officer)
    assert notice.status == NoticeStatus.DRAFT and notice.working_days == 10
    monkeypatch.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))
    notice = notice_post(actor=officer, notice=notice)
    assert notice.posted_on == date(2025, 9, 26) and notice.ends_on == date(2025, 10, 16)  # National Day
    audience = dict(notice.audience.values_list("fbfbm", "own"))
    geoms, group_of = dutch_fields
    assert audience == {GROUPS[0]: True} | dict.fromkeys(_expected_neighbours(geoms, group_of, {GROUPS[0]}), False)
    assert Notification.objects.filter(recipient=officer, title__startswith="新公示").exists()
    for fbfbm in set(audience) - {GROUPS[0]}:  # the neighbouring groups' officers are told
        assert Notification.objects.filter(recipient__offices__region__code=fbfbm, title__startswith="新公示").exists()
    assert AuditEvent.objects.filter(action="notice.posted", subject_id=str(notice.pk)).exists()


def test_too_short_a_period_or_a_subject_outside_is_refused(people):
    officer, _, _ = people
    before = Notice.objects.count()  # a browser test's server may have committed some
    with pytest.raises(NoticeError, match="至少 10 个工作日"):
        notice_create(
            actor=officer,
            kind="contract",
            owner_code=GROUPS[0],
            title="t",
            parcels=[f"{GROUPS[0]}00001"],
            working_days=5,
        )
    with pytest.raises(NoticeError, match="不在"):
        notice_create(actor=officer, kind="contract", owner_code=GROUPS[0], title="t", parcels=[f"{GROUPS[1]}00001"])
    with pytest.raises(PermissionDeniedError):
        notice_create(actor=officer, kind="contract", owner_code=GROUPS[1], title="t", parcels=[f"{GROUPS[1]}00001"])
    assert Notice.objects.count() == before


def test_an_objection_blocks_completion_until_answered(people, monkeypatch):
    officer, neighbour, stranger = people
    monkeypatch.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))
    notice = notice_post(actor=officer, notice=_contract_notice(officer))
    with pytest.raises(PermissionDeniedError):  # not in the audience
        objection_file(actor=stranger, notice=notice, reason="不是我们村的", today=date(2025, 9, 29))
    objection = objection_file(actor=neighbour, notice=notice, reason="东边界址不对", today=date(2025, 9, 29))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.OBJECTED
    assert Notification.objects.filter(recipient=officer, title__contains="异议").exists()  # the owner is told
    with pytest.raises(NoticeError, match="公示期到 2025-10-16"):
        notice_complete(actor=officer, notice=notice, today=date(2025, 10, 16))
    with pytest.raises(NoticeError, match="1 条异议未答复"):
        notice_complete(actor=officer, notice=notice, today=date(2025, 10, 17))
    assert notices_close_ended(today=date(2025, 10, 17)) == {"closed": 0, "waiting": 1}
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PERIOD_OVER
    with pytest.raises(NoticeError, match="公示期已于"):
        objection_file(actor=neighbour, notice=notice, reason="再提一次", today=date(2025, 10, 17))
    with pytest.raises(PermissionDeniedError):
        objection_answer(actor=neighbour, objection=objection, answer="我自己答")
    objection_answer(actor=officer, objection=objection, answer="已复核，界址无误，附测量记录")
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.ANSWERED and objection.answered_by == officer
    assert Notification.objects.filter(recipient=neighbour, title__contains="已答复").exists()
    assert notices_close_ended(today=date(2025, 10, 17)) == {"closed": 1, "waiting": 0}
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.CLOSED
    actions = set(
        AuditEvent.objects.filter(subject_id__in=[str(notice.pk), str(objection.pk)]).values_list("action", flat=True)
    )
    assert {
        "notice.created",
        "notice.posted",
        "notice.objection_filed",
        "notice.objection_answered",
        "notice.closed",
    } <= actions


def test_the_nightly_close_is_scheduled_with_a_registered_task():
    from config.celery import app

    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["publicity-close-ended"]
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {0} and entry["schedule"].minute == {30}


def test_notices_are_numbered_per_county_and_year(people):
    officer, _, _ = people
    first = _contract_notice(officer)
    second = _contract_notice(officer)
    year = date.today().year
    assert (first.code, second.code) == (f"GS450326{year}000001", f"GS450326{year}000002")
