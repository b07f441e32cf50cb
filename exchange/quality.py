"""The quality report of a package's DK layer, computed in the county plane (DOMAIN.md quality checks).

Findings that make data unusable (codes that cannot be read) reject the package; quality findings
(overlaps, area mismatches, missing 四至) are reported and, on import, flagged on the records.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import shapely

from core.codes import issuer_of, validate_dkbm
from core.errors import CodeError
from spatial.measure import mu_from_m2, round_m2

OVERLAP_MIN_M2 = 0.01  # DOMAIN.md / issue: overlaps of 0.01 m² or more
AREA_TOLERANCE_M2 = Decimal("0.01")


@dataclass
class DkRecord:
    dkbm: str
    props: dict[str, Any]


@dataclass
class Report:
    county: str
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    parcels_read: int = 0
    parcels_imported: int = 0
    code_errors: list[dict[str, str]] = field(default_factory=list)
    duplicate_codes: list[str] = field(default_factory=list)
    invalid_geometries: list[dict[str, Any]] = field(default_factory=list)
    overlaps: list[list[Any]] = field(default_factory=list)
    area_mismatches: list[dict[str, Any]] = field(default_factory=list)
    mu_mismatches: list[dict[str, Any]] = field(default_factory=list)
    missing_four_sides: list[str] = field(default_factory=list)
    neighbouring_issuers: list[list[str]] = field(default_factory=list)
    gaps: list[list[Any]] = field(default_factory=list)  # [FBFBM, area_m2, [x, y]]
    contract_parcels_missing: list[list[str]] = field(default_factory=list)  # [DKBM, CBHTBM]
    households_without_members: list[str] = field(default_factory=list)
    id_check_failures: list[dict[str, str]] = field(default_factory=list)  # table, code, field: never the number
    contracts_without_household: list[str] = field(default_factory=list)
    boundary_findings: list[dict[str, str]] = field(default_factory=list)  # layer (JZD/JZX), code, message(s)
    tables_imported: dict[str, int] = field(default_factory=dict)
    rejected: bool = False
    reasons: list[dict[str, str]] = field(default_factory=list)

    def reject(self, zh: str, en: str) -> None:
        self.rejected = True
        self.reasons.append({"message": zh, "message_en": en})

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def check_dk(report: Report, records: list[DkRecord], geoms: np.ndarray) -> None:
    """Fill `report` with the DK findings. `geoms` are in the county plane (metres), one per record."""
    check_codes(report, records)
    check_geometry(report, records, geoms)


def check_codes(report: Report, records: list[DkRecord]) -> None:
    """Malformed and duplicate parcel codes: these reject the package."""
    report.parcels_read = len(records)
    for r in records:
        try:
            validate_dkbm(r.dkbm)
            if not r.dkbm.startswith(report.county):
                raise CodeError(f"地块编码不属于本县 {report.county}", f"DKBM is not of county {report.county}")
        except CodeError as exc:
            report.code_errors.append({"dkbm": r.dkbm, "message": exc.zh, "message_en": exc.en})
    report.duplicate_codes = sorted(code for code, n in Counter(r.dkbm for r in records).items() if n > 1)
    if report.code_errors:
        report.reject(f"{len(report.code_errors)} 个地块编码有误", f"{len(report.code_errors)} malformed parcel codes")
    if report.duplicate_codes:
        report.reject(
            f"{len(report.duplicate_codes)} 个地块编码重复", f"{len(report.duplicate_codes)} duplicate parcel codes"
        )


def _floats(records: list[DkRecord], name: str) -> np.ndarray:
    return np.array([np.nan if (v := r.props.get(name)) is None else float(v) for r in records], dtype=float)


def check_geometry(report: Report, records: list[DkRecord], geoms: np.ndarray) -> None:
    """Quality findings, never a rejection: validity, areas, 四至, overlaps, neighbouring issuers. The heavy
    parts are shapely's vectorised operations, which release the GIL: the importer runs this in a thread
    beside the load."""
    dkbm = np.array([r.dkbm for r in records], dtype=object)
    issuer = np.array([issuer_of(r.dkbm) for r in records], dtype=object)
    valid = shapely.is_valid(geoms)
    for k in np.nonzero(~valid)[0]:
        reason = shapely.is_valid_reason(geoms[k])
        loc = shapely.get_coordinates(shapely.point_on_surface(geoms[k]))
        report.invalid_geometries.append(
            {"dkbm": dkbm[k], "reason": reason, "location": [round(float(v), 3) for v in loc[0]] if len(loc) else None}
        )

    # Areas: a vectorised pass in cents finds the candidates, exact decimal rounding (round_m2, as the
    # registry stores SCMJ) decides; float rounding can be one cent off, so candidates include 1 cent.
    area = shapely.area(geoms)
    scmj, scmjm = _floats(records, "SCMJ"), _floats(records, "SCMJM")
    with np.errstate(invalid="ignore"):
        near = np.abs(np.floor(scmj * 100 + 0.5) - np.floor(area * 100 + 0.5)) >= 1
        mu_near = np.abs(np.floor(scmjm * 100 + 0.5) - np.floor(scmj * 0.15 + 0.5)) >= 1
        # near a half cent (SCMJ rounded to cents first moves SCMJM by < 0.1 cent): let Decimal say
        mu_near |= (np.abs((scmj * 0.15) % 1 - 0.5) < 0.1) | (np.abs((scmjm * 100) % 1 - 0.5) < 0.01)
    for i in np.nonzero(near & ~np.isnan(scmj))[0]:
        measured = round_m2(float(area[i]))
        if abs(round_m2(scmj[i]) - measured) > AREA_TOLERANCE_M2:
            report.area_mismatches.append({"dkbm": dkbm[i], "scmj": float(scmj[i]), "measured": float(measured)})
    for i in np.nonzero(mu_near & ~np.isnan(scmj) & ~np.isnan(scmjm))[0]:
        if round_m2(scmjm[i]) != mu_from_m2(scmj[i]):
            expected = float(mu_from_m2(scmj[i]))
            report.mu_mismatches.append({"dkbm": dkbm[i], "scmjm": float(scmjm[i]), "expected": expected})
    for r in records:
        sides = sum(1 for k in ("DKDZ", "DKXZ", "DKNZ", "DKBZ") if (r.props.get(k) or "").strip())
        if sides < 3:
            report.missing_four_sides.append(r.dkbm)

    # Pairs whose boxes meet, then what they share: interior (overlap) or an edge (adjacent).
    ok = np.nonzero(valid)[0]
    tree = shapely.STRtree(geoms[ok])
    a, b = tree.query(geoms[ok], predicate="intersects")
    keep = a < b
    a, b = ok[a[keep]], ok[b[keep]]
    interior = shapely.relate_pattern(geoms[a], geoms[b], "T********")
    if interior.any():
        ia, ib = a[interior], b[interior]
        areas = shapely.area(shapely.intersection(geoms[ia], geoms[ib]))
        report.overlaps = sorted(
            [
                [dkbm[i], dkbm[j], round(float(s), 4)]
                for i, j, s in zip(ia, ib, areas, strict=True)
                if s >= OVERLAP_MIN_M2
            ]
        )
    across = issuer[a] != issuer[b]
    ca, cb = a[across], b[across]
    shared = shapely.relate_pattern(geoms[ca], geoms[cb], "****1****") | interior[across]
    pairs = {
        (min(issuer[i], issuer[j]), max(issuer[i], issuer[j])) for i, j in zip(ca[shared], cb[shared], strict=True)
    }
    report.neighbouring_issuers = [list(p) for p in sorted(pairs)]


def check_gaps(report: Report, records: list[DkRecord], geoms: np.ndarray, territories: set[str]) -> None:
    """Gaps inside a group's territory: areas enclosed by the group's parcels that no parcel covers (the
    holes of the union of its parcels), 0.01 m² or more. Only for groups whose territory (ZJQY) is in
    the package. A hole may be a pond or a house plot; the report lists it for a person to look at."""
    issuer = np.array([issuer_of(r.dkbm) for r in records], dtype=object)
    valid = shapely.is_valid(geoms)
    overlapping = {issuer_of(o[0]) for o in report.overlaps} | {issuer_of(o[1]) for o in report.overlaps}
    for fbfbm in sorted(territories & set(issuer.tolist())):
        own = geoms[(issuer == fbfbm) & valid]
        # A coverage (no overlaps) unions fast and exactly; overlapping groups take the general union.
        union = shapely.union_all(own) if fbfbm in overlapping else shapely.coverage_union_all(own)
        for part in shapely.get_parts(union):
            for ring in part.interiors:
                hole = shapely.Polygon(ring)
                if hole.area >= OVERLAP_MIN_M2:
                    x, y = shapely.get_coordinates(hole.point_on_surface())[0]
                    report.gaps.append([fbfbm, round(float(hole.area), 4), [round(float(x), 3), round(float(y), 3)]])
