"""The area checks are vectorised for speed; they must find exactly what the rule in decimal says."""

import random
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import shapely

from exchange.quality import DkRecord, Report, check_geometry


def _half_up(v: float | Decimal, places: str = "0.01") -> Decimal:
    return Decimal(str(v)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def test_area_and_mu_findings_equal_a_row_by_row_decimal_reading():
    rng = random.Random(11)
    records, geoms = [], []
    for i in range(6000):
        side = rng.uniform(5, 60)
        square = shapely.box(100 * i, 0, 100 * i + side, side)  # apart: no overlaps to compute
        area = square.area
        # SCMJ: right, a cent off, two cents off, more decimals, or half-cent values (1.005-style)
        scmj = rng.choice(
            [
                round(area, 2),
                round(area + 0.01, 2),
                round(area - 0.02, 2),
                round(area, 3),
                float(_half_up(area, "1")) + 0.005,
                round(round(area, 2) + 0.015, 3),  # 2 cents above in decimal, 1 cent in binary floating point
                round(round(area, 2) - 0.015, 3),
                # SCMJM on a half cent (10 m² x 0.0015 = 0.015 亩), reached only once SCMJ is rounded to cents
                round(10.0 + 20 * rng.randrange(150) - 0.004, 3),
                None,
            ]
        )
        mu = None if scmj is None else float(_half_up(_half_up(scmj) * Decimal("0.0015")))
        scmjm = rng.choice(
            [
                mu,
                None if mu is None else round(mu + 0.01, 2),
                None if mu is None else round(mu - 0.01, 2),
                None if scmj is None else scmj * 0.0015,
            ]
        )
        props = {"SCMJ": scmj, "SCMJM": scmjm, "DKDZ": "a", "DKXZ": "b", "DKNZ": "c", "DKBZ": "d"}
        records.append(DkRecord(f"4503261002000100{i:03d}"[-19:], props))
        geoms.append(square)
    report = Report(county="450326")
    check_geometry(report, records, np.array(geoms, dtype=object))

    expected_area, expected_mu = [], []
    for r, g in zip(records, geoms, strict=True):
        scmj, scmjm = r.props["SCMJ"], r.props["SCMJM"]
        if scmj is not None and abs(_half_up(scmj) - _half_up(g.area)) > Decimal("0.01"):
            expected_area.append(r.dkbm)
        if scmj is not None and scmjm is not None and _half_up(scmjm) != _half_up(_half_up(scmj) * Decimal("0.0015")):
            expected_mu.append(r.dkbm)
    assert [m["dkbm"] for m in report.area_mismatches] == expected_area
    assert [m["dkbm"] for m in report.mu_mismatches] == expected_mu
    assert 500 < len(expected_area) < 5000 and 500 < len(expected_mu) < 5000  # both kinds are exercised
