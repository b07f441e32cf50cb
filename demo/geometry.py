"""The demo county's geometry, made in the county's Gauss-Kruger plane (metres).

Regions nest by construction: township cells are Voronoi cells of township seeds clipped to the county,
villages are Voronoi cells inside their township, groups inside their village. Farmland lies in
irregular blobs around each hamlet (group); parcels are Voronoi cells of jittered hexagonal seeds inside the
farmland, bounded by "ghost" seeds just outside it, so they tessellate the farmland with shared edges
and no gaps. Each parcel belongs to the group whose cell holds its seed; a group's territory is its
cell outside the farmland plus its own parcels, so territories partition the county and are contiguous.
"""

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

MEAN_PARCEL_M2 = 800.0  # about 1.2 亩: Guangxi's small valley fields
FARMLAND_SHARE = 0.15  # share of the county under contracted farmland


@dataclass
class RegionCell:
    code: str
    name: str
    level: str
    parent: str | None
    cell: Polygon  # the Voronoi cell (groups: before the farmland adjustment)
    outline: shapely.Geometry | None = None


@dataclass
class DemoGeometry:
    county: Polygon
    townships: list[RegionCell]
    villages: list[RegionCell]
    groups: list[RegionCell]
    parcels: np.ndarray  # shapely polygons, one per parcel
    parcel_group: np.ndarray  # index into groups
    neighbours: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))  # E, W, S, N


def _noisy_blob(rng: np.random.Generator, cx: float, cy: float, radius: float, n: int = 48) -> Polygon:
    """An irregular closed shape: a circle whose radius wanders with a few random harmonics."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones_like(t)
    for k in (2, 3, 5):
        r += rng.uniform(0.05, 0.25) * np.sin(k * t + rng.uniform(0, 2 * np.pi))
    stretch = rng.uniform(0.6, 1.0)
    angle = rng.uniform(0, np.pi)
    x, y = radius * r * np.cos(t), radius * r * np.sin(t) * stretch
    xr = x * np.cos(angle) - y * np.sin(angle)
    yr = x * np.sin(angle) + y * np.cos(angle)
    poly = Polygon(np.column_stack([cx + xr, cy + yr]))
    return poly if poly.is_valid else shapely.make_valid(poly).buffer(0)


def _spread_points(rng: np.random.Generator, polygon: Polygon, count: int, tries: int = 30) -> np.ndarray:
    """`count` points inside `polygon`, kept apart (best-candidate sampling) so that cells look even."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    chosen: list[tuple[float, float]] = []
    while len(chosen) < count:
        cand = np.column_stack([rng.uniform(minx, maxx, tries), rng.uniform(miny, maxy, tries)])
        cand = cand[shapely.contains_xy(polygon, cand[:, 0], cand[:, 1])]
        if len(cand) == 0:
            continue
        if not chosen:
            chosen.append(tuple(cand[0]))
            continue
        pts = np.array(chosen)
        d = np.min(np.hypot(cand[:, None, 0] - pts[None, :, 0], cand[:, None, 1] - pts[None, :, 1]), axis=1)
        chosen.append(tuple(cand[int(np.argmax(d))]))
    return np.array(chosen)


def _voronoi_cells(points: np.ndarray, clip: Polygon) -> list[Polygon]:
    """Voronoi cells of `points` (in input order) clipped to `clip`; each keeps its largest part."""
    if len(points) == 1:
        return [clip]
    regions = shapely.voronoi_polygons(MultiPoint(points), extend_to=clip, ordered=True)
    cells = shapely.intersection(shapely.get_parts(regions), clip)
    out = []
    for c in cells:
        if c.geom_type != "Polygon":
            parts = [g for g in shapely.get_parts(c) if g.geom_type == "Polygon"]
            c = max(parts, key=lambda g: g.area)
        out.append(c)
    return out


def county_outline(rng: np.random.Generator, cx: float, cy: float, area_m2: float) -> Polygon:
    radius = float(np.sqrt(area_m2 / np.pi))
    blob = _noisy_blob(rng, cx, cy, radius, n=96)
    # Scale to the wanted area exactly so that parcel density comes out as planned.
    factor = float(np.sqrt(area_m2 / blob.area))
    return shapely.affinity.scale(blob, factor, factor, origin=(cx, cy))


def build_regions(
    rng: np.random.Generator,
    county: Polygon,
    county_code: str,
    townships: list[tuple[str, str]],
    village_names: list[list[str]],
    group_names: list[list[list[str]]],
) -> tuple[list[RegionCell], list[RegionCell], list[RegionCell]]:
    """Nested Voronoi cells: townships in the county, villages in townships, groups in villages."""
    t_cells = _voronoi_cells(_spread_points(rng, county, len(townships)), county)
    t_out, v_out, g_out = [], [], []
    for ti, ((t_code, t_name), t_cell) in enumerate(zip(townships, t_cells, strict=True)):
        t_out.append(RegionCell(t_code, t_name, "township", county_code, t_cell))
        v_cells = _voronoi_cells(_spread_points(rng, t_cell, len(village_names[ti])), t_cell)
        for vi, (v_name, v_cell) in enumerate(zip(village_names[ti], v_cells, strict=True)):
            v_code = f"{t_code}{200 + vi:03d}"  # 200+: village committees (村委会) under GB/T 10114 practice
            v_out.append(RegionCell(v_code, v_name, "village", t_code, v_cell))
            names = group_names[ti][vi]
            g_cells = _voronoi_cells(_spread_points(rng, v_cell, len(names)), v_cell)
            for gi, (g_name, g_cell) in enumerate(zip(names, g_cells, strict=True)):
                g_out.append(RegionCell(f"{v_code}{gi + 1:02d}", g_name, "group", v_code, g_cell))
    return t_out, v_out, g_out


def farmland_mask(rng: np.random.Generator, county: Polygon, cells: list[RegionCell], share: float) -> Polygon:
    """Irregular field blobs around each hamlet (group) centre, sized to cover `share` of the county."""
    blobs = []
    for v in cells:
        c = v.cell.representative_point()
        radius = float(np.sqrt(v.cell.area * share * 1.15 / np.pi))
        blobs.append(_noisy_blob(rng, c.x, c.y, radius))
    return shapely.intersection(shapely.union_all(blobs), county)


def hex_seeds(rng: np.random.Generator, bounds: tuple[float, float, float, float], spacing: float) -> np.ndarray:
    """Jittered hexagonal lattice: irregular 5–7 sided Voronoi cells, not a square grid."""
    minx, miny, maxx, maxy = bounds
    dy = spacing * np.sqrt(3) / 2
    ys = np.arange(miny - spacing, maxy + spacing, dy)
    xs = np.arange(minx - spacing, maxx + spacing, spacing)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys))[:, None] % 2) * spacing / 2
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts += rng.uniform(-0.32, 0.32, pts.shape) * spacing
    return pts


def build_parcels(
    rng: np.random.Generator, county: Polygon, groups: list[RegionCell], mask: Polygon, n_parcels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exactly `n_parcels` parcel polygons tessellating the farmland, and each one's group index."""
    spacing = float(np.sqrt(mask.area / n_parcels)) * 1.07 * 0.97
    inner = shapely.intersection(mask, county.buffer(-2.5 * spacing))
    shapely.prepare(inner)
    seeds = hex_seeds(rng, inner.bounds, spacing)
    inside = shapely.contains_xy(inner, seeds[:, 0], seeds[:, 1])
    real = seeds[inside]
    while len(real) < n_parcels:  # rare: denser lattice until there are enough seeds
        spacing *= 0.97
        seeds = hex_seeds(rng, inner.bounds, spacing)
        inside = shapely.contains_xy(inner, seeds[:, 0], seeds[:, 1])
        real = seeds[inside]
    halo = inner.buffer(2.5 * spacing)
    shapely.prepare(halo)
    ghosts = seeds[~inside & shapely.contains_xy(halo, seeds[:, 0], seeds[:, 1])]
    if len(real) > n_parcels:  # drop surplus seeds at random; their neighbours grow a little
        real = real[np.sort(rng.choice(len(real), n_parcels, replace=False))]
    all_pts = np.vstack([real, ghosts])
    regions = shapely.voronoi_polygons(MultiPoint(all_pts), extend_to=halo, ordered=True)
    cells = shapely.get_parts(regions)[: len(real)]
    # Snap to the millimetre so shared edges have identical vertices after the CRS round trip.
    cells = shapely.set_precision(cells, 0.001)

    group_cells = [g.cell for g in groups]
    tree = shapely.STRtree(group_cells)
    seed_pts = shapely.points(real)
    hit_seed, hit_group = tree.query(seed_pts, predicate="intersects")
    parcel_group = np.full(len(real), -1, dtype=np.int64)
    parcel_group[hit_seed] = hit_group
    if (parcel_group < 0).any():  # a seed exactly on no cell (numerical edge): nearest group
        missing = np.nonzero(parcel_group < 0)[0]
        parcel_group[missing] = tree.nearest(seed_pts[missing])
    return cells, parcel_group


SNAP = 1e-6  # metres: closes hairlines that floating-point overlay leaves between touching pieces


def group_territories(groups: list[RegionCell], parcels: np.ndarray, parcel_group: np.ndarray) -> None:
    """Territory = the group's cell outside the farmland, plus its own parcels (exact partition)."""
    tree = shapely.STRtree(parcels)
    order = np.argsort(parcel_group, kind="stable")
    starts = np.searchsorted(parcel_group[order], np.arange(len(groups) + 1))
    for gi, g in enumerate(groups):
        local = tree.query(g.cell, predicate="intersects")
        own = parcels[order[starts[gi] : starts[gi + 1]]]
        outside = g.cell
        if len(local):
            outside = shapely.difference(g.cell, shapely.coverage_union_all(parcels[local]))
        pieces = [outside, shapely.coverage_union_all(own)] if len(own) else [outside]
        g.outline = shapely.union_all(pieces)


def _join(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Geometry | None:
    """a ∪ b as one polygon, snapping either onto the other by SNAP if the plain union leaves a hairline."""
    for joined in (
        shapely.union(a, b),
        shapely.union(a, shapely.snap(b, a, SNAP)),
        shapely.union(shapely.snap(a, b, SNAP), b),
    ):
        if shapely.get_num_geometries(joined) == 1:
            return joined
    return None


def merge_slivers(groups: list[RegionCell], parcels: np.ndarray, parcel_group: np.ndarray) -> int:
    """Make every territory one piece: a stray piece (a sliver cut off by another group's fields, or a
    field of this group surrounded by another's) goes to the neighbour sharing the longest border, with
    the fields in it. Pieces larger than a quarter of the main piece stay. Returns the pieces moved."""
    tree = shapely.STRtree([g.outline for g in groups])
    points = shapely.point_on_surface(parcels)
    moved = 0
    for gi, g in enumerate(groups):
        parts = list(shapely.get_parts(g.outline))
        if len(parts) < 2:
            continue
        main = max(parts, key=lambda p: p.area)
        own = np.nonzero(parcel_group == gi)[0]
        keep = [main]
        for piece in parts:
            if piece is main:
                continue
            # A piece parted from the main one by floating-point noise alone (a hairline, a pocket): join it.
            joined = _join(main, piece)
            if joined is not None:
                keep[0] = main = joined
                continue
            best, best_len = -1, 0.0
            for ci in tree.query(piece, predicate="intersects"):
                if ci != gi:
                    shared = shapely.intersection(piece.boundary, groups[ci].outline.boundary).length
                    if shared > best_len:
                        best, best_len = int(ci), shared
            if best < 0 or piece.area > 0.25 * main.area:
                keep.append(piece)
                continue
            inside = own[shapely.intersects(piece, points[own])]
            parcel_group[inside] = best
            target = groups[best].outline
            groups[best].outline = _join(target, piece) or shapely.union(target, piece)
            moved += 1
        g.outline = shapely.union_all(keep)
    return moved


def roll_up(children: list[RegionCell], parents: list[RegionCell]) -> None:
    by_parent: dict[str, list[shapely.Geometry]] = {}
    for c in children:
        by_parent.setdefault(c.parent or "", []).append(c.outline)
    for p in parents:
        p.outline = shapely.union_all(by_parent[p.code])


def neighbours_by_direction(parcels: np.ndarray) -> np.ndarray:
    """For each parcel, the adjacent parcel lying most to the east, west, south and north (-1: none).

    Adjacency comes from shared edges (touching with a common boundary), found with an STRtree.
    """
    tree = shapely.STRtree(parcels)
    a, b = tree.query(parcels, predicate="touches")
    keep = a != b
    a, b = a[keep], b[keep]
    cx, cy = shapely.get_coordinates(shapely.centroid(parcels)).T
    dx, dy = cx[b] - cx[a], cy[b] - cy[a]
    out = np.full((len(parcels), 4), -1, dtype=np.int64)
    for k, score in enumerate((dx, -dx, -dy, dy)):
        order = np.lexsort((score, a))  # by parcel, then by how far the neighbour lies that way
        last = np.r_[a[order][1:] != a[order][:-1], True]  # the best-scoring neighbour of each parcel
        idx = order[last]
        good = score[idx] > 0
        out[a[idx][good], k] = b[idx][good]
    return out
