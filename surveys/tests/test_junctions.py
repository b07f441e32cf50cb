"""A neighbour's vertex on a parcel's edge (a T-junction) becomes a vertex of the parcel, snapped onto the
edge, so that a boundary point and the end of a line can sit there; the parcel's shape does not change."""

import shapely

from surveys.boundaries import with_junctions


def test_a_neighbours_corner_on_an_edge_becomes_a_vertex_and_the_shape_stays():
    square = shapely.box(0, 0, 10, 10)
    north_east = shapely.box(10, 4.0, 20, 10)  # meets the east edge at (10, 4): a T-junction
    south_east = shapely.box(10.02, 0, 20, 4.0)  # 2 cm off: still counted, snapped onto the edge
    out = with_junctions(square, [north_east, south_east])
    coords = [tuple(round(v, 6) for v in c) for c in out.geoms[0].exterior.coords]
    assert (10.0, 4.0) in coords
    assert len(coords) == 5 + 1  # one more vertex than the box, the 2 cm one snapped onto the same point
    assert abs(out.area - square.area) < 1e-9 and out.equals(shapely.MultiPolygon([square]))


def test_vertices_far_from_the_edges_or_at_its_corners_add_nothing():
    square = shapely.box(0, 0, 10, 10)
    away = shapely.box(10.5, 3, 20, 6)  # 50 cm off
    corner = shapely.box(10, 10, 20, 20)  # touches at a corner the square already has
    out = with_junctions(square, [away, corner])
    assert len(out.geoms[0].exterior.coords) == 5
