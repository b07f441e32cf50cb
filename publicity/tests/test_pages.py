"""The notice pages as their users drive them: the group posts a contract notice, a neighbouring group's
farmer sees it and objects with a photo, the group answers, the period ends on the right working day,
and the printed notice (pdftotext) reads in Chinese with the ID numbers masked."""

import io
import subprocess
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from audit.models import AuditEvent
from publicity.models import Notice, NoticeStatus, Objection
from publicity.notices import notices_close_ended
from spatial.models import Parcel

from .conftest import GROUPS, _Today


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 50, 50)).save(out, format="PNG")
    return out.getvalue()


def test_a_contract_notice_from_posting_to_the_end(people, client, monkeypatch):
    officer, neighbour, stranger = people
    monkeypatch.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))
    monkeypatch.setattr("publicity.views.date", _Today(date(2025, 9, 29)))
    dkbms = list(Parcel.objects.filter(dkbm__startswith=GROUPS[0]).order_by("dkbm").values_list("dkbm", flat=True)[:2])

    client.force_login(officer)
    resp = client.post(
        "/notices/new/",
        {
            "kind": "contract",
            "owner_code": GROUPS[0],
            "title": "荷兰01组承包合同公示",
            "body": "经本组成员会议讨论，现将承包合同公示如下。",
            "parcels": "\n".join(dkbms),
        },
    )
    assert resp.status_code == 302 and resp["Location"].startswith("/notices/"), resp.get("Location")
    notice = Notice.objects.latest("pk")
    assert notice.status == NoticeStatus.DRAFT and notice.working_days == 10
    page = client.get(resp["Location"]).content.decode()
    assert "未发布" in page and 'id="post-form"' in page
    assert client.post(f"/notices/{notice.pk}/", {"action": "post"}).status_code == 302
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.POSTED and str(notice.ends_on) == "2025-10-16"  # over National Day

    # A farmer of a neighbouring group sees it in the list, on the map (the parcels' GeoJSON) and objects.
    assert notice.audience.filter(fbfbm=GROUPS[1]).exists()
    client.force_login(neighbour)
    assert "荷兰01组承包合同公示" in client.get("/notices/").content.decode()
    page = client.get(f"/notices/{notice.pk}/").content.decode()
    assert 'id="object-form"' in page and "2025-10-16" in page and 'id="notice-map"' in page
    fc = client.get(f"/notices/{notice.pk}/parcels.geojson").json()
    assert sorted(f["id"] for f in fc["features"]) == dkbms
    resp = client.post(
        f"/notices/{notice.pk}/",
        {"action": "object", "reason": "东侧地界与实地不符", "photo": SimpleUploadedFile("east.png", _png())},
    )
    assert resp.status_code == 302
    objection = Objection.objects.get(notice=notice)
    assert objection.photo.endswith(".png")
    photo_url = f"/notices/{notice.pk}/objections/{objection.pk}/photo"
    assert photo_url in client.get(f"/notices/{notice.pk}/").content.decode()
    assert b"".join(client.get(photo_url).streaming_content) == _png()
    bad = client.post(
        f"/notices/{notice.pk}/",
        {"action": "object", "reason": "再附一张", "photo": SimpleUploadedFile("fake.png", b"not a picture")},
    )
    assert "照片文件已损坏" in bad.content.decode() and Objection.objects.filter(notice=notice).count() == 1

    # Someone outside the audience sees nothing of it.
    client.force_login(stranger)
    assert "荷兰01组" not in client.get("/notices/").content.decode()
    assert client.get(f"/notices/{notice.pk}/").status_code == 404
    assert client.get(f"/notices/{notice.pk}/parcels.geojson").status_code == 404
    assert client.get(photo_url).status_code == 404

    # The owner is told, answers; the period ends on the 16th and the night job closes it.
    client.force_login(officer)
    assert "公示有异议" in client.get("/notifications/").content.decode()
    page = client.get(f"/notices/{notice.pk}/").content.decode()
    assert "东侧地界与实地不符" in page and "answer-form" in page
    client.post(f"/notices/{notice.pk}/", {"action": "answer", "objection": objection.pk, "answer": "已复核，地界无误"})
    objection.refresh_from_db()
    assert objection.answer == "已复核，地界无误"
    client.force_login(neighbour)
    assert "已复核，地界无误" in client.get(f"/notices/{notice.pk}/").content.decode()
    assert "异议已答复" in client.get("/notifications/").content.decode()
    assert notices_close_ended(today=date(2025, 10, 16)) == {"closed": 0, "waiting": 0}  # still running
    assert notices_close_ended(today=date(2025, 10, 17)) == {"closed": 1, "waiting": 0}
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.CLOSED
    assert AuditEvent.objects.filter(action="notice.closed", subject_id=str(notice.pk)).exists()


def test_the_printed_notice_reads_in_chinese(people, client, monkeypatch, tmp_path):
    officer, _, _ = people
    monkeypatch.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))
    from publicity.notices import notice_create, notice_post

    dkbms = list(Parcel.objects.filter(dkbm__startswith=GROUPS[0]).order_by("dkbm").values_list("dkbm", flat=True)[:3])
    notice = notice_post(
        actor=officer,
        notice=notice_create(
            actor=officer, kind="contract", owner_code=GROUPS[0], title="荷兰01组承包合同公示", parcels=dkbms
        ),
    )
    client.force_login(officer)
    for size in ("A4", "A3"):
        resp = client.get(f"/notices/{notice.pk}/print.pdf?size={size}")
        assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
        pdf = tmp_path / f"notice-{size}.pdf"
        pdf.write_bytes(resp.content)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        for expected in ("公 示", "荷兰01组承包合同公示", "2025年10月16日", "如何提出异议", notice.code, *dkbms):
            assert expected in text, (size, expected)
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "WenQuanYi" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert f"pts ({size})" in info
    # a draft is not printed; another group's farmer cannot print it
    draft = notice_create(actor=officer, kind="survey", owner_code=GROUPS[0], title="草稿", parcels=dkbms[:1])
    assert client.get(f"/notices/{draft.pk}/print.pdf").status_code == 409
    client.force_login(User.objects.get(username="farmer"))
    assert client.get(f"/notices/{notice.pk}/print.pdf").status_code == 404


def test_household_ids_are_masked_on_the_page_and_in_print(demo, client, monkeypatch, tmp_path):
    from contracts.models import Contractor
    from publicity.notices import notice_create, notice_post

    monkeypatch.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))
    household = Contractor.objects.filter(cbfbm__startswith=demo.township, valid_to__isnull=True).first()
    contract = household.contracts.filter(valid_to__isnull=True).first()
    county = User.objects.get(username="county")
    notice = notice_post(
        actor=county,
        notice=notice_create(
            actor=county,
            kind="households",
            owner_code=demo.county,
            title="承包方名单公示",
            households=[household.cbfbm],
            contracts=[contract.cbhtbm],
        ),
    )
    client.force_login(county)
    page = client.get(f"/notices/{notice.pk}/").content.decode()
    assert household.id_number_masked in page and household.id_number not in page
    assert contract.cbhtbm in page and f"{contract.term_start:%Y-%m-%d}" in page
    # what was published stays as published: a later change of the household does not rewrite the notice
    Contractor.objects.filter(pk=household.pk).update(name="改名后")
    assert household.name in client.get(f"/notices/{notice.pk}/").content.decode()
    pdf = tmp_path / "n.pdf"
    pdf.write_bytes(client.get(f"/notices/{notice.pk}/print.pdf").content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert household.id_number_masked in text and household.id_number not in text and household.name in text
