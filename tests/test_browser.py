"""End to end in Debian's Chromium: log in, see parcel tiles drawn, click a parcel, read its card.

The server (conftest.py) is Django's live-server thread on its own database connection, so it sees the
demo county that the session loaded (committed) without the test's transaction.
"""

import os
import shutil

import pytest

from accounts.models import Office
from demo.users import DEMO_PASSWORD
from spatial.models import Parcel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,  # so that pytest-django sets up the test database (it skips unused ones)
    pytest.mark.skipif(
        not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"),
        reason="Debian's chromium is not installed",
    ),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser(server):  # depends on the server so that it closes first and ends its keep-alive connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Playwright gives each launch a fresh temporary profile; never `playwright install` (STACK.md pitfall 8).
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()
    if before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def _log_in(browser, server: str, username: str):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(server + "/")
    assert "登录" in page.title()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#map .leaflet-tile-container canvas", timeout=15000)
    return page


def test_wrong_password_shows_a_clear_message(browser, server):
    page = browser.new_page()
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", "township")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text(".error")
    page.close()


def test_township_officer_sees_tiles_and_reads_a_parcel_card(browser, server, django_db_blocker):
    with django_db_blocker.unblock():
        office = Office.objects.select_related("region").get(user__username="township")
        parcel = Parcel.objects.filter(dkbm__startswith=office.region.code, valid_to__isnull=True).order_by("dkbm")[5]
        point = parcel.geom.point_on_surface
    page = _log_in(browser, server, "township")
    assert "永福镇" in page.inner_text("#who")
    page.evaluate("([lat, lon]) => { tianjieMap.setView([lat, lon], 17, {animate: false}); }", [point.y, point.x])
    page.wait_for_load_state("networkidle")
    # Parcel tiles were fetched and drawn: count non-background pixels on the tile canvases.
    drawn = page.evaluate("""() => {
        let n = 0;
        for (const c of document.querySelectorAll('#map canvas')) {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 16) if (d[i] > 0) n++;
        }
        return n;
    }""")
    assert drawn > 1000
    xy = page.evaluate(
        "([lat, lon]) => { const p = tianjieMap.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [point.y, point.x],
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    page.wait_for_selector("#panel:not([hidden]) [data-field=dkbm]")
    assert page.inner_text("[data-field=dkbm]") == parcel.dkbm
    assert "亩" in page.inner_text("[data-field=area]")
    masked = page.inner_text("[data-field=contractor-id]")
    assert "*" * 11 in masked
    page.screenshot(path=str(os.environ.get("TIANJIE_SCREENSHOT", "/tmp/tianjie-map.png")))
    page.close()


def test_search_by_last_five_digits_zooms_to_the_parcel(browser, server, django_db_blocker):
    with django_db_blocker.unblock():
        parcel = Parcel.objects.filter(dkbm__startswith="450326100", valid_to__isnull=True).order_by("dkbm")[7]
        same_last5 = Parcel.objects.filter(dkbm__startswith="450326100", dkbm__endswith=parcel.dkbm[-5:]).count()
    page = _log_in(browser, server, "township")
    page.fill("#q", parcel.dkbm)
    page.click("#search button")
    page.wait_for_selector("#panel:not([hidden]) [data-field=dkbm]")
    assert page.inner_text("[data-field=dkbm]") == parcel.dkbm
    page.fill("#q", parcel.dkbm[-5:])
    page.click("#search button")
    if same_last5 > 1:
        page.wait_for_selector("#panel li")
        assert page.locator("#panel li").count() == same_last5
    page.close()


@pytest.fixture(scope="module")
def imagery_layer(server, django_db_blocker, tmp_path_factory):
    """An ingested image, committed before the test's transaction so that the live server sees it."""
    from pathlib import Path

    from django.conf import settings

    from imagery.ingest import imagery_ingest
    from imagery.models import Imagery

    before = settings.IMAGERY_ROOT
    settings.IMAGERY_ROOT = tmp_path_factory.mktemp("imagery")  # the live server runs in this process
    sample = Path(__file__).resolve().parent.parent / "imagery" / "tests" / "fixtures" / "cogeo.tif"
    with django_db_blocker.unblock():
        image = imagery_ingest(
            actor=None,
            path=sample,
            county_code="450326",
            name="browser-aerial",
            title="测试影像",
            progress=lambda m: None,
        )
    yield image
    with django_db_blocker.unblock():
        Imagery.objects.filter(pk=image.pk).delete()
    settings.IMAGERY_ROOT = before


def test_imagery_shows_under_the_parcels_and_the_cursor_reads_in_the_county_plane(browser, server, imagery_layer):
    from pyproj import Transformer

    image = imagery_layer
    page = _log_in(browser, server, "township")
    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if "/imagery/wmts/browser-aerial/" in r.url else None)
    (x0, y0, x1, y1) = image.footprint.extent
    page.evaluate(
        "([lat, lon]) => { tianjieMap.setView([lat, lon], 17, {animate: false}); }", [(y0 + y1) / 2, (x0 + x1) / 2]
    )
    page.wait_for_load_state("networkidle")
    assert statuses and all(s == 200 for s in statuses), statuses
    assert page.locator(".imagery-layer img.leaflet-tile-loaded").count() > 0
    assert "测试影像" in page.text_content(".leaflet-control-layers")  # the (collapsed) layer switcher
    page.screenshot(path=str(os.environ.get("TIANJIE_IMAGERY_SCREENSHOT", "/tmp/tianjie-imagery.png")))
    page.fill("#imagery-opacity", "40")
    page.dispatch_event("#imagery-opacity", "input")
    assert page.evaluate("getComputedStyle(document.querySelector('.imagery-layer')).opacity") == "0.4"

    # The cursor over Yongfu, in CGCS2000 and EPSG:4546, as pyproj computes it.
    page.evaluate("() => { tianjieMap.setView([24.98, 109.98], 14, {animate: false}); }")
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + 400, box["y"] + 300)
    lat, lon = page.evaluate(
        "() => { const p = tianjieMap.containerPointToLatLng([400, 300]); return [p.lat, p.lng]; }"
    )
    text = page.inner_text("#cursor-position")
    east, north = Transformer.from_crs(4490, 4546, always_xy=True).transform(lon, lat)
    assert f"{lon:.6f}" in text and f"X(北) {north:.2f}" in text and f"Y(东) {east:.2f}" in text, text
    page.close()


@pytest.fixture(scope="module")
def posted_notice(server, django_db_blocker):
    """A contract notice of 金源村 (the `village` login) posted on 2025-09-26, committed for the live server."""
    from datetime import date

    import publicity.notices as notices
    from accounts.models import User
    from contracts.models import Contract
    from publicity.models import Notice
    from publicity.tests.conftest import _Today

    with django_db_blocker.unblock():
        real = notices.date
        setattr(notices, "date", _Today(date(2025, 9, 26)))  # noqa: B010 - posting "today" on a known day
        try:
            officer = User.objects.get(username="village")
            contract = Contract.objects.filter(cbhtbm__startswith="450326100200", valid_to__isnull=True).first()
            notice = notices.notice_post(
                actor=officer,
                notice=notices.notice_create(
                    actor=officer,
                    kind="contract",
                    owner_code="450326100200",
                    title="浏览器测试承包合同公示",
                    parcels=list(contract.parcels.values_list("dkbm", flat=True)),
                    contracts=[contract.cbhtbm],
                ),
            )
        finally:
            setattr(notices, "date", real)  # noqa: B010
    yield notice
    with django_db_blocker.unblock():
        Notice.objects.filter(pk=notice.pk).delete()


def test_the_collective_sees_the_notice_on_its_map_and_page(browser, server, posted_notice):
    page = _log_in(browser, server, "farmer")  # a member of the noticed group
    page.wait_for_function("document.getElementById('map').dataset.noticeFeatures !== undefined")
    count = int(page.evaluate("document.getElementById('map').dataset.noticeFeatures"))
    assert count == posted_notice.parcels.count() > 0
    page.goto(f"{server}/notices/")
    page.click("text=浏览器测试承包合同公示")
    page.wait_for_selector("#notice-map")  # the link's page, not the one it was clicked on
    page.wait_for_function("document.getElementById('notice-map').dataset.features !== undefined")
    assert int(page.evaluate("document.getElementById('notice-map').dataset.features")) == count
    assert "2025-10-16" in page.inner_text("#period")  # 10 working days over National Day
    assert page.locator("#notice-map path.leaflet-interactive").count() == count  # highlighted on the map
    page.close()
    other = _log_in(browser, server, "township2")  # 罗锦镇: not in the audience
    other.wait_for_function("document.getElementById('map').dataset.noticeFeatures !== undefined")
    assert other.evaluate("document.getElementById('map').dataset.noticeFeatures") == "0"
    other.close()


@pytest.fixture(scope="module")
def document_to_sign(server, django_db_blocker, tmp_path_factory):
    """The demo farmer verified in person by the village officer, and the household's contract generated
    for signing (committed for the live server; removed afterwards)."""
    from django.conf import settings

    from accounts.models import IdentityCheck, Notification, OneTimeCode, User
    from contracts.filing import contract_draft
    from contracts.models import (
        Certificate,
        Contract,
        ContractDocument,
        Contractor,
        ContractParcel,
        ContractSignature,
        RegisterEntry,
    )
    from contracts.signing import document_generate, signer_identity_verify
    from nrb.models import FilingDelivery, FilingShare

    before = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock():
        farmer, village = User.objects.get(username="farmer"), User.objects.get(username="village")
        household = Contractor.objects.get(cbfbm=Office.objects.get(user=farmer).contractor_code, valid_to__isnull=True)
        contract = Contract.objects.get(contractor=household, valid_to__isnull=True)
        check = signer_identity_verify(
            actor=village,
            person=farmer,
            household=household,
            name=household.name,
            id_number=household.id_number,
            attested=True,
        )
        document = document_generate(actor=village, contract=contract_draft(actor=village, contract=contract))
    yield document
    with django_db_blocker.unblock():
        # undo the filing, if a test filed it: the old contract and its certificate back in force
        entry = RegisterEntry.objects.filter(contract_id=document.contract_id).first()
        if entry is not None:
            FilingDelivery.objects.filter(share__entry=entry).delete()
            FilingShare.objects.filter(entry=entry).delete()
            new_cert = entry.certificate
            old_certs = list(Certificate.objects.filter(replaced_by=new_cert).values_list("pk", flat=True))
            entry.delete()
            new_cert.delete()
            Certificate.objects.filter(pk__in=old_certs).update(
                status="issued", recall_since=None, recall_reason="", recovered_on=None, recovered_by=None
            )
        ContractSignature.objects.filter(document=document).delete()
        ContractDocument.objects.filter(pk=document.pk).delete()
        ContractParcel.objects.filter(contract=document.contract).delete()
        Contract.objects.filter(pk=document.contract_id).delete()  # the draft
        Contract.objects.filter(pk=contract.pk).update(valid_to=None, status="current")  # as before any filing
        IdentityCheck.objects.filter(pk=check.pk).delete()
        OneTimeCode.objects.filter(user__in=[farmer, village]).delete()
        Notification.objects.filter(recipient__in=[farmer, village, User.objects.get(username="group")]).delete()
    settings.MEDIA_ROOT = before


def test_the_farmer_signs_the_contract_on_a_phone(browser, server, document_to_sign):
    import re
    from concurrent.futures import ThreadPoolExecutor

    from contracts.pdfsign import verify_pdf
    from contracts.signing import signed_pdf

    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", "farmer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(server + "/my/contracts/")
    page.click("text=查看并签署")
    assert "待承包方签署" in page.inner_text("#doc-status")
    page.click("#code-form button")
    assert page.locator("#code-sent").is_visible()
    page.goto(server + "/notifications/")  # no SMS here: the demo's inbox stands in for it
    code = re.search(r"验证码 (\d{6})", page.inner_text("#notifications")).group(1)
    page.go_back()
    page.goto(f"{server}/contracts/documents/{document_to_sign.pk}/")
    page.fill("#sign-form input[name=code]", code)
    page.click("#sign-form button")
    page.wait_for_load_state("networkidle")
    assert "待发包方签署" in page.inner_text("#doc-status")
    assert "承包方" in page.inner_text("#signature-list")
    page.close()
    document_to_sign.refresh_from_db()
    # pyHanko validates with asyncio.run: not in this thread, where Playwright's event loop runs
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(verify_pdf, signed_pdf(document_to_sign)).result()
    assert report.ok and [s.field_name for s in report.signatures] == ["contractor"]


def test_the_county_files_it_and_the_farmer_logs_in_by_phone_and_finds_it_on_the_map(
    browser, server, document_to_sign, django_db_blocker
):
    """After the farmer's signature (the test above): the issuer signs, the county files on its page, and the
    farmer logs in with phone and ID number on a phone, sees the filed contract, its parcels on the map,
    the old certificate to return, and downloads the signed PDF."""
    import re
    from concurrent.futures import ThreadPoolExecutor

    from accounts.identity import otp_issue
    from accounts.models import Notification, User
    from contracts.models import Contractor, ContractParcel
    from contracts.pdfsign import verify_pdf
    from contracts.signing import document_sign, sign_purpose
    from demo.users import DEMO_FARMER_PHONE

    def issuer_signs() -> None:  # pyHanko runs asyncio: not in Playwright's thread
        village = User.objects.get(username="village")
        code = otp_issue(user=village, purpose=sign_purpose(document_to_sign, "issuer"))
        document_sign(actor=village, document=document_to_sign, role="issuer", code=code)

    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
        pool.submit(issuer_signs).result()
        farmer = User.objects.get(username="farmer")
        household = Contractor.objects.get(cbfbm=farmer.offices.get().contractor_code, valid_to__isnull=True)
        parcels = ContractParcel.objects.filter(contract_id=document_to_sign.contract_id).count()

    county = _log_in(browser, server, "county")
    county.click("text=备案")
    county.click(f"form.file-form:has(input[value='{document_to_sign.pk}']) button")
    county.wait_for_selector("#filed")
    serial = re.search(r"权证流水号 (\d+)", county.inner_text("#filed")).group(1)
    county.close()

    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server + "/accounts/login/")
    page.click("text=承包农户用手机号登录")
    page.fill("#login-phone-form input[name=phone]", DEMO_FARMER_PHONE)
    page.fill("#login-phone-form input[name=id_number]", household.id_number)
    page.click("#login-phone-form button")
    assert page.locator("#code-sent").is_visible()
    with django_db_blocker.unblock():  # the SMS this account would get; no gateway here
        note = Notification.objects.filter(recipient=farmer, body__contains="登录").order_by("-created_at").first()
    page.fill("#login-code-form input[name=code]", re.search(r"验证码 (\d{6})", note.body).group(1))
    page.click("#login-code-form button")
    page.wait_for_url(re.compile(r"/my/contracts/$"))
    page.wait_for_function("document.getElementById('my-parcels-map').dataset.features !== undefined")
    assert int(page.evaluate("document.getElementById('my-parcels-map').dataset.features")) == parcels
    assert page.locator("#my-parcels-map path.leaflet-interactive").count() == parcels
    first = page.locator("section.contract").first.inner_text()
    assert "现行 current" in first and f"流水号 {serial}" in first
    assert "待收回" in page.inner_text("main")  # the old certificate, to be returned
    with page.expect_download() as download:
        page.click("text=下载已签署的合同")
    pdf = open(download.value.path(), "rb").read()
    page.close()
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(verify_pdf, pdf).result()
    assert report.ok and [s.field_name for s in report.signatures] == ["contractor", "issuer"]


@pytest.fixture(scope="module")
def boundary_to_confirm(server, django_db_blocker, tmp_path_factory):
    """A survey of one of the demo farmer's parcels, checked and submitted for 指界 (committed for the
    live server; removed afterwards)."""
    import json
    from datetime import timedelta

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Notification, OneTimeCode, User
    from surveys.models import SurveyTask
    from surveys.services import survey_submit, survey_task_create, survey_upload_create, survey_upload_run

    before = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("survey-media")
    with django_db_blocker.unblock():
        farmer = User.objects.get(username="farmer")
        with connection.cursor() as cur:
            cur.execute(
                "SELECT cp.dkbm, ST_AsGeoJSON(ST_Transform(p.geom, 4546), 3) FROM contracts_contractparcel cp "
                "JOIN contracts_contract ct ON ct.id = cp.contract_id AND ct.valid_to IS NULL "
                "JOIN contracts_contractor c ON c.id = ct.contractor_id "
                "JOIN spatial_parcel p ON p.dkbm = cp.dkbm AND p.valid_to IS NULL "
                "WHERE c.cbfbm = %s ORDER BY cp.dkbm LIMIT 1",
                [farmer.offices.get().contractor_code],
            )
            dkbm, geometry = cur.fetchone()
        task = survey_task_create(
            actor=User.objects.get(username="county"),
            dkbms=[dkbm],
            reason="界线核实",
            company="示范测绘有限公司",
            assignee=User.objects.get(username="surveyor"),
            due_on=timezone.localdate() + timedelta(days=10),
        )
        feature = {"type": "Feature", "properties": {}, "geometry": json.loads(geometry)}
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4546"}}
        body = json.dumps({"type": "FeatureCollection", "crs": crs, "features": [feature]}).encode()
        surveyor = User.objects.get(username="surveyor")
        upload = survey_upload_run(
            upload=survey_upload_create(actor=surveyor, task=task, upload=SimpleUploadedFile("r.geojson", body))
        )
        survey_submit(actor=surveyor, upload=upload)
    yield SurveyTask.objects.get(pk=task.pk)
    with django_db_blocker.unblock():
        from surveys.models import LineConfirmation, ProposedLine, ProposedParcel, ProposedPoint, SurveyUpload

        SurveyTask.objects.filter(pk=task.pk).update(submitted=None)
        LineConfirmation.objects.filter(line__upload__task=task).delete()
        ProposedLine.objects.filter(upload__task=task).delete()
        ProposedPoint.objects.filter(upload__task=task).delete()
        ProposedParcel.objects.filter(upload__task=task).delete()
        SurveyUpload.objects.filter(task=task).delete()
        SurveyTask.objects.filter(pk=task.pk).delete()
        OneTimeCode.objects.filter(user=farmer).delete()
        Notification.objects.filter(recipient__username__in=["farmer", "surveyor"]).delete()
    settings.MEDIA_ROOT = before


def test_the_farmer_confirms_a_boundary_on_a_phone(browser, server, boundary_to_confirm, django_db_blocker):
    import re

    from accounts.models import User
    from surveys.models import LineConfirmation

    task = boundary_to_confirm
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", "farmer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(server + "/notifications/")
    page.click(f"text=请确认地块界线（指界）：{task.code}")  # the inbox links to the confirmation page
    page.wait_for_selector("#lines-map")  # the link's page, not the one it was clicked on
    page.wait_for_function("document.getElementById('lines-map').dataset.features !== undefined")
    drawn = int(page.evaluate("document.getElementById('lines-map').dataset.features"))
    radios = page.locator("#confirm-form input[value=confirmed]")
    assert drawn >= radios.count() > 0
    page.click("#code-form button")
    assert page.locator("#code-sent").is_visible()
    page.goto(server + "/notifications/")  # no SMS here: the demo's inbox stands in for it
    code = re.search(r"验证码 (\d{6})", page.inner_text("#notifications")).group(1)
    page.goto(f"{server}/surveys/{task.code}/confirm/")
    for i in range(radios.count()):
        radios.nth(i).check()
    page.fill("#confirm-form input[name=code]", code)
    page.click("#confirm-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已确认" in page.inner_text("#confirm-form")
    page.close()
    with django_db_blocker.unblock():
        household = User.objects.get(username="farmer").offices.get().contractor_code
        rows = LineConfirmation.objects.filter(line__upload=task.submitted, cbfbm=household)
        assert rows.exists() and {r.decision for r in rows} == {"confirmed"}
        assert all(r.decided_by.username == "farmer" and r.decided_at for r in rows)


@pytest.fixture(scope="module")
def applications_cleanup(server, django_db_blocker, tmp_path_factory):
    """Media in a temporary folder; afterwards every row the application test made is removed (the
    application, its steps and materials, the staged household, the draft, its notice)."""
    from django.conf import settings

    before = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("application-media")
    yield
    with django_db_blocker.unblock():
        from accounts.models import Notification
        from approvals.models import Application, Material, Step
        from contracts.models import Contract, Contractor, ContractParcel, FamilyMember
        from publicity.models import Notice, NoticeAudience, NoticeSubject

        notices = [
            f"/notices/{pk}/" for pk in Application.objects.exclude(notice=None).values_list("notice_id", flat=True)
        ]
        Notification.objects.filter(url__startswith="/applications/").delete()
        Notification.objects.filter(url__in=notices).delete()
        for app in Application.objects.all():
            Step.objects.filter(application=app).delete()
            Material.objects.filter(application=app).delete()
            Application.objects.filter(pk=app.pk).delete()
            if app.draft_id:
                ContractParcel.objects.filter(contract_id=app.draft_id).delete()
                Contract.objects.filter(pk=app.draft_id).delete()
            if app.notice_id:
                NoticeAudience.objects.filter(notice_id=app.notice_id).delete()
                NoticeSubject.objects.filter(notice_id=app.notice_id).delete()
                Notice.objects.get(pk=app.notice_id).parcels.clear()
                Notice.objects.filter(pk=app.notice_id).delete()
            if app.staged.get("contractor"):
                FamilyMember.objects.filter(contractor_id=app.staged["contractor"]).delete()
                Contractor.objects.filter(pk=app.staged["contractor"]).delete()
    settings.MEDIA_ROOT = before


def _phone(browser, server: str, username: str):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    return page


def test_a_member_change_from_the_farmers_phone_through_every_level(
    browser, server, applications_cleanup, django_db_blocker, tmp_path
):
    """The no-survey path in Chromium: the farmer applies on a phone and photographs the materials; the
    village, the township and the county approve on their pages; the village publicises the new contract;
    the farmer follows it all on the timeline."""
    from datetime import date

    from PIL import Image

    from approvals.models import Application
    from approvals.workflow import REQUIRED_MATERIALS
    from publicity.tests.conftest import _Today

    photo = tmp_path / "hukou.jpg"
    Image.new("RGB", (900, 1200), "white").save(photo, format="JPEG")
    page = _phone(browser, server, "farmer")
    page.goto(server + "/applications/")
    page.click("#new-application")
    page.select_option("#business", "1031")
    assert page.locator("fieldset[data-for='1031']").is_visible()
    assert not page.locator("fieldset[data-for='1032']").is_visible()
    page.fill("textarea[name=summary]", "女儿出嫁迁出，申请减少家庭成员")
    page.locator("fieldset[data-for='1031'] input[name=remove]").last.check()
    page.click("#application-form button[type=submit]")
    page.wait_for_selector("#material-form")
    code = page.url.rstrip("/").rsplit("/", 1)[1]
    for name in REQUIRED_MATERIALS["1031"]:
        page.select_option("#material-form select[name=name]", name)
        page.set_input_files("#material-form input[type=file]", str(photo))
        page.click("#material-form button")
        page.wait_for_load_state("networkidle")
    assert page.locator("#materials img").count() == len(REQUIRED_MATERIALS["1031"])
    page.click("#submit-form button")
    page.wait_for_load_state("networkidle")
    assert "发包方初审" in page.inner_text("#state")
    page.close()

    for officer, next_state in (("village", "乡镇审核"), ("township", "县级审批"), ("county", "已批准")):
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(server + "/accounts/login/")
        page.fill("input[name=username]", officer)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.goto(server + "/applications/")
        page.click(f"#inbox >> text={code}")  # it waits in this officer's inbox
        page.wait_for_selector("#app-map")  # the link's page, not the one it was clicked on
        page.wait_for_function("document.getElementById('app-map').dataset.features > 0")
        page.fill("#decide-form textarea[name=comment]", "材料齐全，同意")
        page.click("#decide-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert next_state in page.inner_text("#state")
        page.close()

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", "township2")  # another township: not there at all
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    assert page.goto(f"{server}/applications/{code}/").status == 404
    page.close()

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", "village")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server}/applications/{code}/")
    with pytest.MonkeyPatch.context() as mp:  # the live server is a thread of this process
        mp.setattr("publicity.notices.date", _Today(date(2025, 9, 26)))  # a day the shipped calendar covers
        page.click("#publicise-form button")
        page.wait_for_load_state("networkidle")
    assert "合同公示" in page.inner_text("#state"), page.inner_text("main")[:600]
    page.close()

    page = _phone(browser, server, "farmer")
    page.goto(f"{server}/applications/{code}/")
    timeline = page.inner_text("#timeline")
    for step in ("提交", "同意", "合同公示"):
        assert step in timeline
    assert page.locator("#timeline li").count() == 6  # created, submitted, three approvals, publicised
    page.close()
    with django_db_blocker.unblock():
        app = Application.objects.get(code=code)
        assert app.state == "contract_publicity" and app.notice.status == "posted" and app.draft.status == "pending"
