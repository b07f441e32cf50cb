"""OGC API - Features: what a GIS client sees — scoped to the caller, paged, in the CRS asked for — checked
through Django's client and with GDAL's OAPIF driver (ogrinfo) against a live server."""

import base64
import json
import subprocess

import pytest
from django.contrib.gis.geos import Polygon
from pyproj import Transformer

from accounts.models import User
from spatial.models import Issuer, Parcel, Region

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _epsg(n: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{n}"


def _all_pages(client, first: str | None) -> list[dict]:
    features: list[dict] = []
    seen, url = 0, first
    while url:
        doc = client.get(url).json()
        features += doc["features"]
        assert doc["numberReturned"] == len(doc["features"])
        url = next((link["href"] for link in doc["links"] if link["rel"] == "next"), None)
        seen += 1
        assert seen < 100
    return features


def test_anonymous_callers_are_asked_to_authenticate(demo, client):
    resp = client.get("/ogc/collections/parcels/items")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    assert resp.json()["code"] == "Unauthorized"


def test_landing_conformance_and_collections(demo, login):
    client = login("township")
    landing = client.get("/ogc/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    cols = {c["id"]: c for c in client.get("/ogc/collections").json()["collections"]}
    assert set(cols) == {"parcels", "issuers", "regions"}
    assert cols["parcels"]["crs"] == [CRS84, _epsg(4490), _epsg(4326), _epsg(4546)]  # 4546: the county's zone
    minx, miny, maxx, maxy = cols["parcels"]["extent"]["spatial"]["bbox"][0]
    township = Region.objects.get(code=demo.township).outline.extent
    assert (minx, miny, maxx, maxy) == pytest.approx(township)  # the township's box, not the county's
    assert client.get("/ogc/api").json()["openapi"].startswith("3.0")
    assert client.get("/ogc/collections/contracts").status_code == 404


def test_paging_returns_exactly_the_callers_parcels_once(demo, login):
    client = login("township")
    first = client.get("/ogc/collections/parcels/items?limit=300").json()
    expected = set(
        Parcel.objects.filter(dkbm__startswith=demo.township, valid_to__isnull=True).values_list("dkbm", flat=True)
    )
    assert first["numberMatched"] == len(expected)
    features = _all_pages(client, "/ogc/collections/parcels/items?limit=300")
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert all(f["properties"]["dkbm"] == f["id"] for f in features)


def test_another_townships_parcel_is_not_found(demo, login):
    other = Parcel.objects.filter(dkbm__startswith=demo.other_township, valid_to__isnull=True).first()
    own = Parcel.objects.filter(dkbm__startswith=demo.township, valid_to__isnull=True).first()
    client = login("township")
    assert client.get(f"/ogc/collections/parcels/items/{own.dkbm}").status_code == 200
    assert client.get(f"/ogc/collections/parcels/items/{other.dkbm}").status_code == 404
    issuers = _all_pages(client, "/ogc/collections/issuers/items?limit=1000")
    assert issuers and all(f["id"].startswith(demo.township) for f in issuers)
    assert login("county").get(f"/ogc/collections/parcels/items/{other.dkbm}").status_code == 200


def test_bbox_selects_the_parcels_that_intersect_it(demo, login):
    own = Parcel.objects.filter(dkbm__startswith=demo.township, valid_to__isnull=True).order_by("id")[50]
    c = own.geom.centroid
    box = (c.x - 0.002, c.y - 0.0015, c.x + 0.002, c.y + 0.0015)
    expected = set(
        Parcel.objects.filter(
            dkbm__startswith=demo.township, valid_to__isnull=True, geom__intersects=Polygon.from_bbox(box)
        ).values_list("dkbm", flat=True)
    )
    assert 3 < len(expected) < 500
    client = login("township")
    got = _all_pages(client, "/ogc/collections/parcels/items?limit=7&bbox=" + ",".join(map(str, box)))
    assert {f["id"] for f in got} == expected
    # the same box given in EPSG:4490 takes latitude first
    lat_first = ",".join(map(str, (box[1], box[0], box[3], box[2])))
    got = _all_pages(client, f"/ogc/collections/parcels/items?limit=1000&bbox={lat_first}&bbox-crs={_epsg(4490)}")
    assert {f["id"] for f in got} == expected


def test_coordinates_in_the_asked_crs_and_axis_order(demo, login):
    client = login("township")
    own = Parcel.objects.filter(dkbm__startswith=demo.township, valid_to__isnull=True).first()
    url = f"/ogc/collections/parcels/items/{own.dkbm}"
    lonlat = client.get(url).json()["geometry"]["coordinates"][0][0]
    assert client.get(url)["Content-Crs"] == f"<{CRS84}>"
    latlon = client.get(f"{url}?crs={_epsg(4490)}").json()["geometry"]["coordinates"][0][0]
    resp = client.get(f"{url}?crs={_epsg(4546)}")
    assert resp["Content-Crs"] == f"<{_epsg(4546)}>"
    plane = resp.json()["geometry"]["coordinates"][0][0]
    to_zone = Transformer.from_crs(4490, 4546)  # authority axis order: (lat, lon) → (northing, easting)
    for (lon, lat), (la, lo), (n, e) in zip(lonlat, latlon, plane, strict=True):
        assert (la, lo) == (lat, lon)
        expect_n, expect_e = to_zone.transform(lat, lon)
        assert abs(n - expect_n) < 0.002 and abs(e - expect_e) < 0.002  # millimetres
        assert 2_700_000 < n < 2_800_000 and 300_000 < e < 500_000  # northing first, no zone prefix


def test_bad_parameters_get_an_ogc_exception(demo, login):
    client = login("township")
    for query, status in (
        ("crs=http://www.opengis.net/def/crs/EPSG/0/3857", 400),
        ("crs=EPSG:4525", 400),  # another county's zone
        ("bbox=1,2,3", 400),
        ("bbox=110,25,109,24", 400),
        ("limit=0", 400),
        ("limit=abc", 400),
    ):
        resp = client.get(f"/ogc/collections/parcels/items?{query}")
        assert resp.status_code == status, query
        assert resp.json()["code"] == "InvalidParameterValue"
    assert login("county").get("/ogc/collections/parcels/items?limit=5000").json()["numberReturned"] == 1000


def test_tokens_for_gis_clients(demo, client):
    token = client.post("/accounts/token/", {"username": "township", "password": "tianjie-demo"}).json()["token"]

    def basic(user: str, password: str) -> dict:
        return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    url = "/ogc/collections/parcels/items?limit=1"
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert client.get(url, **basic("township", token)).status_code == 200
    assert client.get(url, **basic("county", token)).status_code == 401  # the token is township's
    assert client.get(url, **basic("township", "tianjie-demo")).status_code == 401  # never the password
    assert client.get(url, HTTP_AUTHORIZATION="Basic ???").status_code == 401


def test_issuers_carry_no_personal_data(demo, login):
    feature = login("county").get("/ogc/collections/issuers/items?limit=1").json()["features"][0]
    issuer = Issuer.objects.get(fbfbm=feature["id"])
    text = json.dumps(feature, ensure_ascii=False)
    assert set(feature["properties"]) == {"fbfbm", "name", "address", "postcode"}
    for private in (issuer.person_in_charge, issuer.phone):
        assert not private or private not in text


@pytest.fixture(scope="module")
def township_token(django_db_blocker):
    from rest_framework.authtoken.models import Token

    with django_db_blocker.unblock():
        token, _ = Token.objects.get_or_create(user=User.objects.get(username="township"))
    yield token.key
    with django_db_blocker.unblock():
        Token.objects.filter(key=token.key).delete()


def test_gdal_reads_the_parcels(demo, server, township_token):
    url = f"OAPIF:{server}/ogc"
    auth = ["-oo", f"USERPWD=township:{township_token}", "-oo", "PAGE_SIZE=1000"]
    summary = subprocess.run(
        ["ogrinfo", "-ro", "-so", *auth, url, "parcels"], capture_output=True, text=True, timeout=120, check=False
    )
    assert summary.returncode == 0, summary.stderr
    expected = Parcel.objects.filter(dkbm__startswith=demo.township, valid_to__isnull=True)
    assert f"Feature Count: {expected.count()}" in summary.stdout
    assert "scmjm: Real" in summary.stdout

    own = expected.order_by("id")[10]
    x0, y0, x1, y1 = own.geom.buffer(0.0005).extent
    features = subprocess.run(
        ["ogrinfo", "-ro", "-q", *auth, "-spat", str(x0), str(y0), str(x1), str(y1), url, "parcels"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert features.returncode == 0, features.stderr
    got = {line.split("=")[1].strip() for line in features.stdout.splitlines() if line.strip().startswith("dkbm (")}
    wanted = set(expected.filter(geom__intersects=Polygon.from_bbox((x0, y0, x1, y1))).values_list("dkbm", flat=True))
    assert own.dkbm in got and got == wanted

    refused = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-oo", "USERPWD=township:wrong", url, "parcels"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0 and "401" in refused.stderr
