"""Registry writes: bad input gets a typed error and changes nothing; changes make new versions."""

from contextlib import contextmanager

import pytest
from django.contrib.gis.geos import GEOSGeometry, Polygon

from accounts.models import User
from audit.models import AuditEvent
from core.errors import CodeError, DuplicateCodeError, GeometryError, PermissionDeniedError
from spatial.models import Issuer, Parcel, VersionStatus
from spatial.services import parcel_create, parcel_revise

SQUARE = "SRID=4490;POLYGON((110.0 25.0, 110.0003 25.0, 110.0003 25.0003, 110.0 25.0003, 110.0 25.0))"
BOWTIE = "SRID=4490;POLYGON((110.0 25.0, 110.0003 25.0003, 110.0003 25.0, 110.0 25.0003, 110.0 25.0))"


@pytest.fixture
def issuer(demo):
    return Issuer.objects.filter(fbfbm__startswith=demo.township).order_by("fbfbm").first()


def _next_code(issuer: Issuer) -> str:
    last = Parcel.objects.filter(issuer=issuer).order_by("-dkbm").values_list("dkbm", flat=True).first()
    return f"{issuer.fbfbm}{int(last[14:]) + 1:05d}"


@contextmanager
def _unchanged():
    """The block must raise (checked by the caller) and leave parcels and the audit log as they were."""
    before = (Parcel.objects.count(), AuditEvent.objects.count())
    yield
    assert (Parcel.objects.count(), AuditEvent.objects.count()) == before


def test_new_parcel_gets_its_area_from_the_county_plane(issuer):
    county = User.objects.get(username="county")
    p = parcel_create(actor=county, issuer=issuer, dkbm=_next_code(issuer), dkmc="新开田", geom=SQUARE)
    # About 30.3 m × 33.4 m at 25°N; SCMJ in EPSG:4546, SCMJM from it.
    assert 950 < p.scmj < 1070
    assert p.scmjm == (p.scmj * 15 / 10000).quantize(p.scmjm)
    assert AuditEvent.objects.filter(action="parcel.created", subject_id=str(p.pk)).exists()


@pytest.mark.parametrize(
    ("geom", "error"),
    [
        (BOWTIE, GeometryError),  # self-intersecting
        ("SRID=4326;" + SQUARE[10:], GeometryError),  # wrong CRS
        ("POLYGON((0 0, 1 0, 1 1, 0 0))", GeometryError),  # no CRS
        ("SRID=4490;POINT(110 25)", GeometryError),  # not a polygon
        ("not a geometry", GeometryError),
    ],
)
def test_bad_geometry_is_refused_and_nothing_changes(issuer, geom, error):
    county = User.objects.get(username="county")
    code = _next_code(issuer)
    with _unchanged(), pytest.raises(error):
        parcel_create(actor=county, issuer=issuer, dkbm=code, dkmc="x", geom=geom)


def test_duplicate_or_foreign_dkbm_is_refused(issuer):
    county = User.objects.get(username="county")
    existing = Parcel.objects.filter(issuer=issuer).first().dkbm
    with _unchanged(), pytest.raises(DuplicateCodeError):
        parcel_create(actor=county, issuer=issuer, dkbm=existing, dkmc="x", geom=SQUARE)
    foreign = "45032610120001" + "00001"
    with _unchanged(), pytest.raises(CodeError):
        parcel_create(actor=county, issuer=issuer, dkbm=foreign, dkmc="x", geom=SQUARE)


def test_township_may_not_create_parcels(issuer):
    township = User.objects.get(username="township")
    with _unchanged(), pytest.raises(PermissionDeniedError):
        parcel_create(
            actor=township,
            issuer=issuer,
            dkbm=_next_code(issuer),
            dkmc="x",
            geom=SQUARE,
        )


def test_revision_keeps_history_with_validity_interval(issuer):
    county = User.objects.get(username="county")
    old = Parcel.objects.filter(issuer=issuer, valid_to__isnull=True).first()
    smaller = GEOSGeometry(old.geom.ewkt).buffer(-0.00002)
    assert isinstance(smaller, Polygon)
    new = parcel_revise(actor=county, parcel=old, geom=smaller, dkmc="改名田")
    old.refresh_from_db()
    assert old.valid_to == new.valid_from and old.status == VersionStatus.SUPERSEDED
    assert new.version == old.version + 1 and new.dkbm == old.dkbm and new.dkmc == "改名田"
    assert new.scmj < old.scmj
    assert Parcel.objects.filter(dkbm=old.dkbm, valid_to__isnull=True).get() == new
    with pytest.raises(CodeError):
        parcel_revise(actor=county, parcel=old, dkmc="again")


def test_a_revised_parcel_keeps_its_contractor_on_the_card(issuer, client):
    county = User.objects.get(username="county")
    old = Parcel.objects.filter(issuer=issuer, valid_to__isnull=True).order_by("dkbm").first()
    client.force_login(county)
    before = client.get(f"/api/parcels/{old.id}/").json()["contractor"]
    new = parcel_revise(actor=county, parcel=old, dkmc="改名田")
    after = client.get(f"/api/parcels/{new.id}/").json()
    assert after["contractor"] == before and after["dkmc"] == "改名田"
    assert client.get(f"/api/parcels/{old.id}/").status_code == 404  # the card shows current versions only
