"""Generate a realistic demo county and load it with COPY in one transaction.

Structure: Yongfu's 9 townships, 97 villages, 3–10 villager groups per village (each group an issuer
发包方), households of 1–8 members with valid fictional ID numbers, 3–8 parcels per household, parcels
tessellating the farmland (demo.geometry). Codes follow NY/T 2539; SCMJ is the planar area in
the county's Gauss-Kruger plane, SCMJM = round(SCMJ × 0.0015, 2).

Not generated here: boundary points and lines (界址点/界址线) — the surveys issue derives them.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import shapely
from django.db import connection, transaction
from pyproj import Transformer

from audit import services as audit
from contracts.bulk import CERTIFICATE_COLUMNS, CONTRACT_PARCEL_COLUMNS, CONTRACTOR_COLUMNS, MEMBER_COLUMNS
from core.bulk import copy_rows, next_id, reset_sequence
from core.codes import id_check_char, validate_region_code
from core.crypto import encrypt, lookup_hash
from core.errors import DuplicateCodeError
from spatial.bulk import multi_ewkb, reproject
from spatial.measure import STORAGE_SRID, gk3_srid_for_longitude, mu_from_m2, round_m2
from spatial.models import Region

from . import geometry as G
from .names import BOUNDARY_FEATURES, VILLAGES_PER_TOWNSHIP, YONGFU_TOWNSHIPS, NameMaker

YONGFU_CENTRE = (109.983, 24.982)  # 永福县城 (lon, lat), approximate
Progress = Callable[[str], None]


@dataclass
class DemoResult:
    county_code: str
    townships: int
    villages: int
    groups: int
    households: int
    members: int
    parcels: int
    seconds: float


class _People:
    """Fictional residents with unique, valid 18-character ID numbers (GB 11643)."""

    def __init__(self, rng: np.random.Generator, county_code: str) -> None:
        self.rng, self.prefix = rng, county_code
        self.used: set[str] = set()

    def id_number(self, born: date, sex: str) -> str:
        for _ in range(1000):
            seq = int(self.rng.integers(0, 500)) * 2 + (1 if sex == "1" else 0)
            first17 = f"{self.prefix}{born:%Y%m%d}{seq:03d}"
            if first17 not in self.used:
                self.used.add(first17)
                return first17 + id_check_char(first17)
        raise RuntimeError("ran out of ID sequence numbers for one birthday")

    def birthday(self, year_from: int, year_to: int) -> date:
        start = date(year_from, 1, 1)
        return start + timedelta(days=int(self.rng.integers(0, (date(year_to, 12, 31) - start).days)))


_HOUSEHOLD_SIZES = np.arange(1, 9)
_HOUSEHOLD_WEIGHTS = np.array([0.08, 0.17, 0.2, 0.22, 0.15, 0.1, 0.05, 0.03])


def _household(rng: np.random.Generator, names: NameMaker, people: _People) -> list[dict[str, Any]]:
    """Members of one household, the head (户主, relation 02) first."""
    size = int(rng.choice(_HOUSEHOLD_SIZES, p=_HOUSEHOLD_WEIGHTS))
    head_sex = "1" if rng.random() < 0.85 else "2"
    surname = names.person("1")[0]
    head_born = people.birthday(1945, 1988)
    members: list[dict[str, Any]] = [
        dict(name=names.person(head_sex, surname), sex=head_sex, born=head_born, relation="02")
    ]
    if size >= 2:
        sex = "2" if head_sex == "1" else "1"
        members.append(
            dict(
                name=names.person(sex),
                sex=sex,
                born=people.birthday(head_born.year - 3, min(head_born.year + 4, 1990)),
                relation="10",
            )
        )
    if size >= 6:
        sex = str(int(rng.integers(1, 3)))
        members.append(
            dict(
                name=names.person(sex, surname),
                sex=sex,
                born=people.birthday(head_born.year - 30, head_born.year - 20),
                relation="50",
            )
        )
    while len(members) < size:
        sex = str(int(rng.integers(1, 3)))
        child_from = head_born.year + 20
        if len(members) >= 5 and child_from + 40 < 2022:  # grandchildren in large households
            members.append(
                dict(
                    name=names.person(sex, surname),
                    sex=sex,
                    born=people.birthday(child_from + 22, min(child_from + 40, 2022)),
                    relation="40",
                )
            )
        else:
            members.append(
                dict(
                    name=names.person(sex, surname),
                    sex=sex,
                    born=people.birthday(child_from, min(child_from + 18, 2022)),
                    relation="20" if sex == "1" else "30",
                )
            )
    for m in members:
        m["id_number"] = people.id_number(m["born"], m["sex"])
    return members


def _household_sizes(rng: np.random.Generator, n: int) -> list[int]:
    """Split a group's n parcels into households of 3–8 parcels (a group with fewer gets one household)."""
    sizes: list[int] = []
    while n > 0:
        take = n if n <= 8 else int(rng.integers(3, min(8, n - 3) + 1))
        sizes.append(take)
        n -= take
    return sizes


def demo_county_generate(
    *,
    county_code: str,
    n_parcels: int,
    seed: int = 1,
    centre: tuple[float, float] | None = None,
    progress: Progress = print,
) -> DemoResult:
    """Generate and load a county; one transaction, so a failure leaves nothing behind."""
    validate_region_code(county_code, "county")
    if Region.objects.filter(code=county_code).exists():
        raise DuplicateCodeError(
            f"县 {county_code} 已经存在，不能重复生成", f"county {county_code} already exists", field="county"
        )
    started = time.monotonic()
    rng = np.random.default_rng(seed)
    names = NameMaker(rng)
    lon, lat = centre or YONGFU_CENTRE
    plane = gk3_srid_for_longitude(lon)
    cx, cy = Transformer.from_crs(STORAGE_SRID, plane, always_xy=True).transform(lon, lat)

    def step(msg: str) -> None:
        progress(f"[{time.monotonic() - started:6.1f}s] {msg}")

    # --- regions ---------------------------------------------------------------------------------
    townships = [(f"{county_code}{code}", name) for code, name in YONGFU_TOWNSHIPS]
    village_names = [[names.village() for _ in range(n)] for n in VILLAGES_PER_TOWNSHIP]
    group_names = [[[names.group(v, k) for k in range(int(rng.integers(3, 11)))] for v in vs] for vs in village_names]
    county = G.county_outline(rng, cx, cy, n_parcels * G.MEAN_PARCEL_M2 / G.FARMLAND_SHARE)
    t_cells, v_cells, g_cells = G.build_regions(rng, county, county_code, townships, village_names, group_names)
    step(f"区域 regions: {len(t_cells)} 乡镇, {len(v_cells)} 村, {len(g_cells)} 组")
    mask = G.farmland_mask(rng, county, g_cells, G.FARMLAND_SHARE)
    parcels_plane, parcel_group = G.build_parcels(rng, county, g_cells, mask, n_parcels)
    step(f"地块 parcels tessellated: {len(parcels_plane)}")
    G.group_territories(g_cells, parcels_plane, parcel_group)
    G.merge_slivers(g_cells, parcels_plane, parcel_group)
    G.roll_up(g_cells, v_cells)
    G.roll_up(v_cells, t_cells)
    neighbours = G.neighbours_by_direction(parcels_plane)
    step("组级区域与四至 territories and neighbours computed")

    scmj = [round_m2(a) for a in shapely.area(parcels_plane)]
    centroids = shapely.get_coordinates(shapely.centroid(parcels_plane))
    parcels_ll = reproject(parcels_plane, plane, STORAGE_SRID)
    region_cells = [*t_cells, *v_cells, *g_cells]
    region_outlines = reproject(
        np.array([county, *[r.outline for r in region_cells]], dtype=object), plane, STORAGE_SRID
    )
    parcel_ewkb = multi_ewkb(parcels_ll)
    region_ewkb = multi_ewkb(region_outlines)
    step("坐标转换 reprojected to CGCS2000 (EPSG:4490)")

    # --- households and parcel codes per group ----------------------------------------------------
    people = _People(rng, county_code)
    now = datetime.now(UTC)
    order = np.lexsort((centroids[:, 0], -centroids[:, 1], parcel_group))  # group, north→south, west→east
    dkbm = np.empty(len(parcels_plane), dtype=object)
    owner = np.full(len(parcels_plane), -1, dtype=np.int64)
    households: list[dict[str, Any]] = []
    starts = np.searchsorted(parcel_group[order], np.arange(len(g_cells) + 1))
    for gi, g in enumerate(g_cells):
        idx = order[starts[gi] : starts[gi + 1]]
        for seq, p in enumerate(idx, start=1):
            dkbm[p] = f"{g.code}{seq:05d}"
        shuffled = rng.permutation(idx)
        pos, hh_seq = 0, 0
        for take in _household_sizes(rng, len(shuffled)):
            hh_seq += 1
            members = _household(rng, names, people)
            hh = dict(cbfbm=f"{g.code}{hh_seq:04d}", group=gi, members=members, parcels=shuffled[pos : pos + take])
            owner[shuffled[pos : pos + take]] = len(households)
            households.append(hh)
            pos += take
    step(f"承包方 households: {len(households)}, 成员 members: {sum(len(h['members']) for h in households)}")

    with transaction.atomic():
        result = _load(
            county_code=county_code,
            plane=plane,
            now=now,
            rng=rng,
            names=names,
            people=people,
            t_cells=t_cells,
            v_cells=v_cells,
            g_cells=g_cells,
            region_ewkb=region_ewkb,
            parcel_ewkb=parcel_ewkb,
            dkbm=dkbm,
            scmj=scmj,
            parcel_group=parcel_group,
            owner=owner,
            neighbours=neighbours,
            households=households,
            step=step,
        )
        audit.record(
            actor=None,
            action="demo_county.generated",
            subject=("spatial.region", county_code),
            region_code=county_code,
            data={"parcels": n_parcels, "seed": seed, "households": len(households)},
        )
    with connection.cursor() as cur:
        for table in (
            "spatial_region",
            "spatial_issuer",
            "spatial_parcel",
            "contracts_contractor",
            "contracts_familymember",
            "contracts_contract",
            "contracts_contractparcel",
        ):
            cur.execute(f"ANALYZE {table}")
    result.seconds = time.monotonic() - started
    step(f"完成 done: {result.parcels} 地块 in {result.seconds:.1f}s")
    return result


def _load(
    *,
    county_code: str,
    plane: int,
    now: datetime,
    rng: np.random.Generator,
    names: NameMaker,
    people: _People,
    t_cells: list[G.RegionCell],
    v_cells: list[G.RegionCell],
    g_cells: list[G.RegionCell],
    region_ewkb: np.ndarray,
    parcel_ewkb: np.ndarray,
    dkbm: np.ndarray,
    scmj: list[Decimal],
    parcel_group: np.ndarray,
    owner: np.ndarray,
    neighbours: np.ndarray,
    households: list[dict[str, Any]],
    step: Progress,
) -> DemoResult:
    # Regions: county first, then townships, villages, groups (parents before children).
    region_id = next_id("spatial_region")
    ids: dict[str, int] = {}
    rows = []
    county_name = "永福县" if county_code == "450326" else f"示范县{county_code}"
    all_regions = [
        (county_code, county_name, "county", None),
        *[(r.code, r.name, r.level, r.parent) for r in (*t_cells, *v_cells, *g_cells)],
    ]
    for i, ((code, name, level, parent), ewkb) in enumerate(zip(all_regions, region_ewkb, strict=True)):
        ids[code] = region_id + i
        rows.append((ids[code], code, name, level, ids[parent] if parent else None, ewkb))
    copy_rows("spatial_region", ["id", "code", "name", "level", "parent_id", "outline"], rows)
    reset_sequence("spatial_region")
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO spatial_countysettings (region_id, measure_srid) VALUES (%s, %s)",
            [ids[county_code], plane],
        )

    # Issuers: each villager group issues its own contracts (FBFBM = the group code).
    issuer_id = next_id("spatial_issuer")
    g_offset = 1 + len(t_cells) + len(v_cells)
    village_of = {v.code: v for v in v_cells}
    township_of = {t.code: t for t in t_cells}
    issuer_rows: list[tuple[Any, ...]] = []
    for gi, g in enumerate(g_cells):
        v = village_of[g.parent or ""]
        t = township_of[v.parent or ""]
        person = names.person("1")
        issuer_rows.append(
            (
                issuer_id + gi,
                g.code,
                g.name,
                ids[g.code],
                person,
                "1",
                encrypt(people.id_number(people.birthday(1960, 1985), "1")),
                f"13{int(rng.integers(0, 10**9)):09d}",
                f"广西壮族自治区桂林市{county_name}{t.name}{v.name}",
                "541800",
                "",
                None,
                "",
                region_ewkb[g_offset + gi],
            )
        )
    copy_rows(
        "spatial_issuer",
        [
            "id",
            "fbfbm",
            "name",
            "region_id",
            "person_in_charge",
            "person_id_type",
            "person_id_number",
            "phone",
            "address",
            "postcode",
            "surveyor",
            "survey_date",
            "survey_notes",
            "territory",
        ],
        issuer_rows,
    )
    reset_sequence("spatial_issuer")
    step(f"写入 loaded regions ({len(all_regions)}) and issuers ({len(g_cells)})")

    # Contractors, members, contracts and certificates.
    contractor_id = next_id("contracts_contractor")
    member_id = next_id("contracts_familymember")
    contract_id = next_id("contracts_contract")
    head_names = [h["members"][0]["name"] for h in households]

    def contractor_rows() -> Iterable[tuple[Any, ...]]:
        for i, h in enumerate(households):
            g = g_cells[h["group"]]
            head = h["members"][0]
            v = village_of[g.parent or ""]
            yield (
                contractor_id + i,
                1,
                now,
                None,
                "current",
                h["cbfbm"],
                issuer_id + h["group"],
                "1",
                head["name"],
                "1",
                encrypt(head["id_number"]),
                lookup_hash(head["id_number"]),
                f"广西壮族自治区桂林市{county_name}{township_of[v.parent or ''].name}{v.name}",
                "541800",
                f"1{int(rng.choice([3, 5, 8]))}{int(rng.integers(0, 10**9)):09d}",
                len(h["members"]),
                date(2016, 5, 1),
                "",
                "",
                "",
                "",
                None,
                "",
            )

    copy_rows("contracts_contractor", CONTRACTOR_COLUMNS, contractor_rows())

    def member_rows() -> Iterable[tuple[Any, ...]]:
        k = member_id
        for i, h in enumerate(households):
            for m in h["members"]:
                yield (
                    k,
                    contractor_id + i,
                    m["name"],
                    m["sex"],
                    "1",
                    encrypt(m["id_number"]),
                    lookup_hash(m["id_number"]),
                    m["relation"],
                    "",
                    True,
                    "",
                )
                k += 1

    n_members = copy_rows(
        "contracts_familymember",
        MEMBER_COLUMNS,
        member_rows(),
    )
    step(f"写入 loaded contractors ({len(households)}) and members ({n_members})")

    # Parcels, with 四至 from the neighbour on each side (its contractor's name, or a boundary feature).
    parcel_id = next_id("spatial_parcel")
    feature = np.array(BOUNDARY_FEATURES, dtype=object)[rng.integers(0, len(BOUNDARY_FEATURES), (len(dkbm), 4))]
    land_use = rng.choice(np.array(["011", "013", "021"]), len(dkbm), p=[0.7, 0.25, 0.05])
    grade = rng.integers(1, 11, len(dkbm))
    basic = rng.random(len(dkbm)) < 0.6
    field_names = [names.field_name() for _ in range(len(dkbm))]

    def side(p: int, k: int) -> str:
        n = neighbours[p, k]
        return head_names[owner[n]] if n >= 0 else str(feature[p, k])

    def parcel_rows() -> Iterable[tuple[Any, ...]]:
        for p in range(len(dkbm)):
            a = scmj[p]
            yield (
                parcel_id + p,
                1,
                now,
                None,
                "current",
                p + 1,
                "211011",
                dkbm[p],
                issuer_id + int(parcel_group[p]),
                field_names[p],
                "31",
                "10",
                land_use[p],
                f"{grade[p]:02d}",
                "1",
                "1" if basic[p] else "2",
                a,
                mu_from_m2(a),
                side(p, 0),
                side(p, 1),
                side(p, 2),
                side(p, 3),
                "",
                head_names[owner[p]],
                "",
                parcel_ewkb[p],
                "{}",
            )

    copy_rows(
        "spatial_parcel",
        [
            "id",
            "version",
            "valid_from",
            "valid_to",
            "status",
            "bsm",
            "ysdm",
            "dkbm",
            "issuer_id",
            "dkmc",
            "syqxz",
            "dklb",
            "tdlylx",
            "dldj",
            "tdyt",
            "sfjbnt",
            "scmj",
            "scmjm",
            "dkdz",
            "dkxz",
            "dknz",
            "dkbz",
            "dkbzxx",
            "zjrxm",
            "kjzb",
            "geom",
            "quality_flags",
        ],
        parcel_rows(),
    )
    step(f"写入 loaded parcels ({len(dkbm)})")

    term_start, term_end, signed = date(1999, 1, 1), date(2028, 12, 31), date(2017, 11, 20)

    def contract_rows() -> Iterable[tuple[Any, ...]]:
        for i, h in enumerate(households):
            total = sum((scmj[p] for p in h["parcels"]), Decimal("0"))
            yield (
                contract_id + i,
                1,
                now,
                None,
                "current",
                h["cbfbm"] + "J",
                "",
                issuer_id + h["group"],
                contractor_id + i,
                "110",
                term_start,
                term_end,
                total,
                mu_from_m2(total),
                None,
                len(h["parcels"]),
                signed,
            )

    copy_rows(
        "contracts_contract",
        [
            "id",
            "version",
            "valid_from",
            "valid_to",
            "status",
            "cbhtbm",
            "previous_code",
            "issuer_id",
            "contractor_id",
            "method",
            "term_start",
            "term_end",
            "total_area",
            "total_area_mu",
            "original_total_area",
            "parcel_count",
            "signed_on",
        ],
        contract_rows(),
    )

    def contract_parcel_rows() -> Iterable[tuple[Any, ...]]:
        for i, h in enumerate(households):
            code = h["cbfbm"] + "J"
            for p in h["parcels"]:
                yield (
                    contract_id + i,
                    parcel_id + int(p),
                    dkbm[p],
                    "110",
                    scmj[p],
                    mu_from_m2(scmj[p]),
                    None,
                    "",
                    code,
                    False,
                )

    copy_rows(
        "contracts_contractparcel",
        CONTRACT_PARCEL_COLUMNS,
        contract_parcel_rows(),
    )
    authority = f"{county_name}人民政府"
    copy_rows(
        "contracts_certificate",
        CERTIFICATE_COLUMNS,
        (
            (
                h["cbfbm"] + "J",
                contract_id + i,
                authority,
                date(2018, 6, 30),
                True,
                date(2018, 7, 15),
                head_names[i],
                "1",
                "",
                "issued",
            )
            for i, h in enumerate(households)
        ),
    )
    for table in (
        "contracts_contractor",
        "contracts_familymember",
        "spatial_parcel",
        "contracts_contract",
        "contracts_contractparcel",
        "contracts_certificate",
    ):
        reset_sequence(table)
    step("写入 loaded contracts, contract parcels and certificates")
    return DemoResult(county_code, len(t_cells), len(v_cells), len(g_cells), len(households), n_members, len(dkbm), 0.0)
