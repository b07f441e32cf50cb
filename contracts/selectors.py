"""Reads for a farmer: their own household's contracts, parcels, certificates and signed documents, and
the account a phone login opens; which party a user is to a contract document."""

import json
from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON

from accounts.models import IdentityCheck, Role, User
from accounts.scoping import can
from accounts.selectors import household_codes
from core.crypto import lookup_hash
from spatial.models import VersionStatus

from .models import Contract, ContractDocument, Contractor, ContractParcel, FamilyMember


def my_contracts(user: Any) -> list[dict[str, Any]]:
    """The user's households' contracts, current first, with parcels, certificates and the signed PDF."""
    rows = (
        Contract.objects.filter(contractor__cbfbm__in=household_codes(user))
        .select_related("contractor", "issuer")
        .prefetch_related("parcels__parcel", "certificates")
        .exclude(status=VersionStatus.CANCELLED)
        .order_by("-version")  # the draft awaiting filing, then the current contract, then history
    )
    out = []
    for c in rows:
        signed = c.documents.filter(status=ContractDocument.Status.SIGNED).order_by("-created_at").first()
        awaiting = (
            c.documents.filter(
                status__in=[ContractDocument.Status.AWAITING_CONTRACTOR, ContractDocument.Status.AWAITING_ISSUER]
            )
            .order_by("-created_at")
            .first()
            if c.status == VersionStatus.PENDING
            else None
        )
        out.append(
            {
                "contract": c,
                "current": c.status == VersionStatus.CURRENT,
                "pending": c.status == VersionStatus.PENDING,
                "parcels": [
                    {"dkbm": e.dkbm, "dkmc": e.parcel.dkmc, "htmj": e.htmj, "htmjm": e.htmjm} for e in c.parcels.all()
                ],
                "certificates": list(c.certificates.all()),
                "signed_document": signed,
                "awaiting_document": awaiting,
            }
        )
    return out


def document_party(user: Any, document_id: int) -> tuple[ContractDocument | None, str | None]:
    """The document if the user is one of its parties, and the role they sign in (None: not a party)."""
    document = (
        ContractDocument.objects.select_related("contract__contractor", "contract__issuer")
        .filter(pk=document_id)
        .first()
    )
    if document is None or not user.is_authenticated:
        return None, None
    if document.contract.contractor.cbfbm in household_codes(user):
        return document, "contractor"
    if can(user, "contracts.sign_issuer", document.contract.issuer.fbfbm):
        return document, "issuer"
    return None, None


def issuer_contract(user: Any, cbhtbm: str) -> Contract | None:
    """The contract an issuer's officer prepares: its current version, or the first draft of a new
    household's contract (a split) that has none yet; None if not of the officer's issuer."""
    rows = Contract.objects.select_related("contractor", "issuer").filter(cbhtbm=cbhtbm)
    contract = (
        rows.filter(valid_to__isnull=True).first() or rows.filter(version=1, status=VersionStatus.PENDING).first()
    )
    if contract is None or not can(user, "contracts.sign_issuer", contract.issuer.fbfbm):
        return None
    return contract


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


def farmer_for_phone_login(*, phone: str, id_number: str) -> User | None:
    """The farmer account a phone number and an ID number open: an active account with that phone, holding
    a household office, whose holder has that ID number (their in-person identity check, or the household
    member of their name in the registry). None when nothing matches; the caller must not say which part
    was wrong."""
    key = lookup_hash(id_number)
    users = User.objects.filter(
        phone=phone.strip(), is_active=True, offices__role=Role.FARMER, offices__active=True
    ).distinct()
    for user in users:
        if IdentityCheck.objects.filter(user=user, id_number_hash=key).exists():
            return user
        households = household_codes(user)
        name = (user.real_name or "").strip()
        if not households or not name:
            continue
        member = FamilyMember.objects.filter(
            contractor__cbfbm__in=households, contractor__valid_to__isnull=True, id_number_hash=key, name=name
        )
        head = Contractor.objects.filter(cbfbm__in=households, valid_to__isnull=True, id_number_hash=key, name=name)
        if member.exists() or head.exists():
            return user
    return None


def my_parcels_geojson(user: Any) -> dict[str, Any]:
    """The parcels of the user's households' current contracts, as GeoJSON (CRS84) for the farmer's map."""
    rows = (
        ContractParcel.objects.filter(
            contract__contractor__cbfbm__in=household_codes(user), contract__valid_to__isnull=True
        )
        .select_related("parcel")
        .annotate(geojson=AsGeoJSON("parcel__geom", precision=7, crs=False))
        .order_by("dkbm")
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": e.dkbm,
                "geometry": json.loads(e.geojson),
                "properties": {"dkbm": e.dkbm, "dkmc": e.parcel.dkmc, "htmj": float(e.htmj), "htmjm": float(e.htmjm)},
            }
            for e in rows
        ],
    }
