"""Imagery behind the access check: county users see their county's layers, everyone sees public ones,
nobody sees another county's; a known session is served without Django (no query per tile)."""

from pathlib import Path

import morecantile
import pytest
import rasterio
from django.conf import settings
from django.test import RequestFactory

import config.wsgi as wsgi
from accounts.models import User
from accounts.selectors import _tile_scope
from imagery.access import requested_layers
from imagery.ingest import imagery_ingest
from imagery.mapproxy import native_zoom
from spatial import services as spatial_services

FIXTURES = Path(__file__).parent / "fixtures"
TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture
def layers(demo, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.IMAGERY_ROOT = tmp_path / "imagery"
    spatial_services.region_create(actor=None, code="450327", name="邻县", level="county", parent=None)
    with django_capture_on_commit_callbacks(execute=True):
        for name, county, public in (("own", "450326", False), ("other", "450327", False), ("open", "450327", True)):
            imagery_ingest(
                actor=None,
                path=FIXTURES / "cogeo.tif",
                county_code=county,
                name=name,
                public=public,
                progress=lambda m: None,
            )
    with rasterio.open(settings.IMAGERY_ROOT / "own.tif") as src:
        z = native_zoom(settings.IMAGERY_ROOT / "own.tif")
        b = src.bounds
        tile = TMS.tile(*TMS.lnglat((b.left + b.right) / 2, (b.bottom + b.top) / 2), z)
    return lambda layer: f"/imagery/wmts/{layer}/webmercator/{tile.z}/{tile.x}/{tile.y}.png"


def test_the_layers_a_request_names():
    assert requested_layers("/wmts/own/webmercator/1/2/3.png", "") == ["own"]
    assert requested_layers("/tms/1.0.0/own/webmercator/1/2/3.png", "") == ["own"]
    assert requested_layers("/service", "SERVICE=WMS&REQUEST=GetMap&LAYERS=own,other") == ["own", "other"]
    assert requested_layers("/wmts/1.0.0/WMTSCapabilities.xml", "") == []


def test_county_users_see_their_county_and_public_layers_only(client, layers):
    anonymous = client.get(layers("own"))
    assert anonymous.status_code == 401 and b"PNG" not in anonymous.content
    assert client.get(layers("open")).status_code == 200  # public: the publicity pages
    assert client.get("/imagery/wmts/1.0.0/WMTSCapabilities.xml").status_code == 401
    for username in ("county", "township", "village"):
        client.force_login(User.objects.get(username=username))
        own = client.get(layers("own"))
        assert own.status_code == 200 and own["Content-Type"] == "image/png", username
        assert client.get(layers("other")).status_code == 404, username  # another county's: as if absent
    caps = client.get("/imagery/wmts/1.0.0/WMTSCapabilities.xml")
    assert caps.status_code == 200 and b"<Capabilities" in caps.content


def test_gis_clients_send_an_api_token_as_the_basic_password(client, layers):
    import base64

    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=User.objects.get(username="township")).key
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"township:{key}".encode()).decode()}
    anonymous = client.get("/imagery/wmts/1.0.0/WMTSCapabilities.xml")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Basic")
    assert client.get("/imagery/wmts/1.0.0/WMTSCapabilities.xml", **auth).status_code == 200
    assert client.get(layers("own"), **auth).status_code == 200
    assert client.get(layers("other"), **auth).status_code == 404


def _call(path: str, cookie: str | None, authorization: str | None = None) -> tuple[str, bytes]:
    environ = RequestFactory().get(path).environ
    environ["SERVER_NAME"] = environ["HTTP_HOST"] = "localhost"
    if cookie:
        environ["HTTP_COOKIE"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    got = {}

    def start_response(status, headers):
        got["status"] = status

    body = b"".join(wsgi.application(environ, start_response))
    return got["status"], body


def test_a_known_session_is_served_without_django(client, layers, monkeypatch, keep_test_connection):
    client.force_login(User.objects.get(username="township"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    _tile_scope.pop(session, None)
    status, first = _call(layers("own"), session)  # through Django: resolves and remembers the scope
    assert status.startswith("200")

    def no_django(environ, start_response):
        raise AssertionError("went through Django")

    monkeypatch.setattr(wsgi, "django_app", no_django)
    status, again = _call(layers("own"), session)
    assert status.startswith("200") and again == first
    with pytest.raises(AssertionError, match="through Django"):  # not allowed here: Django decides (404)
        _call(layers("other"), session)
    status, _ = _call(layers("open"), None)  # public: no session needed
    assert status.startswith("200")


def test_a_known_api_token_is_served_without_django(layers, monkeypatch, keep_test_connection):
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=User.objects.get(username="township")).key
    status, first = _call(layers("own"), None, f"Token {key}")  # through Django: resolves and remembers
    assert status.startswith("200")

    def no_django(environ, start_response):
        raise AssertionError("went through Django")

    monkeypatch.setattr(wsgi, "django_app", no_django)
    status, again = _call(layers("own"), None, f"Token {key}")
    assert status.startswith("200") and again == first
    with pytest.raises(AssertionError, match="through Django"):  # another token: Django resolves it
        _call(layers("own"), None, f"Token {key[:-1]}x")
