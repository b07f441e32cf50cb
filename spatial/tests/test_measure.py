"""Measurement in the county plane: 亩 from m², and the Gauss-Krüger zone of a longitude."""

from decimal import Decimal

from spatial.measure import gk3_srid_for_longitude, mu_from_m2


def test_mu_is_scmj_times_0_0015_rounded_to_cents():

    assert mu_from_m2(Decimal("666.67")) == Decimal("1.00")
    assert mu_from_m2(Decimal("1000.00")) == Decimal("1.50")
    assert mu_from_m2(Decimal("3.33")) == Decimal("0.00")
    assert mu_from_m2(Decimal("3.34")) == Decimal("0.01")


def test_county_plane_for_yongfu_is_cm_111():
    assert gk3_srid_for_longitude(109.98) == 4546  # CGCS2000 3° GK CM 111°E
    assert gk3_srid_for_longitude(108.4) == 4545  # CM 108°E
