"""The households and contracts other apps refer to by code (core.ports), as plain rows: what a
notice shows, ID numbers masked."""

from typing import Any

from .models import Contract, Contractor, ContractParcel


def households(codes: list[str]) -> dict[str, dict[str, Any]]:
    rows = Contractor.objects.filter(cbfbm__in=codes, valid_to__isnull=True)
    return {
        h.cbfbm: {"code": h.cbfbm, "name": h.name, "id_masked": h.id_number_masked, "members": h.member_count}
        for h in rows
    }


def contracts(codes: list[str]) -> dict[str, dict[str, Any]]:
    rows = Contract.objects.filter(cbhtbm__in=codes, valid_to__isnull=True).select_related("contractor")
    return {
        c.cbhtbm: {
            "code": c.cbhtbm,
            "holder": c.contractor.name,
            "term_start": c.term_start.isoformat(),
            "term_end": c.term_end.isoformat(),
            "parcel_count": c.parcel_count,
            "area_mu": str(c.total_area_mu),
            "parcels": sorted(c.parcels.values_list("dkbm", flat=True)),
        }
        for c in rows
    }


def parcel_holders(dkbms: list[str]) -> dict[str, dict[str, Any]]:
    """The contractor currently holding each parcel (by its current contract): name and household code."""
    rows = ContractParcel.objects.filter(dkbm__in=dkbms, contract__valid_to__isnull=True).values_list(
        "dkbm", "contract__contractor__name", "contract__contractor__cbfbm"
    )
    return {dkbm: {"holder": name, "cbfbm": cbfbm} for dkbm, name, cbfbm in rows}
