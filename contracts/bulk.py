"""Column lists for loading the registry's people and contract tables with COPY (spatial.bulk.copy_rows),
shared by the demo generator and the package importer so that both write rows in one order."""

MEMBER_COLUMNS = [
    "id",
    "contractor_id",
    "name",
    "sex",
    "id_type",
    "id_number",
    "id_number_hash",
    "relation",
    "remark_code",
    "is_co_owner",
    "remark",
]
CONTRACT_PARCEL_COLUMNS = [
    "contract_id",
    "parcel_id",
    "dkbm",
    "acquisition",
    "htmj",
    "htmjm",
    "original_htmj",
    "transfer_code",
    "certificate_code",
    "confirmed_by_share",
]
CERTIFICATE_COLUMNS = [
    "cbjyqzbm",
    "contract_id",
    "issuing_authority",
    "issued_on",
    "collected",
    "collected_on",
    "collector_name",
    "collector_id_type",
    "collector_id_number",
    "status",
]
