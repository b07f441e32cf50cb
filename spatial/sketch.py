"""Printed map extracts as SVG (for WeasyPrint): some parcels highlighted over their neighbours and the
county imagery, with labels, boundary point numbers, a north arrow and a scale bar. Used by the printed
notice (publicity) and the contract's parcel sketch 地块示意图 (contracts).

In a small area a lon/lat box whose pixel aspect follows cos(latitude) shows the ground without visible
distortion, and the imagery (core.ports: MapProxy's WMS in EPSG:4490) is asked for exactly that box,
so that both line up.
"""

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.html import escape

from core.ports import county_imagery_png

MAP_PX = 1000  # the map's width in SVG units (the page scales it)
M_PER_DEG = 111_320.0


@dataclass
class Sketch:
    svg: str
    box: tuple[float, float, float, float]
    metres_per_unit: float


def _coords(geojson: dict) -> list:
    return geojson["coordinates"] if geojson["type"] == "MultiPolygon" else [geojson["coordinates"]]


def _ring_paths(rings: Any, to_xy: Any) -> str:
    parts = []
    for polygon in rings:
        for ring in polygon:
            parts.append("M" + " L".join("{:.1f},{:.1f}".format(*to_xy(x, y)) for x, y in ring) + " Z")
    return " ".join(parts)


def _parcels(where: str, params: list) -> list[tuple[int, str, dict]]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT p.id, p.dkbm, ST_AsGeoJSON(p.geom, 7)::json FROM spatial_parcel p WHERE {where}", params)
        return [(pk, d, g if isinstance(g, dict) else json.loads(g)) for pk, d, g in cur.fetchall()]


def _box(focus: list, aspect: float) -> tuple[float, float, float, float]:
    """A lon/lat box around the focus parcels with a margin, shaped to the map's aspect on the ground."""
    xs = [x for _p, _d, g in focus for poly in _coords(g) for ring in poly for x, _y in ring]
    ys = [y for _p, _d, g in focus for poly in _coords(g) for ring in poly for _x, y in ring]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    k = math.cos(math.radians(cy))
    half_w = max((max(xs) - min(xs)) * k, 80 / M_PER_DEG) * 0.75  # ground degrees, at least 120 m across
    half_h = max(max(ys) - min(ys), 80 / M_PER_DEG) * 0.75
    if half_w / half_h < aspect:
        half_w = half_h * aspect
    else:
        half_h = half_w / aspect
    return cx - half_w / k, cy - half_h, cx + half_w / k, cy + half_h


def _scale_bar(m_per_px: float, width: int) -> tuple[float, str]:
    target = m_per_px * width / 4
    nice = max(n for n in (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if n <= max(target, 5))
    return nice / m_per_px, f"{nice} 米" if nice < 1000 else f"{nice // 1000} 千米"


def _text(x: float, y: float, label: str, size: int) -> str:
    common = f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="bold" text-anchor="middle"'
    return (  # a white halo under black text (no paint-order in every renderer)
        f'<text {common} fill="#fff" stroke="#fff" stroke-width="5">{escape(label)}</text>'
        f'<text {common} fill="#000">{escape(label)}</text>'
    )


def parcels_sketch(
    parcel_ids: list[int],
    *,
    county: str,
    aspect: float = 1.4,
    labels: dict[int, str] | None = None,
    neighbour_labels: dict[int, str] | None = None,
    points: list[tuple[str, float, float]] | None = None,
) -> Sketch | None:
    """The parcels `parcel_ids` filled and labelled (`labels`: id → text, default the last five digits of
    the code) over the other current parcels in the box (outlined, `neighbour_labels` by id) and the county
    imagery; `points` are (number, lon, lat) drawn as small circles with their numbers."""
    focus = _parcels("p.id = ANY(%s)", [parcel_ids])
    if not focus:
        return None
    box = _box(focus, aspect)
    others = _parcels(
        "p.valid_to IS NULL AND p.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4490) AND NOT (p.id = ANY(%s)) LIMIT 5000",
        [*box, parcel_ids],
    )
    w, h = MAP_PX, round(MAP_PX / aspect)
    x0, y0, x1, y1 = box

    def to_xy(x: float, y: float) -> tuple[float, float]:
        return (x - x0) / (x1 - x0) * w, (y1 - y) / (y1 - y0) * h

    def centre(g: dict) -> tuple[float, float]:
        ring = _coords(g)[0][0]
        return to_xy(sum(x for x, _ in ring) / len(ring), sum(y for _, y in ring) / len(ring))

    png = county_imagery_png(county, box, w, h)
    underlay = (
        f'<image x="0" y="0" width="{w}" height="{h}" href="data:image/png;base64,{base64.b64encode(png).decode()}"/>'
        if png
        else f'<rect x="0" y="0" width="{w}" height="{h}" fill="#f4f1e8"/>'
    )
    line = "#fff" if png else "#555"  # neighbours' outlines: light over imagery, grey on paper
    parts = [underlay]
    parts += [
        f'<path d="{_ring_paths(_coords(g), to_xy)}" fill="none" stroke="{line}" stroke-width="1.5"/>'
        for _p, _d, g in others
    ]
    parts += [
        f'<path d="{_ring_paths(_coords(g), to_xy)}" fill="#ffd54f" fill-opacity="0.45" stroke="#d32f2f" '
        'stroke-width="3"/>'
        for _p, _d, g in focus
    ]
    for pk, _d, g in others:
        if neighbour_labels and pk in neighbour_labels:
            parts.append(_text(*centre(g), neighbour_labels[pk], 16))
    for pk, dkbm, g in focus:
        parts.append(_text(*centre(g), (labels or {}).get(pk, dkbm[-5:]), 22))
    for number, lon, lat in points or []:
        px, py = to_xy(lon, lat)
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="#fff" stroke="#d32f2f" stroke-width="2"/>')
        parts.append(_text(px + 12, py - 8, number, 14))
    m_per_px = (y1 - y0) * M_PER_DEG / h
    bar, bar_label = _scale_bar(m_per_px, w)
    parts.append(
        f'<g transform="translate({w - 60},20)"><circle cx="20" cy="36" r="38" fill="#fff" fill-opacity="0.8"/>'
        '<path d="M20,0 L35,45 L20,35 L5,45 Z" fill="#000"/>'
        '<text x="20" y="68" font-size="22" text-anchor="middle">北</text></g>'
        f'<g transform="translate(20,{h - 30})"><rect x="-6" y="-26" width="{bar + 12:.0f}" height="40" fill="#fff" '
        f'fill-opacity="0.8"/><path d="M0,0 L{bar:.1f},0" stroke="#000" stroke-width="4"/>'
        f'<text x="{bar / 2:.1f}" y="-8" font-size="18" text-anchor="middle">{bar_label}</text></g>'
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%">{"".join(parts)}'
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="none" stroke="#000" stroke-width="2"/></svg>'
    )
    return Sketch(svg, box, m_per_px)
