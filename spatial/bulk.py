"""Bulk loading with COPY, shared by the demo generator and the package importer.

COPY is about ten times faster than ORM inserts for registry-sized loads (STACK.md). Callers run these
inside their own transaction and write the audit event for the load as a whole.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from django.db import connection
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


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    with connection.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
            n += 1
    return n


def next_id(table: str) -> int:
    """The first free id, with the table locked against other writers until the transaction ends."""
    with connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cur.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {table}")
        return int(cur.fetchone()[0])


def reset_sequence(table: str) -> None:
    with connection.cursor() as cur:
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
