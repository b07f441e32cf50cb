"""Reads for a farmer: their own household's contracts, parcels, certificates and signed documents."""

from typing import Any

from accounts.models import Office, Role

from .models import Contract, ContractDocument


def household_codes(user: Any) -> list[str]:
    """The households (CBFBM) a user belongs to as a farmer (their offices say which)."""
    if not user or not user.is_authenticated:
        return []
    return sorted(
        set(
            Office.objects.filter(user=user, active=True, role=Role.FARMER)
            .exclude(contractor_code="")
            .values_list("contractor_code", flat=True)
        )
    )


def my_contracts(user: Any) -> list[dict[str, Any]]:
    """The user's households' contracts, current first, with parcels, certificates and the signed PDF."""
    rows = (
        Contract.objects.filter(contractor__cbfbm__in=household_codes(user))
        .select_related("contractor", "issuer")
        .prefetch_related("parcels__parcel", "certificates")
        .order_by("valid_to", "-version")
    )
    out = []
    for c in rows:
        signed = c.documents.filter(status=ContractDocument.Status.SIGNED).order_by("-created_at").first()
        awaiting = c.documents.exclude(status=ContractDocument.Status.SIGNED).order_by("-created_at").first()
        out.append(
            {
                "contract": c,
                "current": c.valid_to is None,
                "parcels": [
                    {"dkbm": e.dkbm, "dkmc": e.parcel.dkmc, "htmj": e.htmj, "htmjm": e.htmjm} for e in c.parcels.all()
                ],
                "certificates": list(c.certificates.all()),
                "signed_document": signed,
                "awaiting_document": awaiting,
            }
        )
    return out


def own_signed_document(user: Any, document_id: int) -> ContractDocument | None:
    return (
        ContractDocument.objects.filter(
            pk=document_id,
            status=ContractDocument.Status.SIGNED,
            contract__contractor__cbfbm__in=household_codes(user),
        )
        .select_related("contract")
        .first()
    )
