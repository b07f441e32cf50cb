"""Geometry for COPY loads of parcels and boundaries (core.bulk does the COPY): hex EWKB in the storage CRS,
and reprojection of whole arrays."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from .measure import STORAGE_SRID


def multi_ewkb(geoms: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Hex EWKB of MultiPolygons in EPSG:4490, ready for COPY (polygons are wrapped)."""
    arr = np.asarray(geoms, dtype=object).copy()
    single = shapely.get_type_id(arr) == 3
    if single.any():
        arr[single] = shapely.multipolygons(arr[single][:, None].tolist())
    arr = shapely.set_srid(arr, STORAGE_SRID)
    return shapely.to_wkb(arr, hex=True, include_srid=True)


def reproject(geoms: np.ndarray, source: int, target: int) -> np.ndarray:
    """Geometries from EPSG:`source` to EPSG:`target` (x = easting/longitude), vectorised."""
    if source == target:
        return geoms
    tr = Transformer.from_crs(source, target, always_xy=True)

    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)
