"""Gauss-Kruger is the transverse Mercator with scale 1 on the central meridian. Every projection here goes
through PROJ (pyproj in Python, the same PROJ in PostGIS); these tests pin what it computes:

* PROJ's transverse Mercator against published conformance points: IOGP's GIGS test dataset 2.1, series
  5101 (GIGS projCRS A7: WGS 84, natural origin 49°N 2°W, k0 0.9996012717, FE 400 000 m, FN −100 000 m),
  forward and reverse, to the millimetre;
* the CGCS2000 zones as the EPSG registry defines them against the definition of the national standard
  (CGCS2000 ellipsoid a = 6 378 137 m, 1/f = 298.257222101; k0 = 1; false easting 500 km, plus the zone
  number × 1 000 km in the zone-numbered variants);
* forward then inverse returning within 0.1 mm across a whole 3° zone;
* the zone read from an 8-digit easting.

A published list of CGCS2000 points with their Gauss-Kruger coordinates was not at hand (see
docs/SURVEYS.md); the GIGS points check the same PROJ method with another ellipsoid."""

import math

import pytest
from pyproj import Transformer

from surveys.formats import GK3_CM, GK3_ZONE, GK6_ZONE, zone_srid_from_easting

GIGS_A7 = "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 +ellps=WGS84 +units=m"
# GIGS_conv_5101_TM_output_part1 (lat, lon → easting, northing), transects A (3°E) and B (2°W)
GIGS_5101 = [
    (80, 3, 496813.178, 3358297.326),
    (60, 3, 678711.584, 1134498.830),
    (49, 3, 765648.501, -87944.740),
    (40, 3, 826893.845, -1087710.121),
    (20, 3, 923539.353, -3308151.625),
    (0, 3, 957087.829, -5527462.686),
    (-20, 3, 923539.353, -7746773.748),
    (-40, 3, 826893.845, -9967215.251),
    (60, -2, 400000.000, 1123956.966),
    (49, -2, 400000.000, -100000.000),
    (40, -2, 400000.000, -1099699.834),
]


@pytest.mark.parametrize(("lat", "lon", "easting", "northing"), GIGS_5101)
def test_proj_transverse_mercator_meets_the_gigs_points_to_the_millimetre(lat, lon, easting, northing):
    forward = Transformer.from_crs("EPSG:4326", GIGS_A7, always_xy=True)
    x, y = forward.transform(lon, lat)
    assert abs(x - easting) < 0.001 and abs(y - northing) < 0.001
    back_lon, back_lat = forward.transform(easting, northing, direction="INVERSE")
    # 1 mm on the ground, in degrees (a degree of latitude is ~111 km)
    assert abs(back_lat - lat) < 1e-8 and abs((back_lon - lon) * math.cos(math.radians(lat))) < 1e-8


def _standard(cm: int, false_easting: float) -> str:
    return (
        f"+proj=tmerc +lat_0=0 +lon_0={cm} +k=1 +x_0={false_easting} +y_0=0 "
        "+a=6378137 +rf=298.257222101 +units=m +no_defs"
    )


@pytest.mark.parametrize("cm", sorted(GK3_CM))
def test_each_cgcs2000_3_degree_zone_is_the_standard_definition(cm):
    by_cm = Transformer.from_crs(4490, GK3_CM[cm], always_xy=True)
    zone = cm // 3
    by_zone = Transformer.from_crs(4490, GK3_ZONE[zone], always_xy=True)
    standard = Transformer.from_crs(4490, _standard(cm, 500000), always_xy=True)
    for dlon in (-1.5, -0.7, 0.0, 0.9, 1.5):
        for lat in (18.0, 25.3, 33.0, 45.0, 53.0):
            x, y = by_cm.transform(cm + dlon, lat)
            sx, sy = standard.transform(cm + dlon, lat)
            zx, zy = by_zone.transform(cm + dlon, lat)
            assert abs(x - sx) < 1e-4 and abs(y - sy) < 1e-4
            assert abs(zx - (x + zone * 1_000_000)) < 1e-4 and abs(zy - y) < 1e-4


def test_forward_then_inverse_returns_within_a_tenth_of_a_millimetre_across_a_zone():
    to_plane = Transformer.from_crs(4490, GK3_CM[111], always_xy=True)
    to_geo = Transformer.from_crs(GK3_CM[111], 4490, always_xy=True)
    worst = 0.0
    for i in range(31):
        lon = 109.5 + i * 0.1  # the whole zone, edge to edge
        for lat in (22.0, 25.0, 28.0):
            x, y = to_plane.transform(lon, lat)
            back = to_plane.transform(*to_geo.transform(x, y))
            worst = max(worst, math.hypot(back[0] - x, back[1] - y))
    assert worst < 1e-4


def test_the_zone_is_read_from_an_eight_digit_easting():
    assert zone_srid_from_easting(37_512_345.678) == GK3_ZONE[37] == 4525
    assert zone_srid_from_easting(19_512_345.678) == GK6_ZONE[19] == 4497
    assert zone_srid_from_easting(512_345.678) is None
    assert zone_srid_from_easting(12_512_345.0) is None  # no CGCS2000 zone 12 in China
