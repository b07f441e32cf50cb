"""The attribute tables of a package (权属数据): households, members, contracts, contract parcels, certificates.

Read from the package's Access `.mdb` (what counties hold, through mdbtools: `exchange.mdb`) or, when it
has none, from the GeoPackage that `export_qq_package` writes in its place; checked, and loaded with the
same rule as parcels: an unchanged record stays, a changed household (its own fields or its members) or
contract (its own fields or its parcels) gets a new version, a new one version 1.
"""

from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection

from contracts.bulk import CERTIFICATE_COLUMNS, CONTRACT_PARCEL_COLUMNS, CONTRACTOR_COLUMNS, MEMBER_COLUMNS
from core.bulk import copy_rows, next_id, reset_sequence
from core.codes import issuer_of, validate_cbfbm, validate_contract_code, validate_resident_id
from core.crypto import decrypt, encrypt, lookup_hash
from core.errors import CodeError, IdNumberError
from spatial.measure import mu_from_m2, round_m2

from . import mdb
from .columns import layer_names, read_rows
from .quality import Report

NAMES = ["FBF", "CBF", "CBF_JTCY", "CBHT", "CBDKXX", "CBJYQZ"]  # FBF is read here, used by the issuer loader
# Read and counted in the report but not loaded: the register book, transfer contracts and source
# materials have no models yet (the transfer and certificate issues bring them).
COUNTED_ONLY = ["CBJYQZDJB", "LZHT", "QSLYZLFJ"]
Rows = dict[str, list[dict[str, Any]]]


def table_source(root: Path) -> Path | None:
    """The attribute database of a package: its `.mdb` (or `.accdb`), else its GeoPackage."""
    folder = root / "权属数据"
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file())
    for suffixes in ((".mdb", ".accdb"), (".gpkg",)):
        found = [p for p in files if p.suffix.lower() in suffixes]
        if found:
            return found[-1]
    return None


def read_tables(root: Path) -> Rows:
    source = table_source(root)
    if source is None:
        return {}
    if source.suffix.lower() != ".gpkg":
        return mdb.read_tables(source, NAMES + COUNTED_ONLY)
    present = {n.upper(): n for n in layer_names(source)}
    return {
        name: read_rows(source, layer=present[name], geometry=False)[0]
        for name in NAMES + COUNTED_ONLY
        if name in present
    }


def _s(v: Any) -> str:
    if v.__class__ is str:  # the usual case, first
        return v.strip()
    return "" if v is None else str(v).strip()


def _d(v: Any) -> date | None:
    if v in (None, ""):
        return None
    if isinstance(v, date):
        return v
    return datetime.strptime(str(v)[:10], "%Y-%m-%d").date()


def _m(v: Any) -> Decimal | None:
    return None if v in (None, "") else round_m2(v)


def check_tables(report: Report, tables: Rows, dkbms: set[str] | None) -> None:
    """Code errors and duplicates reject; the rest are findings. Without `dkbms` (the DK layer's codes),
    contract parcels are not matched to parcels: `contract_parcels_missing` does that apart."""
    cbf, members, cbht = (tables.get(n, []) for n in ("CBF", "CBF_JTCY", "CBHT"))

    def in_county(code: str) -> None:
        if not code.startswith(report.county):
            raise CodeError(f"编码 {code} 不属于本县 {report.county}", f"code {code} is not of county {report.county}")

    for row in cbf:
        try:
            validate_cbfbm(_s(row.get("CBFBM")))
            in_county(_s(row.get("CBFBM")))
        except CodeError as exc:
            report.code_errors.append(
                {"table": "CBF", "code": _s(row.get("CBFBM")), "message": exc.zh, "message_en": exc.en}
            )
    for row in cbht:
        try:
            validate_contract_code(_s(row.get("CBHTBM")), _s(row.get("CBFBM")))
            in_county(_s(row.get("CBHTBM")))
        except CodeError as exc:
            report.code_errors.append(
                {"table": "CBHT", "code": _s(row.get("CBHTBM")), "message": exc.zh, "message_en": exc.en}
            )
    for table, rows, key in (("CBF", cbf, "CBFBM"), ("CBHT", cbht, "CBHTBM")):
        dup = sorted(c for c, n in Counter(_s(r.get(key)) for r in rows).items() if n > 1)
        report.duplicate_codes += [f"{table}:{c}" for c in dup]
    if any(e.get("table") for e in report.code_errors) or any(":" in d for d in report.duplicate_codes):
        report.reject("权属数据表中有编码错误或重复", "the attribute tables hold malformed or duplicate codes")

    if dkbms is not None:
        report.contract_parcels_missing = contract_parcels_missing(tables, dkbms)
    with_members = {_s(m.get("CBFBM")) for m in members}
    report.households_without_members = sorted(
        _s(r.get("CBFBM")) for r in cbf if _s(r.get("CBFLX")) in ("", "1") and _s(r.get("CBFBM")) not in with_members
    )
    failures = []
    for table, rows, code_key, type_key, id_key in (
        ("CBF", cbf, "CBFBM", "CBFZJLX", "CBFZJHM"),
        ("CBF_JTCY", members, "CBFBM", "CYZJLX", "CYZJHM"),
    ):
        for r in rows:
            if _s(r.get(type_key)) in ("", "1") and _s(r.get(id_key)):
                try:
                    validate_resident_id(_s(r.get(id_key)))
                except IdNumberError:
                    failures.append({"table": table, "code": _s(r.get(code_key)), "field": id_key})
    report.id_check_failures = failures  # never the numbers themselves


def contract_parcels_missing(tables: Rows, dkbms: set[str]) -> list[list[str]]:
    """CBDKXX rows naming a parcel that the DK layer does not hold: [DKBM, CBHTBM]."""
    return sorted(
        [_s(r.get("DKBM")), _s(r.get("CBHTBM"))] for r in tables.get("CBDKXX", []) if _s(r.get("DKBM")) not in dkbms
    )


def _contractor_attrs(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "cbflx": _s(r.get("CBFLX")) or "1",
        "name": _s(r.get("CBFMC")),
        "id_type": _s(r.get("CBFZJLX")) or "1",
        "id_number": _s(r.get("CBFZJHM")).upper(),
        "address": _s(r.get("CBFDZ")),
        "postcode": _s(r.get("YZBM")),
        "phone": _s(r.get("LXDH")),
        "survey_date": _d(r.get("CBFDCRQ")),
        "surveyor": _s(r.get("CBFDCY")),
        "survey_notes": _s(r.get("CBFDCJS")),
        "publicity_notes": _s(r.get("GSJS")),
        "publicity_recorder": _s(r.get("GSJSR")),
        "publicity_review_date": _d(r.get("GSSHRQ")),
        "publicity_reviewer": _s(r.get("GSSHR")),
    }


def _member(r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        _s(r.get("CYXM")),
        _s(r.get("CYXB")),
        _s(r.get("CYZJLX")) or "1",
        _s(r.get("CYZJHM")).upper(),
        _s(r.get("YHZGX")),
        _s(r.get("CYBZ")),
        _s(r.get("SFGYR")) != "2",
        _s(r.get("CYBZSM")),
    )


def _contract_attrs(r: dict[str, Any]) -> dict[str, Any]:
    total = _m(r.get("HTZMJ")) or Decimal("0.00")
    return {
        "previous_code": _s(r.get("YCBHTBM")),
        "method": _s(r.get("CBFS")) or "110",
        "term_start": _d(r.get("CBQXQ")),
        "term_end": _d(r.get("CBQXZ")),
        "total_area": total,
        "total_area_mu": _m(r.get("HTZMJM")) if r.get("HTZMJM") is not None else mu_from_m2(total),
        "original_total_area": _m(r.get("YHTZMJ")),
        "parcel_count": int(r.get("CBDKZS") or 0),
        "signed_on": _d(r.get("QDSJ")),
    }


def _contract_parcel(r: dict[str, Any]) -> tuple[Any, ...]:
    htmj = _m(r.get("HTMJ")) or Decimal("0.00")
    return (
        _s(r.get("DKBM")),
        _s(r.get("CBJYQQDFS")) or "110",
        htmj,
        _m(r.get("HTMJM")) if r.get("HTMJM") is not None else mu_from_m2(htmj),
        _m(r.get("YHTMJ")),
        _s(r.get("LZHTBM")),
        _s(r.get("CBJYQZBM")),
        _s(r.get("SFQQQG")) == "1",
    )


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


CONTRACTOR_COLS = list(_contractor_attrs({}).keys())
CONTRACT_COLS = list(_contract_attrs({}).keys())


def load_tables(*, report: Report, tables: Rows, issuer_ids: dict[str, int], now: datetime) -> dict[str, int]:
    """Load households, contracts and certificates of a checked package; returns counts of what changed."""
    county = report.county
    counts: dict[str, int] = defaultdict(int)
    members_of: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for m in tables.get("CBF_JTCY", []):
        members_of[_s(m.get("CBFBM"))].append(_member(m))

    # --- households ---------------------------------------------------------------------------------
    cols = ", ".join(CONTRACTOR_COLS)
    current = {}
    for pid, cbfbm, version, *values in _fetch(
        f"SELECT id, cbfbm, version, {cols} FROM contracts_contractor WHERE valid_to IS NULL AND cbfbm LIKE %s",
        [county + "%"],
    ):
        attrs = dict(zip(CONTRACTOR_COLS, values, strict=True))
        attrs["id_number"] = decrypt(attrs["id_number"])
        current[cbfbm] = (pid, version, attrs)
    stored_members: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for cid, name, sex, id_type, id_enc, relation, remark_code, co_owner, remark in _fetch(
        "SELECT m.contractor_id, m.name, m.sex, m.id_type, m.id_number, m.relation, m.remark_code, m.is_co_owner, "
        "m.remark FROM contracts_familymember m JOIN contracts_contractor c ON c.id = m.contractor_id "
        "WHERE c.valid_to IS NULL AND c.cbfbm LIKE %s",
        [county + "%"],
    ):
        stored_members[cid].append((name, sex, id_type, decrypt(id_enc), relation, remark_code, co_owner, remark))

    contractor_rows, member_rows, closed = [], [], []
    contractor_id = next_id("contracts_contractor")
    member_id = next_id("contracts_familymember")
    contractor_ids: dict[str, int] = {}
    for r in tables.get("CBF", []):
        cbfbm = _s(r.get("CBFBM"))
        attrs = _contractor_attrs(r)
        members = sorted(members_of.get(cbfbm, []))
        attrs["member_count"] = len(members)
        old = current.get(cbfbm)
        version = 1
        if old is not None:
            pid, old_version, old_attrs = old
            if all(old_attrs[k] == attrs[k] for k in CONTRACTOR_COLS) and sorted(stored_members[pid]) == members:
                contractor_ids[cbfbm] = pid
                continue
            closed.append(pid)
            version = old_version + 1
            counts["households_changed"] += 1
        else:
            counts["households_new"] += 1
        contractor_ids[cbfbm] = contractor_id
        row = attrs | {
            "id": contractor_id,
            "version": version,
            "valid_from": now,
            "valid_to": None,
            "status": "current",
            "cbfbm": cbfbm,
            "issuer_id": issuer_ids[issuer_of(cbfbm)],
            "id_number": encrypt(attrs["id_number"]),
            "id_number_hash": lookup_hash(attrs["id_number"]),
        }
        contractor_rows.append(tuple(row[c] for c in CONTRACTOR_COLUMNS))
        for mem in members:
            member_rows.append(
                (
                    member_id,
                    contractor_id,
                    mem[0],
                    mem[1],
                    mem[2],
                    encrypt(mem[3]),
                    lookup_hash(mem[3]),
                    mem[4],
                    mem[5],
                    mem[6],
                    mem[7],
                )
            )
            member_id += 1
        contractor_id += 1
    if closed:
        _fetch(
            "UPDATE contracts_contractor SET valid_to = %s, status = 'superseded' WHERE id = ANY(%s) RETURNING id",
            [now, closed],
        )
    copy_rows("contracts_contractor", CONTRACTOR_COLUMNS, contractor_rows)
    copy_rows(
        "contracts_familymember",
        MEMBER_COLUMNS,
        member_rows,
    )

    # --- contracts and their parcels -----------------------------------------------------------------
    parcel_ids = dict(
        _fetch("SELECT dkbm, id FROM spatial_parcel WHERE valid_to IS NULL AND dkbm LIKE %s", [county + "%"])
    )
    parcels_of: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in tables.get("CBDKXX", []):
        if _s(r.get("DKBM")) in parcel_ids:
            parcels_of[_s(r.get("CBHTBM"))].append(_contract_parcel(r))
    ccols = ", ".join(CONTRACT_COLS)
    current_contracts = {
        code: (pid, version, holder, dict(zip(CONTRACT_COLS, values, strict=True)))
        for pid, code, version, holder, *values in _fetch(
            f"SELECT id, cbhtbm, version, contractor_id, {ccols} FROM contracts_contract "
            "WHERE valid_to IS NULL AND cbhtbm LIKE %s",
            [county + "%"],
        )
    }
    stored_parcels: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for cid, *values in _fetch(
        "SELECT cp.contract_id, cp.dkbm, cp.acquisition, cp.htmj, cp.htmjm, cp.original_htmj, cp.transfer_code, "
        "cp.certificate_code, cp.confirmed_by_share FROM contracts_contractparcel cp JOIN contracts_contract c "
        "ON c.id = cp.contract_id WHERE c.valid_to IS NULL AND c.cbhtbm LIKE %s",
        [county + "%"],
    ):
        stored_parcels[cid].append(tuple(values))
    # the highest version of each code, a draft awaiting filing included (contracts.filing): a changed
    # contract takes the next number after it
    last_version = dict(
        _fetch(
            "SELECT cbhtbm, max(version) FROM contracts_contract WHERE cbhtbm LIKE %s GROUP BY cbhtbm", [county + "%"]
        )
    )
    contract_rows, cp_rows, closed = [], [], []
    contract_id = next_id("contracts_contract")
    for r in tables.get("CBHT", []):
        code = _s(r.get("CBHTBM"))
        cbfbm = _s(r.get("CBFBM"))
        attrs = _contract_attrs(r)
        lines = sorted(parcels_of.get(code, []))
        known_contract = current_contracts.get(code)
        version = 1
        if known_contract is not None:
            pid, old_version, holder, old_attrs = known_contract
            if (
                holder == contractor_ids.get(cbfbm)
                and all(old_attrs[k] == attrs[k] for k in CONTRACT_COLS)
                and sorted(stored_parcels[pid]) == lines
            ):
                continue
            closed.append(pid)
            version = max(old_version, last_version.get(code, 0)) + 1
            counts["contracts_changed"] += 1
        else:
            counts["contracts_new"] += 1
        if cbfbm not in contractor_ids:
            report.contracts_without_household.append(code)
            continue
        contract_rows.append(
            (
                contract_id,
                version,
                now,
                None,
                "current",
                code,
                issuer_ids[issuer_of(code)],
                contractor_ids[cbfbm],
                *[attrs[k] for k in CONTRACT_COLS],
            )
        )
        for line in lines:
            cp_rows.append((contract_id, parcel_ids[line[0]], *line))
        contract_id += 1
    if closed:
        _fetch(
            "UPDATE contracts_contract SET valid_to = %s, status = 'superseded' WHERE id = ANY(%s) RETURNING id",
            [now, closed],
        )
    copy_rows(
        "contracts_contract",
        ["id", "version", "valid_from", "valid_to", "status", "cbhtbm", "issuer_id", "contractor_id", *CONTRACT_COLS],
        contract_rows,
    )
    copy_rows(
        "contracts_contractparcel",
        CONTRACT_PARCEL_COLUMNS,
        cp_rows,
    )

    # --- certificates: a state, not versioned; a new one is added, a known one keeps its record -------
    known = {c for (c,) in _fetch("SELECT cbjyqzbm FROM contracts_certificate WHERE cbjyqzbm LIKE %s", [county + "%"])}
    contract_ids = dict(
        _fetch("SELECT cbhtbm, id FROM contracts_contract WHERE valid_to IS NULL AND cbhtbm LIKE %s", [county + "%"])
    )
    cert_rows = []
    for r in tables.get("CBJYQZ", []):
        code = _s(r.get("CBJYQZBM"))
        if code in known or code not in contract_ids:
            continue
        cert_rows.append(
            (
                code,
                contract_ids[code],
                _s(r.get("FZJG")),
                _d(r.get("FZRQ")) or now.date(),
                _s(r.get("QZSFLQ")) == "1",
                _d(r.get("QZLQRQ")),
                _s(r.get("QZLQRXM")),
                _s(r.get("QZLQRZJLX")),
                encrypt(_s(r.get("QZLQRZJHM"))),
                "issued",
            )
        )
    counts["certificates_new"] = copy_rows(
        "contracts_certificate",
        CERTIFICATE_COLUMNS,
        cert_rows,
    )
    for table in (
        "contracts_contractor",
        "contracts_familymember",
        "contracts_contract",
        "contracts_contractparcel",
        "contracts_certificate",
    ):
        reset_sequence(table)
    return dict(counts)
