"""The printed notice for the village notice board: A4 or A3, with a map extract (the noticed parcels over
the neighbouring ones and the county's imagery), the tables, the period, how to object, and a QR code to
the notice online. HTML → PDF with WeasyPrint; the CJK font (Debian's fonts-wqy-zenhei) is embedded.

The map is drawn here as SVG: in a small area a lon/lat box whose pixel aspect is cos(latitude) shows the
ground without visible distortion, and the imagery comes from MapProxy's WMS in EPSG:4490 for exactly
that box, so that both line up.
"""

import base64
import math
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django.db import connection
from django.template.loader import render_to_string
from django.utils.html import escape

from spatial.imagery import county_imagery_png

from .models import Notice
from .selectors import notice_parcel_rows, notice_subject_rows

PAGE = {"A4": (210, 297), "A3": (297, 420)}
MAP_PX = 1000  # the map's width in SVG units (the page scales it)
M_PER_DEG = 111_320.0


def _ring_paths(rings: Any, to_xy: Any) -> str:
    parts = []
    for polygon in rings:
        for ring in polygon:
            pts = [to_xy(x, y) for x, y in ring]
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + " Z")
    return " ".join(parts)


def _geoms(notice: Notice, box: tuple[float, float, float, float] | None = None) -> tuple[list, list]:
    """(noticed parcels, other current parcels in the box) as (dkbm, coordinates) in lon/lat."""
    import json

    with connection.cursor() as cur:
        cur.execute(
            "SELECT p.dkbm, ST_AsGeoJSON(p.geom, 7)::json FROM spatial_parcel p "
            "JOIN publicity_notice_parcels np ON np.parcel_id = p.id WHERE np.notice_id = %s",
            [notice.pk],
        )
        noticed = [(d, g if isinstance(g, dict) else json.loads(g)) for d, g in cur.fetchall()]
        others: list = []
        if box:
            cur.execute(
                "SELECT p.dkbm, ST_AsGeoJSON(p.geom, 7)::json FROM spatial_parcel p "
                "WHERE p.valid_to IS NULL AND p.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4490) "
                "AND p.id NOT IN (SELECT parcel_id FROM publicity_notice_parcels WHERE notice_id = %s) LIMIT 5000",
                [*box, notice.pk],
            )
            others = [(d, g if isinstance(g, dict) else json.loads(g)) for d, g in cur.fetchall()]
    return noticed, others


def _coords(geojson: dict) -> list:
    return geojson["coordinates"] if geojson["type"] == "MultiPolygon" else [geojson["coordinates"]]


def _box(noticed: list, aspect: float) -> tuple[float, float, float, float]:
    """A lon/lat box around the noticed parcels with a margin, shaped to the map's aspect on the ground."""
    xs = [x for _d, g in noticed for poly in _coords(g) for ring in poly for x, _y in ring]
    ys = [y for _d, g in noticed for poly in _coords(g) for ring in poly for _x, y in ring]
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


def notice_map_svg(notice: Notice, aspect: float = 1.4) -> str:
    noticed, _ = _geoms(notice)
    if not noticed:
        return ""
    box = _box(noticed, aspect)
    _, others = _geoms(notice, box)
    w, h = MAP_PX, round(MAP_PX / aspect)
    x0, y0, x1, y1 = box

    def to_xy(x: float, y: float) -> tuple[float, float]:
        return (x - x0) / (x1 - x0) * w, (y1 - y) / (y1 - y0) * h

    png = county_imagery_png(notice.owner_code[:6], box, w, h)
    underlay = (
        f'<image x="0" y="0" width="{w}" height="{h}" href="data:image/png;base64,{base64.b64encode(png).decode()}"/>'
        if png
        else f'<rect x="0" y="0" width="{w}" height="{h}" fill="#f4f1e8"/>'
    )
    line = "#fff" if png else "#555"  # neighbours' outlines: light over imagery, grey on paper
    context = "".join(
        f'<path d="{_ring_paths(_coords(g), to_xy)}" fill="none" stroke="{line}" stroke-width="1.5"/>'
        for _d, g in others
    )
    labels, shapes = [], []
    for dkbm, g in noticed:
        shapes.append(
            f'<path d="{_ring_paths(_coords(g), to_xy)}" fill="#ffd54f" fill-opacity="0.45" '
            'stroke="#d32f2f" stroke-width="3"/>'
        )
        ring = _coords(g)[0][0]
        cx = sum(x for x, _ in ring) / len(ring)
        cy = sum(y for _, y in ring) / len(ring)
        lx, ly = to_xy(cx, cy)
        label = escape(dkbm[-5:])
        common = f'x="{lx:.1f}" y="{ly:.1f}" font-size="22" font-weight="bold" text-anchor="middle"'
        labels.append(  # a white halo under black text (no paint-order in every renderer)
            f'<text {common} fill="#fff" stroke="#fff" stroke-width="5">{label}</text>'
            f'<text {common} fill="#000">{label}</text>'
        )
    m_per_px = (y1 - y0) * M_PER_DEG / h
    bar, bar_label = _scale_bar(m_per_px, w)
    furniture = (
        f'<g transform="translate({w - 60},20)"><circle cx="20" cy="36" r="38" fill="#fff" fill-opacity="0.8"/>'
        '<path d="M20,0 L35,45 L20,35 L5,45 Z" fill="#000"/>'
        '<text x="20" y="68" font-size="22" text-anchor="middle">北</text></g>'
        f'<g transform="translate(20,{h - 30})"><rect x="-6" y="-26" width="{bar + 12:.0f}" height="40" fill="#fff" '
        f'fill-opacity="0.8"/><path d="M0,0 L{bar:.1f},0" stroke="#000" stroke-width="4"/>'
        f'<text x="{bar / 2:.1f}" y="-8" font-size="18" text-anchor="middle">{bar_label}</text></g>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%">'
        f"{underlay}{context}{''.join(shapes)}{''.join(labels)}{furniture}"
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="none" stroke="#000" stroke-width="2"/></svg>'
    )


def qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = BytesIO()
    image.save(out)
    text = out.getvalue().decode("utf-8")
    return text[text.index("<svg") :]


def notice_pdf(notice: Notice, *, url: str, size: str = "A4") -> bytes:
    """The printable notice as PDF bytes."""
    from weasyprint import HTML

    if size not in PAGE:
        size = "A4"
    html = render_to_string(
        "publicity/notice_print.html",
        {
            "notice": notice,
            "size": size,
            "map_svg": notice_map_svg(notice),
            "parcels": notice_parcel_rows(notice),
            "households": notice_subject_rows(notice, "households"),
            "contracts": notice_subject_rows(notice, "contracts"),
            "audience": notice.audience.all(),
            "qr_svg": qr_svg(url),
            "url": url,
        },
    )
    return HTML(string=html, base_url=url).write_pdf()
