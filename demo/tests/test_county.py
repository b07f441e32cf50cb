"""The demo county is realistic: nested codes, a gap-free tessellation, valid IDs, consistent areas."""

from collections import Counter

import pytest
from django.db import connection

from audit.models import AuditEvent
from contracts.models import Contract, Contractor, FamilyMember
from core.codes import validate_resident_id
from core.errors import DuplicateCodeError
from demo.load import demo_county_generate
from spatial.models import Issuer, Parcel, Region


def _one(sql: str, params: list | None = None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()


def test_yongfu_structure(demo):
    levels = Counter(Region.objects.filter(code__startswith=demo.county).values_list("level", flat=True))
    assert levels["county"] == 1 and levels["township"] == 9 and levels["village"] == 97
    assert levels["group"] >= 3 * 97
    assert Region.objects.get(code=demo.township).name == "永福镇"
    assert Issuer.objects.count() == levels["group"]


def test_codes_nest_by_prefix(demo):
    bad = _one("""
        SELECT count(*) FROM spatial_region r JOIN spatial_region p ON p.id = r.parent_id
        WHERE left(r.code, length(p.code)) <> p.code""")[0]
    assert bad == 0
    assert (
        _one(
            "SELECT count(*) FROM spatial_parcel p JOIN spatial_issuer i ON i.id = p.issuer_id "
            "WHERE left(p.dkbm, 14) <> i.fbfbm OR length(p.dkbm) <> 19"
        )[0]
        == 0
    )
    assert (
        _one(
            "SELECT count(*) FROM contracts_contractor c JOIN spatial_issuer i ON i.id = c.issuer_id "
            "WHERE left(c.cbfbm, 14) <> i.fbfbm OR length(c.cbfbm) <> 18"
        )[0]
        == 0
    )
    assert (
        _one(
            "SELECT count(*) FROM contracts_contract WHERE cbhtbm <> (SELECT cbfbm FROM contracts_contractor c "
            "WHERE c.id = contractor_id) || 'J'"
        )[0]
        == 0
    )


def test_parcels_tessellate_without_overlaps_or_gaps(demo):
    # No two parcels share interior area (0.01 m² tolerance in the county plane).
    overlaps = _one("""
        SELECT count(*) FROM spatial_parcel a JOIN spatial_parcel b
          ON a.id < b.id AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
        WHERE ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 4546)) >= 0.01""")[0]
    assert overlaps == 0
    assert _one("SELECT bool_and(ST_IsValid(geom)) FROM spatial_parcel")[0]
    # Group territories partition the county: their areas add up to the county's.
    county, groups = _one("""
        SELECT (SELECT ST_Area(ST_Transform(outline, 4546)) FROM spatial_region WHERE level = 'county'),
               (SELECT sum(ST_Area(ST_Transform(outline, 4546))) FROM spatial_region WHERE level = 'group')""")
    assert abs(county - groups) / county < 1e-6
    # Every parcel lies inside its own group's territory.
    outside = _one("""
        SELECT count(*) FROM spatial_parcel p JOIN spatial_issuer i ON i.id = p.issuer_id
        WHERE ST_Area(ST_Difference(ST_Transform(p.geom, 4546), ST_Transform(i.territory, 4546))) > 0.01""")[0]
    assert outside == 0


def test_group_territories_are_contiguous(demo):
    assert _one("SELECT count(*) FROM spatial_region WHERE level = 'group' AND ST_NumGeometries(outline) <> 1")[0] == 0
    # Territories do not overlap one another. Topology is checked in the county plane, where the edges
    # were drawn straight (in EPSG:4490 a long straight edge bends by millimetres: docs/ARCHITECTURE.md).
    overlaps = _one("""
        SELECT count(*) FROM spatial_region a JOIN spatial_region b
          ON a.id < b.id AND a.level = 'group' AND b.level = 'group' AND a.outline && b.outline
        WHERE ST_Area(ST_Intersection(ST_Transform(a.outline, 4546), ST_Transform(b.outline, 4546))) >= 0.01""")[0]
    assert overlaps == 0


def test_parcels_share_edges_within_and_across_issuers(demo):
    shared, across = _one("""
        SELECT count(*), count(*) FILTER (WHERE a.issuer_id <> b.issuer_id)
        FROM spatial_parcel a JOIN spatial_parcel b
          ON a.id < b.id AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '****1****')""")
    assert shared > Parcel.objects.count()  # a tessellation: more shared edges than parcels
    assert across > 0  # neighbouring collectives exist for publicity


def test_fields_are_not_a_square_grid(demo):
    # Voronoi cells of a jittered lattice: mostly 5–7 sides, never all 4.
    sides = Counter(n for (n,) in _rows("SELECT ST_NPoints(geom) - 1 FROM spatial_parcel"))
    assert sum(v for k, v in sides.items() if k >= 5) > 0.7 * sum(sides.values())


def _rows(sql: str):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_households_and_members(demo):
    sizes = Counter(Contractor.objects.values_list("member_count", flat=True))
    assert min(sizes) >= 1 and max(sizes) <= 8
    small_groups = {i for (i,) in _rows("SELECT issuer_id FROM spatial_parcel GROUP BY 1 HAVING count(*) < 3")}
    counts = [c.parcel_count for c in Contract.objects.exclude(issuer_id__in=small_groups)]
    assert min(counts) >= 3 and max(counts) <= 8
    assert Contract.objects.count() == Contractor.objects.count()
    for m in FamilyMember.objects.order_by("?")[:200]:
        assert validate_resident_id(m.id_number) == m.id_number
    assert FamilyMember.objects.filter(relation="02").count() == Contractor.objects.count()


def test_id_numbers_are_encrypted_at_rest(demo):
    member = FamilyMember.objects.first()
    raw = _one("SELECT id_number FROM contracts_familymember WHERE id = %s", [member.id])[0]
    assert raw != member.id_number and member.id_number not in raw
    assert validate_resident_id(member.id_number)


def test_contract_area_is_the_sum_of_its_parcels(demo):
    assert (
        _one("""
        SELECT count(*) FROM contracts_contract c
        WHERE c.total_area <> (SELECT sum(htmj) FROM contracts_contractparcel cp WHERE cp.contract_id = c.id)
           OR c.parcel_count <> (SELECT count(*) FROM contracts_contractparcel cp WHERE cp.contract_id = c.id)""")[0]
        == 0
    )


def test_generating_an_existing_county_is_refused_and_changes_nothing(demo):
    before = (Parcel.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DuplicateCodeError):
        demo_county_generate(county_code=demo.county, n_parcels=200, progress=lambda m: None)
    assert (Parcel.objects.count(), AuditEvent.objects.count()) == before


def test_same_seed_same_geometry():
    import numpy as np
    import shapely

    from demo import geometry as G

    def make(seed: int):
        rng = np.random.default_rng(seed)
        county = G.county_outline(rng, 400000.0, 2765000.0, 300 * G.MEAN_PARCEL_M2 / G.FARMLAND_SHARE)
        _, _, groups = G.build_regions(rng, county, "450399", [("450399100", "甲镇")], [["乙村"]], [[["丙组", "丁组"]]])
        mask = G.farmland_mask(rng, county, groups, G.FARMLAND_SHARE)
        return G.build_parcels(rng, county, groups, mask, 300)[0]

    a, b, c = make(3), make(3), make(4)
    assert len(a) == 300 and shapely.equals_exact(a, b, 0).all()
    assert not shapely.equals_exact(a, c, 0).all()


def test_a_second_county_loads_beside_the_first(demo):
    demo_county_generate(county_code="450327", n_parcels=300, seed=3, progress=lambda m: None)
    assert Parcel.objects.filter(dkbm__startswith="450327").count() == 300
    assert Region.objects.filter(code__startswith="450327", level="township").count() == 9
    assert AuditEvent.objects.filter(action="demo_county.generated", subject_id="450327").exists()
