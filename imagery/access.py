"""Who may see which imagery layer, decided without a database query per tile.

A layer of county C is for users holding `parcels.view` inside C (any office whose region code starts
with C); a layer flagged public is for everyone (the publicity pages). The table of layers (name →
county, public) is a file written beside MapProxy's configuration and read again when it changes, so a
tile request costs a dictionary lookup; the user's scope comes from the per-worker session cache of
accounts.selectors (resolved through Django once per session every 30 s).
"""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs

from django.conf import settings

_table: tuple[float, dict[str, tuple[str, bool]]] = (-1.0, {})


def layers_path() -> Path:
    return Path(settings.IMAGERY_ROOT) / "layers.json"


def write_layer_table(rows: Mapping[str, tuple[str, bool]]) -> None:
    path = layers_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({k: list(v) for k, v in rows.items()}), encoding="utf-8")
    os.replace(partial, path)


def layer_table() -> dict[str, tuple[str, bool]]:
    global _table
    path = layers_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return {}
    if mtime != _table[0]:
        raw = json.loads(path.read_text(encoding="utf-8"))
        _table = (mtime, {k: (str(v[0]), bool(v[1])) for k, v in raw.items()})
    return _table[1]


def requested_layers(path_info: str, query_string: str) -> list[str]:
    """The layers a MapProxy request names (path for WMTS REST and TMS, LAYER(S) for KVP); [] for none."""
    parts = [p for p in path_info.split("/") if p]
    if len(parts) >= 3 and parts[0] == "wmts" and parts[1] != "1.0.0":
        return [parts[1]]
    if len(parts) >= 4 and parts[0] == "tms":
        return [parts[2]]
    query = {k.lower(): v for k, v in parse_qs(query_string).items()}
    names = query.get("layers", []) + query.get("layer", [])
    return [n for value in names for n in value.split(",") if n]


def access_allowed(prefixes: list[str] | None, layers: list[str]) -> bool:
    """`prefixes`: the user's region prefixes (None: nobody logged in). A request naming no layer
    (capabilities) needs a login; every named layer must exist and be public or of the user's county."""
    if not layers:
        return prefixes is not None
    table = layer_table()
    for name in layers:
        info = table.get(name)
        if info is None:
            return False
        county, public = info
        if public:
            continue
        if not prefixes or not any(p.startswith(county) for p in prefixes):
            return False
    return True
