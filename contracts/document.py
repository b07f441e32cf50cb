"""The household contract 农村土地承包合同 as PDF, from the registry: the clauses of the Rural Land
Contracting Law art. 22 (parties, parcels with 四至 and areas, term, use, rights and duties, breach,
disputes), the family members, signature blocks, and a parcel sketch 地块示意图 (spatial.sketch: the
parcels with their boundary point numbers and the neighbours' names, over the imagery). WeasyPrint with
the CJK font embedded; long parcel tables repeat their header on each page.

ID numbers are printed masked, as everywhere: the signers' identity is bound by the real-name check and
their certificates (contracts.pdfsign), not by the printed number.
"""

from typing import Any

from django.template.loader import render_to_string
from weasyprint import HTML

from core.codes import county_of
from spatial.models import BoundaryPoint
from spatial.sketch import parcels_sketch

from .models import Contract, ContractParcel

LAND_USE = {"1": "种植业", "2": "林业", "3": "畜牧业", "4": "渔业", "5": "非农业用途"}
RELATION = {"02": "户主", "10": "配偶", "20": "子", "30": "女", "40": "孙子女", "50": "父母", "60": "祖父母"}
SEX = {"1": "男", "2": "女"}


def _parcel_rows(entries: list[ContractParcel]) -> list[dict[str, Any]]:
    return [
        {
            "dkbm": e.dkbm,
            "dkmc": e.parcel.dkmc,
            "four_sides": e.parcel.four_sides,
            "htmj": e.htmj,
            "htmjm": e.htmjm,
            "grade": f"{int(e.parcel.dldj)} 等" if (e.parcel.dldj or "").isdigit() else "—",
            "use": LAND_USE.get(e.parcel.tdyt, e.parcel.tdyt or "—"),
        }
        for e in entries
    ]


def _sketch(contract: Contract, entries: list[ContractParcel]) -> str:
    ids = [e.parcel_id for e in entries]
    if not ids:
        return ""
    points = [
        (p.jzdh, p.geom.x, p.geom.y)
        for p in BoundaryPoint.objects.filter(parcels__in=ids, valid_to__isnull=True).distinct()
    ]
    # neighbours: the current holders of the other parcels that the sketch shows
    holders = dict(
        ContractParcel.objects.filter(contract__valid_to__isnull=True)
        .exclude(contract__cbhtbm=contract.cbhtbm)  # the household's own contract, current or draft
        .filter(parcel__valid_to__isnull=True)
        .values_list("parcel_id", "contract__contractor__name")
    )
    sketch = parcels_sketch(ids, county=county_of(contract.cbhtbm), neighbour_labels=holders, points=points)
    return sketch.svg if sketch else ""


def contract_sketch_svg(contract: Contract) -> str:
    """The parcel sketch 地块示意图 alone (the register keeps it as DKSYT)."""
    return _sketch(contract, list(contract.parcels.select_related("parcel").order_by("dkbm")))


def contract_pdf(contract: Contract) -> bytes:
    """The contract document (unsigned) as PDF bytes."""
    entries = list(contract.parcels.select_related("parcel").order_by("dkbm"))
    contractor = contract.contractor
    html = render_to_string(
        "contracts/contract.html",
        {
            "contract": contract,
            "issuer": contract.issuer,
            "contractor": contractor,
            "members": [
                {
                    "name": m.name,
                    "sex": SEX.get(m.sex, m.sex),
                    "relation": RELATION.get(m.relation, m.relation),
                    "id_masked": m.id_number_masked,
                }
                for m in contractor.members.order_by("relation", "name")
            ],
            "parcels": _parcel_rows(entries),
            "sketch_svg": _sketch(contract, entries),
        },
    )
    return HTML(string=html).write_pdf()
