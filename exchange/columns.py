"""Reading layers and tables column by column with pyogrio (GDAL's Arrow-style bulk reader): about ten
times faster than feature-by-feature reading for a county's 500,000 parcels. Values come back as plain
Python values, missing ones (NaN, NaT, empty) as None."""

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from .package import PackageError

ReadErrors = (DataSourceError, DataLayerError, FieldError, GeometryError, OSError, ValueError)


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else str(v)[:10]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


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
        meta, _, wkb, columns = pyogrio.raw.read(path, layer=layer, encoding=encoding, read_geometry=geometry)
    except ReadErrors as exc:
        raise PackageError(f"无法读取 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from None
    names = [str(n) for n in meta["fields"]]
    plain = [[_plain(v) for v in col.tolist()] if col.dtype.kind in "fmM" else col.tolist() for col in columns]
    rows = [dict(zip(names, values, strict=True)) for values in zip(*plain, strict=True)] if plain else []
    geoms = shapely.from_wkb(wkb) if geometry and wkb is not None else None
    return rows, geoms


def layer_names(path: Path) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except ReadErrors as exc:
        raise PackageError(f"无法读取 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from None
