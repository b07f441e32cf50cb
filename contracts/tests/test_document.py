"""The contract document: the law's clauses filled from the registry, members with masked IDs, a parcel
table that paginates with its header on every page, and the parcel sketch with boundary point numbers."""

import subprocess
from decimal import Decimal

from django.contrib.gis.geos import Point

from contracts.document import contract_pdf
from contracts.models import Contract, ContractParcel
from spatial.models import BoundaryPoint, Parcel


def _text(pdf: bytes, tmp_path, name: str = "c.pdf") -> tuple[str, int]:
    path = tmp_path / name
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(path)], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    return text, pages


def test_the_contract_reads_with_its_parties_parcels_and_clauses(demo, tmp_path):
    contract = Contract.objects.filter(cbhtbm__startswith=demo.township, valid_to__isnull=True).first()
    entry = contract.parcels.select_related("parcel").first()
    centroid = entry.parcel.geom.point_on_surface
    point = BoundaryPoint.objects.create(
        issuer=contract.issuer,
        jzdh="J7",
        xzbz=Decimal("1"),
        yzbz=Decimal("1"),
        geom=Point(centroid.x, centroid.y, srid=4490),
    )
    point.parcels.add(entry.parcel)
    text, pages = _text(contract_pdf(contract), tmp_path)
    contractor = contract.contractor
    for expected in (
        "农村土地承包合同",
        contract.cbhtbm,
        contract.issuer.name,
        contractor.name,
        contractor.id_number_masked,
        "第二条",
        "承包期限",
        "违约责任",
        "争议解决",
        "地块示意图",
        "J7",  # the boundary point number on the sketch
        entry.dkbm,
        f"{contract.term_end:%Y}年",
    ):
        assert expected in text, expected
    assert contractor.id_number not in text  # masked, as everywhere
    for member in contractor.members.all():
        assert member.name in text and (not member.id_number or member.id_number not in text)
    assert pages >= 2


def test_many_parcels_paginate_with_the_table_header_on_each_page(demo, tmp_path):
    contract = Contract.objects.filter(cbhtbm__startswith=demo.township, valid_to__isnull=True).first()
    extra = Parcel.objects.filter(dkbm__startswith=demo.township, valid_to__isnull=True).exclude(
        contract_entries__contract=contract
    )[:70]
    ContractParcel.objects.bulk_create(
        [ContractParcel(contract=contract, parcel=p, dkbm=p.dkbm, htmj=p.scmj, htmjm=p.scmjm) for p in extra]
    )
    text, pages = _text(contract_pdf(contract), tmp_path)
    assert pages >= 4
    body_pages = [page for page in text.split("\f") if any(p.dkbm in page for p in extra)]
    assert len(body_pages) >= 2 and all("地块编码" in page for page in body_pages)  # header repeated
    assert all(p.dkbm in text for p in extra)
