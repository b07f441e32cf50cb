"""The lean WSGI tile path gives exactly what the Django view gives, and only to a known session."""

import pytest
from django.conf import settings
from django.test import RequestFactory

import config.wsgi as wsgi
from accounts.selectors import _tile_scope
from conftest import lonlat_to_tile
from spatial.models import Parcel


@pytest.fixture(autouse=True)
def _connection_kept(keep_test_connection):
    return keep_test_connection


def _call(path: str, cookie: str | None) -> tuple[str, dict, bytes]:
    environ = RequestFactory().get(path).environ
    environ["SERVER_NAME"] = "localhost"
    environ["HTTP_HOST"] = "localhost"
    if cookie:
        environ["HTTP_COOKIE"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    got = {}

    def start_response(status, headers):
        got["status"], got["headers"] = status, dict(headers)

    body = b"".join(wsgi.application(environ, start_response))
    return got["status"], got["headers"], body


@pytest.fixture
def tile_path(demo):
    p = Parcel.objects.filter(dkbm__startswith=demo.township).order_by("dkbm")[3]
    c = p.geom.point_on_surface
    x, y = lonlat_to_tile(c.x, c.y, 16)
    return f"/tiles/parcels/16/{x}/{y}.mvt"


def test_known_session_is_served_without_django_and_gets_the_same_tile(client, tile_path, monkeypatch):
    from accounts.models import User

    path = tile_path
    client.force_login(User.objects.get(username="township"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    _tile_scope.pop(session, None)
    status, _, first = _call(path, session)  # through Django: resolves and remembers the scope
    assert status.startswith("200")

    def no_django(environ, start_response):
        raise AssertionError("the lean path should have answered")

    monkeypatch.setattr(wsgi, "django_app", no_django)
    status, headers, again = _call(path, session)
    assert status.startswith("200") and headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert again == first == client.get(path).content
    status, _, _ = _call(path.replace("/16/", "/40/"), session)
    assert status.startswith("400")


def test_unknown_session_goes_to_django_and_is_refused(tile_path):
    path = tile_path
    status, _, body = _call(path, "no-such-session")
    assert status.startswith("401") and b"not_authenticated" in body
    status, _, _ = _call(path, None)
    assert status.startswith("401")


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ('sessionid="unterminated; other=1', None),
        ("; ;sessionid", None),
        ("\x00sessionid=zz", None),
        ("sessionid=abc; x=$$$;", "abc"),
        ("other=1; sessionid=ok123", "ok123"),
    ],
)
def test_session_key_from_odd_cookie_headers(header, key):
    assert wsgi._session_key({"HTTP_COOKIE": header}) == key  # never raises; unknown keys fall through to Django
