"""The printed notice for the village notice board: A4 or A3, with a map extract (spatial.sketch: the
noticed parcels over the neighbouring ones and the county's imagery), the tables, the period, how to
object, and a QR code to the notice online. HTML → PDF with WeasyPrint; the CJK font (Debian's
fonts-wqy-zenhei) is embedded.
"""

from io import BytesIO

import qrcode
import qrcode.image.svg
from django.template.loader import render_to_string

from core.codes import county_of
from spatial.sketch import parcels_sketch

from .models import Notice
from .selectors import notice_parcel_rows, notice_subject_rows

PAGE = {"A4": (210, 297), "A3": (297, 420)}


def notice_map_svg(notice: Notice, aspect: float = 1.4) -> str:
    ids = list(notice.parcels.values_list("pk", flat=True))
    sketch = parcels_sketch(ids, county=county_of(notice.owner_code), aspect=aspect) if ids else None
    return sketch.svg if sketch else ""


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
