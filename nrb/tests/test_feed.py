"""Sharing filed contracts with the natural resources bureau: the pull API (its own accounts only; reading
records nothing, each part the bureau acknowledges by POST is recorded) and the folder export (whole folders
with a manifest, each written once)."""

import base64
import hashlib
import json
import subprocess

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import User
from audit.models import AuditEvent
from contracts.filing import contract_file
from contracts.models import Certificate, ContractParcel
from contracts.pdfsign import verify_pdf
from nrb.models import FilingDelivery, FilingShare
from nrb.services import filings_export_folder


@pytest.fixture
def filed(signed_draft):
    document, old, _farmer, _village = signed_draft
    entry = contract_file(actor=User.objects.get(username="county"), document=document)
    return entry, old


def _basic(user: User) -> dict[str, str]:
    key = Token.objects.get_or_create(user=user)[0].key
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user.username}:{key}".encode()).decode()}


def test_the_bureau_pulls_a_filing_and_each_part_it_acknowledges_is_recorded(client, filed, tmp_path):
    entry, old = filed
    ziyuan = User.objects.get(username="ziyuan")
    auth = _basic(ziyuan)
    listing = client.get("/api/nrb/filings/?after=0", **auth).json()
    share = FilingShare.objects.get(entry=entry)
    item = next(i for i in listing["items"] if i["sequence"] == share.pk)
    assert item["contract"] == entry.cbjyqzbm and item["version"] == old.version + 1
    assert not FilingDelivery.objects.filter(share=share).exists()  # a listing hands nothing over

    record = client.get(item["links"]["contract.json"], **auth).json()
    contract, household = entry.contract, entry.contract.contractor
    assert record["CBHT"]["CBHTBM"] == contract.cbhtbm and record["CBHT"]["CBQXQ"] == "2028-01-01"
    assert record["CBHT"]["superseded_version"] == old.version
    assert record["CBJYQZDJB"]["CBJYQZLSH"] == entry.cbjyqzlsh and record["CBJYQZDJB"]["CBQX"] == "30年"
    assert record["CBF"]["CBFZJHM"] == household.id_number  # in full: the bureau prints the certificate
    assert len(record["CBF_JTCY"]) == household.members.count()
    dkbms = sorted(ContractParcel.objects.filter(contract=contract).values_list("dkbm", flat=True))
    assert [r["DKBM"] for r in record["CBDKXX"]] == dkbms
    assert {r["CBJYQZBM"] for r in record["CBDKXX"]} == {contract.cbhtbm}
    old_cert = Certificate.objects.get(replaced_by=entry.certificate)
    assert record["recall"] == [{"CBJYQZBM": old_cert.cbjyqzbm, "CBJYQZLSH": "", "FZRQ": str(old_cert.issued_on)}]

    geojson = client.get(item["links"]["parcels.geojson"], **auth)
    path = tmp_path / "parcels.geojson"
    path.write_bytes(geojson.content)
    info = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True, check=True).stdout
    assert f"Feature Count: {len(dkbms)}" in info and 'ID["EPSG",4490]' in info  # GDAL reads it as CGCS2000

    pdf = client.get(item["links"]["contract.pdf"], **auth)
    assert pdf["X-Content-SHA256"] == hashlib.sha256(pdf.content).hexdigest()
    report = verify_pdf(pdf.content)
    assert report.ok and [s.field_name for s in report.signatures] == ["contractor", "issuer"]

    deliveries = FilingDelivery.objects.filter(share=share, channel="api", recipient=ziyuan)
    assert not deliveries.exists()  # reading (a prefetch, a retry) is not a hand-over
    for part, body in (("contract.json", None), ("parcels.geojson", geojson.content), ("contract.pdf", pdf.content)):
        body = body if body is not None else client.get(item["links"][part], **auth).content
        url = item["links"][part] + "/received"
        wrong = client.post(url, data=json.dumps({"sha256": "0" * 64}), content_type="application/json", **auth)
        assert wrong.status_code == 400 and "SHA-256" in wrong.json()["error"]["message"]
        ack = {"sha256": hashlib.sha256(body).hexdigest()}
        resp = client.post(url, data=json.dumps(ack), content_type="application/json", **auth)
        assert resp.status_code == 201 and resp.json()["received"] is True
    assert sorted(deliveries.values_list("part", flat=True)) == ["contract.json", "contract.pdf", "parcels.geojson"]
    delivered = AuditEvent.objects.filter(
        action="filing.delivered", actor_id=ziyuan.pk, subject_id__in=[str(d.pk) for d in deliveries]
    )
    assert delivered.count() == 3


def test_only_the_bureau_pulls(client, filed):
    entry, _old = filed
    share = FilingShare.objects.get(entry=entry)
    url = f"/api/nrb/filings/{share.pk}/contract.json"
    resp = client.get(url)
    assert resp.status_code == 401 and resp["WWW-Authenticate"].startswith("Basic")
    ziyuan = User.objects.get(username="ziyuan")
    wrong = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"ziyuan:not-the-token").decode()}
    assert client.get(url, **wrong).status_code == 401
    for username in ("county", "township", "farmer"):
        assert client.get(url, **_basic(User.objects.get(username=username))).status_code == 403
    assert client.get(f"/api/nrb/filings/{share.pk}/secrets.txt", **_basic(ziyuan)).status_code == 404
    assert client.get("/api/nrb/filings/?limit=1000", **_basic(ziyuan)).status_code == 400
    assert not FilingDelivery.objects.filter(share=share).exists()


def test_only_the_bureau_acknowledges_and_only_with_its_token(client, filed):
    """A receipt needs the bureau's token: not a session (no page can post one for a logged-in user), not
    another role's token, not a GET."""
    entry, _old = filed
    share = FilingShare.objects.get(entry=entry)
    ziyuan = User.objects.get(username="ziyuan")
    url = f"/api/nrb/filings/{share.pk}/contract.pdf/received"
    body = json.dumps({"sha256": "0" * 64})
    client.force_login(ziyuan)  # a logged-in session alone
    assert client.post(url, data=body, content_type="application/json").status_code == 401
    assert client.get(url, **_basic(ziyuan)).status_code == 405
    for username in ("county", "township"):
        resp = client.post(
            url, data=body, content_type="application/json", **_basic(User.objects.get(username=username))
        )
        assert resp.status_code == 403
    resp = client.post(
        url.replace("contract.pdf", "secrets.txt"), data=body, content_type="application/json", **_basic(ziyuan)
    )
    assert resp.status_code == 404
    bad = client.post(url, data="not json", content_type="application/json", **_basic(ziyuan))
    assert bad.status_code == 400
    assert not FilingDelivery.objects.filter(share=share).exists()


def test_the_folder_export_writes_each_filing_once_with_its_manifest(filed, tmp_path):
    entry, _old = filed
    written = filings_export_folder(folder=tmp_path)
    share = FilingShare.objects.get(entry=entry)
    assert [p.name for p in written] == [f"{share.pk:08d}-{entry.cbjyqzbm}"]
    folder = written[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["contract.json", "contract.pdf", "parcels.geojson"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert json.loads((folder / "contract.json").read_text())["CBJYQZDJB"]["CBJYQZLSH"] == entry.cbjyqzlsh
    assert verify_pdf((folder / "contract.pdf").read_bytes()).ok
    assert not list(tmp_path.glob(".*partial"))
    delivery = FilingDelivery.objects.get(share=share, channel="folder")
    assert delivery.path == str(folder)
    assert filings_export_folder(folder=tmp_path) == []  # once


def test_the_county_sees_whether_the_bureau_has_picked_a_filing_up(client, filed, login):
    entry, _old = filed
    share = FilingShare.objects.get(entry=entry)
    county = login("county")
    page = county.get("/exchange/nrb/").content.decode()
    assert entry.cbjyqzbm in page and "未领取" in page
    client.logout()
    auth = _basic(User.objects.get(username="ziyuan"))
    body = client.get(f"/api/nrb/filings/{share.pk}/contract.json", **auth).content
    fetched = login("county").get("/exchange/nrb/").content.decode()
    assert "contract.json · ziyuan" not in fetched  # fetched, not yet acknowledged: nothing handed over
    client.logout()
    ack = json.dumps({"sha256": hashlib.sha256(body).hexdigest()})
    client.post(f"/api/nrb/filings/{share.pk}/contract.json/received", ack, content_type="application/json", **auth)
    page = login("county").get("/exchange/nrb/").content.decode()
    assert "contract.json · ziyuan" in page
    assert login("township").get("/exchange/nrb/").status_code == 403
