"""Parcel tiles, GeoJSON pages, cards and search, as the map and GIS clients use them."""

from decimal import Decimal

import mapbox_vector_tile
from django.db import connection

from conftest import lonlat_to_tile
from spatial.models import Parcel


def _some_parcel(prefix: str) -> Parcel:
    return Parcel.objects.filter(dkbm__startswith=prefix, valid_to__isnull=True).order_by("dkbm")[10]


def test_tile_attributes_grow_with_zoom_and_groups_show_below_parcel_zoom(demo, login):
    client = login("county")
    p = _some_parcel(demo.township)
    c = p.geom.point_on_surface
    layers = {}
    for z in (12, 14, 16):
        x, y = lonlat_to_tile(c.x, c.y, z)
        resp = client.get(f"/tiles/parcels/{z}/{x}/{y}.mvt")
        assert resp["Content-Type"] == "application/vnd.mapbox-vector-tile"
        layers[z] = mapbox_vector_tile.decode(resp.content)
    assert "groups" in layers[12] and "parcels" not in layers[12]
    light = next(f for f in layers[14]["parcels"]["features"] if f["id"] == p.id)
    assert set(light["properties"]) == {"dklb", "tdlylx"}
    full = next(f for f in layers[16]["parcels"]["features"] if f["id"] == p.id)
    assert full["properties"]["dkbm"] == p.dkbm and full["properties"]["mu"] == float(p.scmjm)
    assert not any("id_number" in k for f in layers[16]["parcels"]["features"] for k in f["properties"])


def test_tiles_carry_cache_headers_and_answer_304_to_a_matching_etag(demo, login):
    client = login("county")
    c = _some_parcel(demo.township).geom.point_on_surface
    x, y = lonlat_to_tile(c.x, c.y, 15)
    first = client.get(f"/tiles/parcels/15/{x}/{y}.mvt")
    assert first["Cache-Control"].startswith("private, max-age=")
    again = client.get(f"/tiles/parcels/15/{x}/{y}.mvt", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_bad_tile_address_is_a_clear_error(login, demo):
    resp = login("county").get("/tiles/parcels/3/99/0.mvt")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_code"


def test_parcel_card_has_what_the_map_shows(demo, login):
    p = _some_parcel(demo.township)
    card = login("county").get(f"/api/parcels/{p.id}/").json()
    assert card["dkbm"] == p.dkbm and card["dkmc"] == p.dkmc
    assert card["scmj"] == f"{p.scmj:.2f}" and card["scmjm"] == f"{p.scmjm:.2f}"
    assert set(card["four_sides"]) == {"east", "west", "south", "north"}
    assert card["contractor"]["cbfbm"][:14] == p.dkbm[:14]
    masked = card["contractor"]["id_number_masked"]
    assert masked[3:14] == "*" * 11 and len(masked) == 18
    assert card["land_class"].startswith("10")


def test_search_by_full_code_last_five_and_contractor_name(demo, login):
    client = login("county")
    p = _some_parcel(demo.township)
    assert [r["dkbm"] for r in client.get("/api/parcels/search/", {"q": p.dkbm}).json()["results"]] == [p.dkbm]
    last5 = client.get("/api/parcels/search/", {"q": p.dkbm[-5:]}).json()["results"]
    assert p.dkbm in {r["dkbm"] for r in last5} and all(r["dkbm"].endswith(p.dkbm[-5:]) for r in last5)
    name = client.get(f"/api/parcels/{p.id}/").json()["contractor"]["name"]
    by_name = client.get("/api/parcels/search/", {"q": name}).json()["results"]
    assert p.dkbm in {r["dkbm"] for r in by_name}
    assert all(r["contractor"]["name"] == name for r in by_name)
    bad = client.get("/api/parcels/search/", {"q": "123"})
    assert bad.status_code == 400 and "19" in bad.json()["error"]["message"]


def test_geojson_page_is_bounded_and_links_to_the_next_page(demo, login):
    client = login("county")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) e FROM spatial_parcel) s"
        )
        bbox = ",".join(str(v) for v in cur.fetchone())
    resp = client.get("/api/parcels/", {"bbox": bbox, "limit": 50})
    assert resp["Content-Type"] == "application/geo+json"
    page = resp.json()
    assert page["type"] == "FeatureCollection" and len(page["features"]) == 50
    assert page["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert "offset=50" in resp["Link"]
    second = client.get("/api/parcels/", {"bbox": bbox, "limit": 50, "offset": 50}).json()
    assert {f["id"] for f in page["features"]}.isdisjoint({f["id"] for f in second["features"]})
    assert client.get("/api/parcels/", {"bbox": "1,2,3"}).status_code == 400
    huge = client.get("/api/parcels/", {"bbox": bbox, "limit": 100000}).json()
    assert len(huge["features"]) == 1000  # the page size is capped


def test_parcel_at_a_point_returns_that_parcel(demo, login):
    p = _some_parcel(demo.township)
    c = p.geom.point_on_surface
    assert login("county").get("/api/parcels/at/", {"lon": c.x, "lat": c.y}).json()["dkbm"] == p.dkbm
    assert login("county").get("/api/parcels/at/", {"lon": "east"}).status_code == 400


def test_openapi_schema_and_docs_page(client, demo):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/parcels/search/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_healthz_checks_database_and_redis(client, db):
    data = client.get("/healthz").json()
    assert data["status"] == "ok" and data["database"].startswith("ok") and data["redis"] == "ok"


def test_scmj_is_the_area_in_the_county_plane(demo):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(abs(scmj - ST_Area(ST_Transform(geom, 4546)))), "
            "bool_and(scmjm = round(scmj * 0.0015, 2)) FROM spatial_parcel"
        )
        worst, mu_ok = cur.fetchone()
    assert worst <= Decimal("0.005") + Decimal("0.0001") and mu_ok
