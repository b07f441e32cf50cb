"""A township officer sees and acts only inside their township: by id, by tile, by search, by point."""

import mapbox_vector_tile
import pytest

from accounts.models import Office, Role, User
from accounts.scoping import ensure_can, scope_prefixes
from accounts.services import office_assign
from conftest import lonlat_to_tile
from core.errors import CodeError, PermissionDeniedError
from spatial.models import Parcel, Region


def _parcel_in(prefix: str) -> Parcel:
    return Parcel.objects.filter(dkbm__startswith=prefix, valid_to__isnull=True).order_by("dkbm").first()


def _tile_ids(client, parcel: Parcel, z: int = 16) -> set[int]:
    c = parcel.geom.point_on_surface
    x, y = lonlat_to_tile(c.x, c.y, z)
    resp = client.get(f"/tiles/parcels/{z}/{x}/{y}.mvt")
    assert resp.status_code == 200
    layers = mapbox_vector_tile.decode(resp.content) if resp.content else {}
    return {f["id"] for f in layers.get("parcels", {}).get("features", [])}


def test_township_scope_is_its_code(demo):
    user = User.objects.get(username="township")
    assert scope_prefixes(user) == [demo.township]


def test_township_reads_its_own_parcel_but_not_another_townships_by_id(demo, login):
    client = login("township")
    own, other = _parcel_in(demo.township), _parcel_in(demo.other_township)
    assert client.get(f"/api/parcels/{own.id}/").json()["dkbm"] == own.dkbm
    resp = client.get(f"/api/parcels/{other.id}/")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_township_tiles_hold_own_parcels_only(demo, login):
    own, other = _parcel_in(demo.township), _parcel_in(demo.other_township)
    assert own.id in _tile_ids(login("township"), own)
    assert other.id not in _tile_ids(login("township"), other)
    # The same tile does carry that parcel for the county bureau, so the tile really covers it.
    assert other.id in _tile_ids(login("county"), other)


def test_township_cannot_find_another_townships_parcel_by_search_or_point(demo, login):
    client = login("township")
    other = _parcel_in(demo.other_township)
    assert client.get("/api/parcels/search/", {"q": other.dkbm}).json()["results"] == []
    assert all(
        r["dkbm"].startswith(demo.township)
        for r in client.get("/api/parcels/search/", {"q": other.dkbm[-5:]}).json()["results"]
    )
    c = other.geom.point_on_surface
    assert client.get("/api/parcels/at/", {"lon": c.x, "lat": c.y}).status_code == 404
    county = login("county")
    assert county.get("/api/parcels/at/", {"lon": c.x, "lat": c.y}).json()["dkbm"] == other.dkbm


def test_township_geojson_page_is_scoped(demo, login):
    other = _parcel_in(demo.other_township)
    e = other.geom.extent
    bbox = ",".join(str(v) for v in e)
    own_view = login("township").get("/api/parcels/", {"bbox": bbox}).json()
    assert all(f["properties"]["dkbm"].startswith(demo.township) for f in own_view["features"])
    county_view = login("county").get("/api/parcels/", {"bbox": bbox}).json()
    assert other.dkbm in {f["properties"]["dkbm"] for f in county_view["features"]}


def test_township_cannot_act_outside_its_region(demo):
    user = User.objects.get(username="township")
    ensure_can(user, "parcels.view", demo.township + "200")
    with pytest.raises(PermissionDeniedError):
        ensure_can(user, "parcels.view", demo.other_township + "200")
    with pytest.raises(PermissionDeniedError):  # a township may view but not edit parcels
        ensure_can(user, "parcels.edit", demo.township + "200")


def test_township_officer_cannot_assign_offices(demo):
    actor = User.objects.get(username="township")
    target = User.objects.create_user("newcomer", password="x-123456-y")
    with pytest.raises(PermissionDeniedError):
        office_assign(actor=actor, user=target, role=Role.TOWNSHIP, region=Region.objects.get(code=demo.township))
    assert not Office.objects.filter(user=target).exists()


def test_role_must_sit_at_its_level(demo):
    target = User.objects.create_user("newcomer2", password="x-123456-y")
    with pytest.raises(CodeError):
        office_assign(actor=None, user=target, role=Role.TOWNSHIP, region=Region.objects.get(code=demo.county))


def test_anonymous_gets_no_tiles_and_no_api(client, demo):
    assert client.get("/tiles/parcels/16/0/0.mvt").status_code == 401
    assert client.get("/api/parcels/1/").status_code in (401, 403)
    assert client.get("/").status_code == 302


def test_farmer_sees_own_group_and_masked_ids_only(demo, login):
    client = login("farmer")
    office = Office.objects.get(user__username="farmer")
    own = _parcel_in(office.region.code)
    card = client.get(f"/api/parcels/{own.id}/").json()
    assert "*" in card["contractor"]["id_number_masked"]
    other = Parcel.objects.exclude(dkbm__startswith=office.region.code).filter(valid_to__isnull=True).first()
    assert client.get(f"/api/parcels/{other.id}/").status_code == 404


def test_each_demo_role_is_scoped_to_its_region(demo):
    expected_length = {
        "county": 6,
        "ziyuan": 6,
        "township": 9,
        "township2": 9,
        "village": 12,
        "group": 14,
        "surveyor": 6,
        "farmer": 14,
    }
    for username, length in expected_length.items():
        prefixes = scope_prefixes(User.objects.get(username=username))
        assert len(prefixes) == 1 and len(prefixes[0]) == length and prefixes[0].startswith(demo.county), username


def test_village_officer_sees_only_their_village(demo, login):
    from accounts.tests.factories import office_for

    villages = [
        v
        for v in Region.objects.filter(code__startswith=demo.township, level="village").order_by("code")
        if _parcel_in(v.code) is not None
    ][:2]
    office = office_for(role=Role.VILLAGE, region_code=villages[0].code)
    client = login(office.user.username)
    assert client.get(f"/api/parcels/{_parcel_in(villages[0].code).id}/").status_code == 200
    assert client.get(f"/api/parcels/{_parcel_in(villages[1].code).id}/").status_code == 404


def test_a_second_office_widens_the_scope(demo):
    from accounts.tests.factories import office_for

    office = office_for(role=Role.TOWNSHIP, region_code=demo.township)
    office_for(role=Role.TOWNSHIP, region_code=demo.other_township, user=office.user)
    user = User.objects.get(pk=office.user.pk)
    assert scope_prefixes(user) == sorted([demo.township, demo.other_township])


def test_api_token_login_is_scoped_like_the_session(demo, client):
    resp = client.post("/accounts/token/", {"username": "township", "password": "tianjie-demo"})
    token = resp.json()["token"]
    own, other = _parcel_in(demo.township), _parcel_in(demo.other_township)
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.get(f"/api/parcels/{own.id}/", **auth).status_code == 200
    assert client.get(f"/api/parcels/{other.id}/", **auth).status_code == 404
    x, y = lonlat_to_tile(own.geom.point_on_surface.x, own.geom.point_on_surface.y, 16)
    assert own.id in {
        f["id"]
        for f in mapbox_vector_tile.decode(client.get(f"/tiles/parcels/16/{x}/{y}.mvt", **auth).content)["parcels"][
            "features"
        ]
    }
    assert client.post("/accounts/token/", {"username": "township", "password": "wrong"}).status_code == 400


def test_region_tiles_show_the_whole_county_outline_but_no_people(demo, login):
    from conftest import lonlat_to_tile as tile_of

    other = _parcel_in(demo.other_township)
    c = other.geom.point_on_surface
    x, y = tile_of(c.x, c.y, 13)
    layers = mapbox_vector_tile.decode(login("township").get(f"/tiles/regions/13/{x}/{y}.mvt").content)
    codes = {f["properties"]["code"] for f in layers["regions"]["features"]}
    assert any(code.startswith(demo.other_township) for code in codes)  # boundaries are not personal data
    assert all(set(f["properties"]) <= {"code", "name", "level"} for f in layers["regions"]["features"])
