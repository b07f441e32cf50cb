"""Measurement in the county's Gauss-Kruger plane: the one place that defines SCMJ and 亩.

实测面积 SCMJ is the polygon's area in the county's CGCS2000 3° Gauss-Kruger plane (e.g. EPSG:4546 for
CM 111°E), in m² to 2 decimals; SCMJM = round(SCMJ × 0.0015, 2) (1 亩 = 666.67 m²; DOMAIN.md checks).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from core.errors import CodeError

STORAGE_SRID = 4490  # CGCS2000 geographic
TILE_SRID = 3857
MU_PER_M2 = Decimal("0.0015")
_CENT = Decimal("0.01")

# CGCS2000 3-degree Gauss-Kruger without zone prefix, CM 75°E .. 135°E: EPSG:4534 .. 4554.
GK3_SRIDS = {75 + 3 * i: 4534 + i for i in range(21)}


def gk3_srid_for_longitude(lon: float) -> int:
    """The 3° zone plane (no zone prefix in the easting) whose central meridian is nearest `lon`."""
    cm = int(round(lon / 3.0) * 3)
    if cm not in GK3_SRIDS:
        raise CodeError(f"经度 {lon} 不在中国 3 度带范围内", f"longitude {lon} is outside China's 3° zones")
    return GK3_SRIDS[cm]


def round_m2(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def mu_from_m2(scmj: Decimal | float) -> Decimal:
    """SCMJM = round(SCMJ × 0.0015, 2)."""
    return (round_m2(scmj) * MU_PER_M2).quantize(_CENT, rounding=ROUND_HALF_UP)


def area_m2_sql(geom_sql: str, measure_srid: int) -> str:
    """SQL expression for a 4490 geometry's planar area: used by services and imports alike."""
    return f"ST_Area(ST_Transform({geom_sql}, {int(measure_srid)}))"


def geometry_area_m2(geom: GEOSGeometry, measure_srid: int) -> Decimal:
    """Area in m² of a 4490 geometry, computed by PostGIS in the county plane (SCMJ)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {area_m2_sql('ST_GeomFromEWKB(%s)', measure_srid)}", [bytes(geom.ewkb)])
        return round_m2(cur.fetchone()[0])
