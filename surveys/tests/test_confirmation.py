"""Submitting a checked result: boundary points numbered clockwise from the north-west, shared points
once, lines along each neighbour with its right holder; then 指界 by the households (one-time code) or for
them by the village officer (reason and signed form), a dispute returning the task to the surveyor."""

import io

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from accounts.identity import IdentityError, otp_issue
from accounts.models import Notification, User
from audit.models import AuditEvent
from core.errors import PermissionDeniedError
from surveys.models import LineConfirmation, ProposedLine, SurveyTask
from surveys.services import (
    SurveyError,
    boundary_confirm,
    boundary_confirm_collective,
    boundary_confirm_for,
    confirm_purpose,
    survey_submit,
)
from surveys.tests.test_uploads import _geojson, _plane, _upload


def _holder(dkbm: str) -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.cbfbm FROM contracts_contractparcel cp JOIN contracts_contract ct ON ct.id = cp.contract_id "
            "JOIN contracts_contractor c ON c.id = ct.contractor_id WHERE cp.dkbm = %s AND ct.valid_to IS NULL",
            [dkbm],
        )
        return cur.fetchone()[0]


def _collective_answers(task: SurveyTask, dkbm: str, decision: str = "confirmed") -> None:
    """The group's officer answers for the lines along roads and collective land."""
    rows = LineConfirmation.objects.filter(line__upload=task.submitted, party="collective")
    if rows.exists():
        boundary_confirm_collective(
            actor=User.objects.get(username="village"),
            task=task,
            fbfbm=dkbm[:14],
            decisions={c.line_id: (decision, "") for c in rows},
        )


def _submitted(task: SurveyTask, polygons: list[shapely.Polygon]) -> SurveyTask:
    upload = _upload(task, "r.geojson", _geojson(polygons))
    return survey_submit(actor=User.objects.get(username="surveyor"), upload=upload)


def test_points_are_numbered_clockwise_from_the_north_west_and_lines_name_the_neighbour(farmer_parcel):
    task, dkbm, neighbour, household = farmer_parcel
    ring = _plane(dkbm)
    task = _submitted(task, [ring])
    assert task.status == SurveyTask.Status.CONFIRMING
    points = list(task.submitted.points.order_by("id"))
    assert len(points) == len(ring.exterior.coords) - 1
    xy = [(float(p.yzbz), float(p.xzbz)) for p in points]  # easting, northing
    minx, _miny, _maxx, maxy = ring.bounds
    assert points[0].jzdh == "J1" and xy[0] == min(xy, key=lambda c: (c[0] - minx) ** 2 + (c[1] - maxy) ** 2)
    assert not shapely.LinearRing(xy).is_ccw  # clockwise
    lines = list(ProposedLine.objects.filter(upload=task.submitted))
    assert sum(float(ln.length_m) for ln in lines) == pytest.approx(ring.exterior.length, abs=0.05)
    to_neighbour = [ln for ln in lines if ln.neighbour_dkbm == neighbour]
    assert to_neighbour and all(ln.pldwqlr and ln.neighbour_cbfbm == _holder(neighbour) for ln in to_neighbour)
    parties = {(c.party, c.cbfbm) for c in LineConfirmation.objects.filter(line__in=to_neighbour)}
    assert parties == {("contractor", household), ("neighbour", _holder(neighbour))}
    open_sides = [ln for ln in lines if not ln.neighbour_cbfbm]  # roads, ditches: the group speaks for them
    assert all(
        {(c.party, c.cbfbm) for c in ln.confirmations.all()} == {("contractor", household), ("collective", dkbm[:14])}
        and ln.pldwqlr
        for ln in open_sides
    )
    farmer = User.objects.get(username="farmer")
    assert Notification.objects.filter(recipient=farmer, title__contains=task.code).exists()


def test_a_split_shares_its_new_points_and_its_inner_line_once(farmer_parcel):
    task, dkbm, _neighbour, household = farmer_parcel
    whole = _plane(dkbm)
    cx = whole.centroid.x
    minx, miny, maxx, maxy = whole.bounds
    west = whole.intersection(shapely.box(minx - 1, miny - 1, cx, maxy + 1))
    east = whole.intersection(shapely.box(cx, miny - 1, maxx + 1, maxy + 1))
    task = _submitted(task, [west, east])
    points = task.submitted.points.all()
    shared = [p for p in points if len(p.parcel_indexes) == 2]
    assert len(shared) >= 2  # the cut's two ends, one point each
    inner = list(ProposedLine.objects.filter(upload=task.submitted, neighbour_dkbm=dkbm))  # half to half
    assert len(inner) == 1 and inner[0].neighbour_cbfbm == household  # made once, from one side
    assert [c.party for c in inner[0].confirmations.all()] == ["contractor"]  # both halves are this household's


def _jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (1240, 1754), "white").save(out, format="JPEG")
    return SimpleUploadedFile("form.jpg", out.getvalue(), content_type="image/jpeg")


def test_the_household_confirms_with_a_code_and_the_village_for_the_neighbour(farmer_parcel):
    task, dkbm, neighbour, household = farmer_parcel
    task = _submitted(task, [_plane(dkbm)])
    farmer = User.objects.get(username="farmer")
    mine = LineConfirmation.objects.filter(line__upload=task.submitted, cbfbm=household)
    decisions = {c.line_id: ("confirmed", "") for c in mine}
    code = otp_issue(user=farmer, purpose=confirm_purpose(task))
    with pytest.raises(IdentityError):
        boundary_confirm(actor=farmer, task=task, decisions=decisions, code=f"{(int(code) + 1) % 1_000_000:06d}")
    assert not mine.exclude(decision="pending").exists()
    assert boundary_confirm(actor=farmer, task=task, decisions=decisions, code=code) == mine.count()
    assert all(c.decided_by == farmer and not c.on_behalf for c in mine.all())
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.CONFIRMING  # the neighbour has not answered

    _collective_answers(task, dkbm)
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.CONFIRMING
    theirs = LineConfirmation.objects.filter(line__upload=task.submitted, cbfbm=_holder(neighbour))
    answer = {c.line_id: ("confirmed", "") for c in theirs}
    with pytest.raises(PermissionDeniedError):
        boundary_confirm_for(
            actor=User.objects.get(username="township2"),
            task=task,
            cbfbm=_holder(neighbour),
            decisions=answer,
            reason="x",
            signed_form=_jpeg(),
        )
    village = User.objects.get(username="village")
    with pytest.raises(SurveyError, match="扫描件"):
        boundary_confirm_for(
            actor=village, task=task, cbfbm=_holder(neighbour), decisions=answer, reason="外出务工", signed_form=None
        )
    boundary_confirm_for(
        actor=village,
        task=task,
        cbfbm=_holder(neighbour),
        decisions=answer,
        reason="外出务工，签字表已收",
        signed_form=_jpeg(),
    )
    assert all(c.on_behalf and c.proxy_scan and c.proxy_reason for c in theirs.all())
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.CONFIRMED
    assert set(ProposedLine.objects.filter(upload=task.submitted).values_list("jxxz", flat=True)) == {"600001"}
    answered = LineConfirmation.objects.filter(line__upload=task.submitted)
    collective = answered.filter(party="collective").count()
    events = AuditEvent.objects.filter(  # this task's answers (other tests may have committed others)
        action="boundary.confirmed", subject_id__in=[str(pk) for pk in answered.values_list("pk", flat=True)]
    )
    assert events.count() == mine.count() + theirs.count() + collective


def test_a_disputed_line_returns_the_task_to_the_surveyor(farmer_parcel):
    task, dkbm, neighbour, household = farmer_parcel
    task = _submitted(task, [_plane(dkbm)])
    farmer = User.objects.get(username="farmer")
    mine = list(LineConfirmation.objects.filter(line__upload=task.submitted, cbfbm=household).order_by("id"))
    code = otp_issue(user=farmer, purpose=confirm_purpose(task))
    with pytest.raises(SurveyError, match="写明理由"):
        boundary_confirm(actor=farmer, task=task, decisions={mine[0].line_id: ("disputed", " ")}, code=code)
    code = otp_issue(user=farmer, purpose=confirm_purpose(task))
    decisions = {c.line_id: ("confirmed", "") for c in mine}
    decisions[mine[0].line_id] = ("disputed", "田埂往东偏了半米")
    boundary_confirm(actor=farmer, task=task, decisions=decisions, code=code)
    _collective_answers(task, dkbm)
    theirs = LineConfirmation.objects.filter(line__upload=task.submitted, cbfbm=_holder(neighbour))
    boundary_confirm_for(
        actor=User.objects.get(username="village"),
        task=task,
        cbfbm=_holder(neighbour),
        decisions={c.line_id: ("confirmed", "") for c in theirs},
        reason="本人不会用手机",
        signed_form=_jpeg(),
    )
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.DISPUTED
    assert ProposedLine.objects.get(pk=mine[0].line_id).jxxz == "600003"
    note = Notification.objects.filter(recipient=task.assignee, title__contains="争议").get()
    assert "田埂往东偏了半米" in note.body
    # the surveyor fixes it and submits again: a new round of confirmation
    again = _submitted(task, [_plane(dkbm)])
    assert again.status == SurveyTask.Status.CONFIRMING and again.submitted_id != mine[0].line.upload_id


def test_someone_outside_the_boundary_cannot_confirm_it(farmer_parcel, demo):
    task, dkbm, _neighbour, _household = farmer_parcel
    task = _submitted(task, [_plane(dkbm)])
    village = User.objects.get(username="village")  # an officer is no household
    with pytest.raises(PermissionDeniedError):
        boundary_confirm(actor=village, task=task, decisions={}, code="000000")
    with pytest.raises(PermissionDeniedError):  # another township's officer does not speak for this group
        boundary_confirm_collective(
            actor=User.objects.get(username="township2"), task=task, fbfbm=dkbm[:14], decisions={}
        )
    assert not LineConfirmation.objects.filter(line__upload=task.submitted).exclude(decision="pending").exists()


def test_the_confirmed_result_is_publicised_and_accepted_when_the_notice_ends(farmer_parcel, monkeypatch):
    from datetime import date

    from publicity.notices import notice_complete
    from publicity.tests.conftest import _Today
    from spatial.models import Parcel
    from surveys.services import survey_publicise

    task, dkbm, neighbour, household = farmer_parcel
    before = list(Parcel.objects.filter(dkbm=dkbm).values_list("pk", "version", "valid_to"))
    grown = _plane(dkbm)
    task = _submitted(task, [grown])
    village = User.objects.get(username="village")
    with pytest.raises(SurveyError, match="指界完成后"):
        survey_publicise(actor=village, task=task)
    for cbfbm in (household, _holder(neighbour)):
        rows = LineConfirmation.objects.filter(line__upload=task.submitted, cbfbm=cbfbm)
        boundary_confirm_for(
            actor=village,
            task=task,
            cbfbm=cbfbm,
            decisions={c.line_id: ("confirmed", "") for c in rows},
            reason="现场指界，签字表已收",
            signed_form=_jpeg(),
        )
    _collective_answers(task, dkbm)
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.CONFIRMED
    monkeypatch.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))
    task = survey_publicise(actor=village, task=task)
    notice = task.notice
    assert task.status == SurveyTask.Status.PUBLICITY and notice.kind == "survey" and notice.status == "posted"
    assert dkbm in notice.body and list(notice.parcels.values_list("dkbm", flat=True)) == [dkbm]
    notice_complete(actor=village, notice=notice, today=date(2025, 10, 20))
    task.refresh_from_db()
    assert task.status == SurveyTask.Status.ACCEPTED
    assert AuditEvent.objects.filter(action="survey.accepted", subject_id=str(task.pk)).exists()
    # the registry is not touched: parcel versions come with the approval of the application
    assert list(Parcel.objects.filter(dkbm=dkbm).values_list("pk", "version", "valid_to")) == before
