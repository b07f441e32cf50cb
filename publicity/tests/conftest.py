"""Fixtures of the publicity tests: real field parcels in four groups of a test village, and people."""

from datetime import date
from pathlib import Path

import fiona
import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry
from pyproj import Transformer
from shapely.geometry import shape

from accounts.models import Role, User
from accounts.tests.factories import office_for
from spatial import services as spatial
from spatial.models import Region

NL = Path(__file__).resolve().parents[2] / "exchange" / "tests" / "fixtures" / "nl_referentiepercelen"
VILLAGE = "450326100299"  # a test village of the demo county, away from the demo parcels
GROUPS = [f"{VILLAGE}{g:02d}" for g in (1, 2, 3, 4)]


@pytest.fixture
def dutch_fields(demo):
    """The 100 Dutch reference parcels (56 pairs sharing an edge) moved into Yongfu's plane, south of the
    demo parcels, dealt to four groups in turn (so that many shared edges lie between two groups);
    returns the plane geometries and the group of each."""
    with fiona.open(NL / "referentiepercelen.gpkg") as src:
        geoms = [shape(f["geometry"]) for f in src]
    cx, cy = shapely.centroid(shapely.union_all(geoms)).coords[0]
    geoms = [shapely.affinity.translate(g, 396000 - cx, 2745000 - cy) for g in geoms]
    group_of = [GROUPS[i % 4] for i in range(len(geoms))]
    village = spatial.region_create(
        actor=None, code=VILLAGE, name="荷兰村", level="village", parent=Region.objects.get(code=demo.township)
    )
    to_4490 = Transformer.from_crs(4546, 4490, always_xy=True)
    issuers = {}
    for code in GROUPS:
        region = spatial.region_create(actor=None, code=code, name=f"荷兰{code[-2:]}组", level="group", parent=village)
        issuers[code] = spatial.issuer_create(
            actor=None, fbfbm=code, name=f"荷兰{code[-2:]}组", region=region, person_in_charge="组长"
        )
    seq = dict.fromkeys(GROUPS, 0)
    for g, code in zip(geoms, group_of, strict=True):
        seq[code] += 1
        lonlat = shapely.transform(g, lambda xy: np.column_stack(to_4490.transform(xy[:, 0], xy[:, 1])))
        spatial.parcel_create(
            actor=None,
            issuer=issuers[code],
            dkbm=f"{code}{seq[code]:05d}",
            dkmc="荷兰田",
            geom=GEOSGeometry(lonlat.wkt, srid=4490),
        )
    return geoms, group_of


@pytest.fixture
def people(dutch_fields):
    """An officer of group 01 (the owner), a farmer of group 02 (a neighbour), a farmer of the demo
    county's far group (not in the audience)."""
    # reloaded: the factory sets the password after saving, so the in-memory users would not log in
    officer = User.objects.get(pk=office_for(role=Role.GROUP_ISSUER, region_code=GROUPS[0]).user.pk)
    neighbour = User.objects.get(
        pk=office_for(role=Role.FARMER, region_code=GROUPS[1], contractor_code=f"{GROUPS[1]}0001").user.pk
    )
    stranger = User.objects.get(username="farmer")  # 金源村江坪组, far north
    return officer, neighbour, stranger


class _Today:
    """`date` with a fixed today(), for the services' default posting day."""

    def __init__(self, today: date) -> None:
        self._today = today

    def today(self) -> date:
        return self._today

    def __call__(self, *args, **kwargs):
        return date(*args, **kwargs)

    def fromisoformat(self, raw: str) -> date:
        return date.fromisoformat(raw)
