"""Reading layers and tables in bulk with pyogrio's Arrow reader (GDAL's columnar interface): for a
county's 500,000 parcels about ten times faster than feature-by-feature reading, and for the attribute
tables about five times faster than pyogrio's numpy arrays. Values come back as plain Python values
(str, int, float, datetime.date), missing ones (null, NaN) as None."""

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from .package import PackageError

ReadErrors = (DataSourceError, DataLayerError, FieldError, GeometryError, OSError, ValueError, pa.ArrowException)


def feature_count(path: Path, layer: str | None = None) -> int:
    try:
        return int(pyogrio.read_info(path, layer=layer)["features"])
    except ReadErrors as exc:
        raise PackageError(f"无法读取 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from None


def read_rows(
    path: Path, *, layer: str | None = None, encoding: str | None = None, geometry: bool = True
) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """All rows of a layer or table as dicts, and its geometries (shapely, None when absent)."""
    try:
        meta, table = pyogrio.raw.read_arrow(path, layer=layer, encoding=encoding, read_geometry=geometry)
        geom_name = meta.get("geometry_name") or "wkb_geometry"
        wkb = None
        if geom_name in table.column_names:
            wkb = table.column(geom_name).to_numpy(zero_copy_only=False) if geometry else None
            table = table.drop_columns([geom_name])
        for i, fld in enumerate(table.schema):
            if pa.types.is_floating(fld.type):  # NaN, as some writers store "no value", is None too
                col = table.column(i)
                table = table.set_column(i, fld, pc.if_else(pc.is_nan(col), pa.scalar(None, fld.type), col))
        rows = table.to_pylist()
    except ReadErrors as exc:
        raise PackageError(f"无法读取 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from None
    geoms = shapely.from_wkb(wkb) if wkb is not None else None
    return rows, geoms


def layer_names(path: Path) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except ReadErrors as exc:
        raise PackageError(f"无法读取 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from None
