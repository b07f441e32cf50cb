"""What an application changes in the registry, through the spatial and contracts services.

* `clean_change`: an application's change data checked when it is made (members by id, new members'
  ID numbers checked and encrypted, never stored in the clear).
* `stage_change`: at the county's approval, the change becomes pending versions 待备案: the household
  with its new members (contracts.services.contractor_stage) and the re-surveyed parcels from the
  accepted survey (spatial.services.parcel_stage). Nothing current changes.
* `parcels_for_draft`: the parcels the new contract will hold.
* `change_message`: after filing, the change before and after in the shape of the 2019 change message
  (DOMAIN.md): HEAD, BUSINESS_DATA, ORIGINAL_DATA and CHANGE_DATA, every record with its CZFS.

* `moved_parcels`: a transfer, an exchange or a merge: the parcels each of the two contracts will hold.

A split 分户 stages the household without the leaving members and a new household of them (the issuer's
next household code), whose first contract holds the parcels they take.
"""

import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User
from contracts.models import Certificate, Contract, Contractor, FamilyMember, RegisterEntry
from contracts.services import MemberInput, contractor_stage, contractor_stage_new
from core.codes import county_of, issuer_of, mask_id_number, validate_id_document
from core.crypto import decrypt, encrypt
from core.errors import DomainError
from core.ports import resolve_subjects
from spatial.models import Issuer, Parcel, VersionStatus
from spatial.services import next_parcel_code, parcel_stage

from .models import Application
from .workflow import BusinessType

MEMBER_TYPES = {BusinessType.MEMBERS, BusinessType.REPRESENTATIVE}
# Changes of two households (the applicant's and a transferee, an exchange partner, a merging or a new
# split-off household). A transfer or an exchange moves whole parcels: both contracts are drafted,
# publicised, signed and filed together.
TWO_HOUSEHOLD_TYPES = {BusinessType.TRANSFER, BusinessType.EXCHANGE, BusinessType.SPLIT, BusinessType.MERGE}
ACQUISITION = {BusinessType.TRANSFER: "200", BusinessType.EXCHANGE: "300"}  # CBJYQQDFS of a moved parcel


class ChangeError(DomainError):
    default_code = "change_invalid"


def current_household(cbfbm: str) -> Contractor | None:
    return Contractor.objects.filter(cbfbm=cbfbm, valid_to__isnull=True).first()


def current_contract(cbfbm: str) -> Contract | None:
    return (
        Contract.objects.filter(contractor__cbfbm=cbfbm, valid_to__isnull=True, status=VersionStatus.CURRENT)
        .select_related("issuer", "contractor")
        .first()
    )


def clean_change(business: str, cbfbm: str, data: dict[str, Any]) -> dict[str, Any]:
    """The change data of a new application, checked: removed members and the new representative are
    members of the current household (by id, or by name when unique); a new member's ID number has a
    valid check digit and is stored encrypted, with a masked copy for the pages."""
    if business in TWO_HOUSEHOLD_TYPES:
        return _clean_other_household(business, cbfbm, data)
    if business not in MEMBER_TYPES:
        return {k: v for k, v in data.items() if k in ("term_start", "term_end", "note")}
    household = current_household(cbfbm)
    if household is None:
        raise ChangeError(f"承包方 {cbfbm} 没有现行记录", f"no current household {cbfbm}", field="cbfbm")
    members = list(household.members.all())

    def member_id(ref: Any) -> int:
        found = [m for m in members if str(m.pk) == str(ref) or m.name == str(ref)]
        if len(found) != 1:
            raise ChangeError(f"本户没有成员“{ref}”", f"the household has no member {ref!r}", field="change_data")
        return found[0].pk

    cleaned: dict[str, Any] = {}
    if business == BusinessType.MEMBERS:
        removed = [member_id(r) for r in data.get("members_removed", [])]
        added = []
        for row in data.get("members_added", []):
            name = str(row.get("name", "")).strip()
            if not name or str(row.get("sex")) not in ("1", "2") or not str(row.get("relation", "")).strip():
                raise ChangeError(
                    "新成员须填写姓名、性别和与户主关系",
                    "a new member needs a name, sex and relation",
                    field="change_data",
                )
            number = validate_id_document("1", str(row.get("id_number", "")))
            added.append(
                {
                    "name": name[:50],
                    "sex": str(row["sex"]),
                    "relation": str(row["relation"]).strip()[:2],
                    "id_number_enc": encrypt(number),
                    "id_masked": mask_id_number(number),
                }
            )
        if not removed and not added:
            raise ChangeError("请写明增加或减少哪些成员", "say which members join or leave", field="change_data")
        cleaned = {
            "members_removed": removed,
            "removed_names": [m.name for m in members if m.pk in removed],
            "members_added": added,
        }
    else:
        rep = member_id(data.get("representative", ""))
        cleaned = {"representative": rep, "representative_name": next(m.name for m in members if m.pk == rep)}
    return cleaned


def _clean_other_household(business: str, cbfbm: str, data: dict[str, Any]) -> dict[str, Any]:
    """The other household of a transfer (受让方), an exchange (互换对方, with the parcels it gives) or a
    merge (并入的户): a current household of the same collective (FBFBM), not the applicant's; a split
    (分户) names the members who leave to form the new household."""
    if business == BusinessType.SPLIT:
        household = current_household(cbfbm)
        ids = {m.pk: m.name for m in household.members.all()} if household else {}
        leaving = [int(r) for r in data.get("members_leaving", []) if str(r).isdigit() and int(r) in ids]
        if not leaving or len(leaving) != len(data.get("members_leaving", [])) or len(leaving) == len(ids):
            raise ChangeError(
                "请选择分出去的成员（至少一人，且不能是全部成员）",
                "choose the members who leave (at least one, not all)",
                field="change_data",
            )
        return {"members_leaving": leaving, "leaving_names": [ids[i] for i in leaving]}
    other = str(data.get("other_cbfbm", "")).strip()
    other_household = current_household(other) if other else None
    if other_household is None or other == cbfbm or issuer_of(other) != issuer_of(cbfbm):
        raise ChangeError(
            "请填写同一集体经济组织内另一户的承包方编码",
            "give the code of another household of the same collective",
            field="other_cbfbm",
        )
    cleaned: dict[str, Any] = {"other_cbfbm": other, "other_name": other_household.name}
    if business == BusinessType.EXCHANGE:
        codes = sorted({str(d).strip() for d in data.get("parcels_in", []) if str(d).strip()})
        holders = {d: row["cbfbm"] for d, row in resolve_subjects("parcel_holders", codes).items()}
        if not codes or any(holders.get(d) != other for d in codes):
            raise ChangeError(
                "请列出对方用于互换的地块（须为对方承包的地块）",
                "list the other household's parcels in the exchange (theirs)",
                field="parcels_in",
            )
        cleaned["parcels_in"] = codes
    return cleaned


def _stage_parcels(actor: User, app: Application) -> tuple[list[int], list[str]]:
    """The accepted survey's parcels as pending versions: for each old parcel, the largest new part
    surveyed over it keeps its code (a new version), every other part gets a new code of the issuer; an
    old parcel no new part keeps is retired on filing."""
    task = app.survey_task
    if task is None or task.submitted is None:
        raise ChangeError("没有已通过的测绘成果", "no accepted survey result", code="no_survey")
    proposed = list(task.submitted.parcels.order_by("-area_m2", "index"))
    issuer = Issuer.objects.get(fbfbm=app.fbfbm)
    kept: set[str] = set()
    taken: set[str] = set()
    staged: list[int] = []
    for p in proposed:
        if p.dkbm and p.dkbm in task.dkbms and p.dkbm not in kept:
            code = p.dkbm
            kept.add(code)
        else:
            code = next_parcel_code(issuer, taken)
            taken.add(code)
        staged.append(parcel_stage(actor=actor, issuer=issuer, dkbm=code, geom=p.geom).pk)
    return staged, sorted(set(task.dkbms) - kept)


def stage_change(actor: User, app: Application) -> dict[str, Any]:
    """The approved change as pending versions (see the module); returns what `Application.staged` keeps."""
    staged: dict[str, Any] = {}
    household = current_household(app.cbfbm)
    if app.business in MEMBER_TYPES:
        if household is None:
            raise ChangeError("该户没有现行记录", "the household has no current record", code="not_current")
        data = app.change_data
        added = [
            MemberInput(name=m["name"], sex=m["sex"], relation=m["relation"], id_number=decrypt(m["id_number_enc"]))
            for m in data.get("members_added", [])
        ]
        staged["contractor"] = contractor_stage(
            actor=actor,
            contractor=household,
            removed=data.get("members_removed", []),
            added=added,
            representative=data.get("representative"),
        ).pk
    if app.business == BusinessType.MERGE:  # the other household's members join this one
        joining = current_household(app.change_data["other_cbfbm"])
        if household is None or joining is None:
            raise ChangeError("两户须都有现行记录", "both households need a current record", code="not_current")
        staged["contractor"] = contractor_stage(
            actor=actor,
            contractor=household,
            added=[
                MemberInput(
                    name=m.name,
                    sex=m.sex,
                    relation="99" if m.relation == "02" else m.relation,  # its head is no longer a head here
                    id_number=m.id_number,
                    id_type=m.id_type,
                    is_co_owner=m.is_co_owner,
                )
                for m in joining.members.all()
            ],
        ).pk
    if app.business == BusinessType.SPLIT:
        if household is None:
            raise ChangeError("该户没有现行记录", "the household has no current record", code="not_current")
        leaving_ids = app.change_data["members_leaving"]
        leaving = [m for m in household.members.order_by("pk") if m.pk in leaving_ids]
        inputs = [
            MemberInput(
                name=m.name,
                sex=m.sex,
                relation=m.relation,
                id_number=m.id_number,
                id_type=m.id_type,
                is_co_owner=m.is_co_owner,
            )
            for m in leaving
        ]
        if any(not m.id_number for m in inputs):
            raise ChangeError("分出的成员须有身份证号码", "the members splitting off need ID numbers", code="no_id")
        staged["contractor"] = contractor_stage(actor=actor, contractor=household, removed=leaving_ids).pk
        new = contractor_stage_new(actor=actor, issuer=household.issuer, members=inputs, head=inputs[0])
        staged["new_contractor"], staged["new_cbfbm"] = new.pk, new.cbfbm
    if app.needs_survey:
        staged["parcels"], staged["retire"] = _stage_parcels(actor, app)
    return staged


def other_household_code(app: Application) -> str:
    """The other household of a two-household change: named in the application, or made by a split."""
    return str(app.change_data.get("other_cbfbm") or app.staged.get("new_cbfbm") or "")


def parcels_for_draft(app: Application, contract: Contract) -> list[Parcel] | None:
    """The new contract's parcels: the current ones outside the survey, and the staged versions (None:
    the contract keeps its parcels)."""
    if not app.staged.get("parcels"):
        return None
    replaced = set(app.survey_task.dkbms) if app.survey_task else set()
    keep = [e.dkbm for e in contract.parcels.all() if e.dkbm not in replaced]
    current = list(Parcel.objects.filter(dkbm__in=keep, valid_to__isnull=True))
    return current + list(Parcel.objects.filter(pk__in=app.staged["parcels"]).order_by("dkbm"))


def moved_parcels(app: Application, mine: Contract, theirs: Contract) -> tuple[list[Parcel], list[Parcel]]:
    """A transfer, an exchange or a merge: the parcels of the applicant's next contract (theirs less those
    given, plus those received) and of the other household's (likewise; none after a merge), each in its
    current version. The parcels must still be where the application found them."""
    held_mine = {e.dkbm for e in mine.parcels.all()}
    held_theirs = {e.dkbm for e in theirs.parcels.all()}
    given, received = set(app.dkbms), set(app.change_data.get("parcels_in", []))
    if app.business == BusinessType.MERGE:  # the household merging in brings every parcel
        given, received = set(), held_theirs
    if not given <= held_mine or not received <= held_theirs:
        raise ChangeError(
            "申请后地块的承包情况已变化，请退回重新申请",
            "the parcels changed hands since the application: return it",
            code="parcels_moved",
        )
    current = {p.dkbm: p for p in Parcel.objects.filter(dkbm__in=held_mine | held_theirs, valid_to__isnull=True)}
    mine_next = [current[d] for d in sorted((held_mine - given) | received) if d in current]
    theirs_next = [current[d] for d in sorted((held_theirs - received) | given) if d in current]
    return mine_next, theirs_next


# --- the change message -------------------------------------------------------------------------------

NONE, ADD, MODIFY, DELETE = "01", "02", "03", "04"  # CZFS


def _cbf(h: Contractor) -> dict[str, Any]:
    return {
        "CBFBM": h.cbfbm,
        "CBFLX": h.cbflx,
        "CBFMC": h.name,
        "CBFZJLX": h.id_type,
        "CBFZJHM_REF": f"contracts.Contractor:{h.pk}",
        "CBFDZ": h.address,
        "YZBM": h.postcode,
        "LXDH": h.phone_masked,
        "CBFCYSL": h.member_count,
    }


def _jtcy(m: FamilyMember, cbfbm: str) -> dict[str, Any]:
    return {
        "CBFBM": cbfbm,
        "CYXM": m.name,
        "CYXB": m.sex,
        "CYZJLX": m.id_type,
        "CYZJHM_REF": f"contracts.FamilyMember:{m.pk}",
        "YHZGX": m.relation,
        "CYBZ": m.remark_code,
        "SFGYR": "1" if m.is_co_owner else "2",
    }


def _cbht(c: Contract) -> dict[str, Any]:
    return {
        "CBHTBM": c.cbhtbm,
        "YCBHTBM": c.previous_code,
        "FBFBM": c.issuer.fbfbm,
        "CBFBM": c.contractor.cbfbm,
        "CBFS": c.method,
        "CBQXQ": c.term_start.isoformat(),
        "CBQXZ": c.term_end.isoformat(),
        "HTZMJ": str(c.total_area),
        "HTZMJM": str(c.total_area_mu),
        "CBDKZS": c.parcel_count,
        "QDSJ": c.signed_on.isoformat() if c.signed_on else None,
        "YHTZMJ": str(c.original_total_area) if c.original_total_area is not None else None,
    }


def _cbdk(p: Parcel) -> dict[str, Any]:
    return {
        "DKBM": p.dkbm,
        "DKMC": p.dkmc,
        "SYQXZ": p.syqxz,
        "DKLB": p.dklb,
        "TDLYLX": p.tdlylx,
        "DLDJ": p.dldj,
        "TDYT": p.tdyt,
        "SFJBNT": p.sfjbnt,
        "SCMJ": str(p.scmj),
        "SCMJM": str(p.scmjm),
        "DKDZ": p.dkdz,
        "DKNZ": p.dknz,
        "DKXZ": p.dkxz,
        "DKBZ": p.dkbz,
        "VERSION": p.version,
        "WKT": p.geom.wkt,
        "SRID": p.geom.srid,
    }


def _cbdkxx(c: Contract) -> dict[str, dict[str, Any]]:
    return {
        e.dkbm: {
            "DKBM": e.dkbm,
            "FBFBM": c.issuer.fbfbm,
            "CBFBM": c.contractor.cbfbm,
            "CBJYQQDFS": e.acquisition,
            "HTMJ": str(e.htmj),
            "HTMJM": str(e.htmjm),
            "YHTMJ": str(e.original_htmj) if e.original_htmj is not None else None,
            "CBHTBM": c.cbhtbm,
            "LZHTBM": e.transfer_code,
            "CBJYQZBM": e.certificate_code,
        }
        for e in c.parcels.all()
    }


def _compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], ignore: set[str]) -> list:
    """Records keyed alike, each with its CZFS: added, modified, deleted or unchanged."""
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None:
            rows.append({"CZFS": ADD, **(new or {})})
        elif new is None:
            rows.append({"CZFS": DELETE, **old})
        else:
            same = {k: v for k, v in old.items() if k not in ignore} == {
                k: v for k, v in new.items() if k not in ignore
            }
            rows.append({"CZFS": NONE if same else MODIFY, **new})
    return rows


def _members(h: Contractor) -> dict[str, dict[str, Any]]:
    return {(m.id_number_hash or m.name): _jtcy(m, h.cbfbm) for m in h.members.all()}


def change_message(app: Application, entry: RegisterEntry, retired: list[Parcel]) -> dict[str, Any]:
    """The filed change in the 2019 message's shape; see the module. `entry` is the new register entry,
    `retired` the parcels the change ended."""
    new = entry.contract
    old = entry.previous
    before_parcels = {e.dkbm: e.parcel for e in old.parcels.select_related("parcel")} if old else {}
    after_parcels = {e.dkbm: e.parcel for e in new.parcels.select_related("parcel")}
    for p in retired:
        before_parcels.setdefault(p.dkbm, p)
    parcel_rows = []
    for dkbm in sorted(set(before_parcels) | set(after_parcels)):
        b, a = before_parcels.get(dkbm), after_parcels.get(dkbm)
        if b is None and a is not None:
            parcel_rows.append({"CZFS": ADD, **_cbdk(a)})
        elif a is None and b is not None:
            gone = any(r.dkbm == dkbm for r in retired)
            parcel_rows.append({"CZFS": DELETE if gone else NONE, **_cbdk(b), "IN_CONTRACT": False})
        elif a is not None and b is not None:
            parcel_rows.append({"CZFS": NONE if a.pk == b.pk else MODIFY, **_cbdk(a)})
    old_h, new_h = (old.contractor if old else None), new.contractor
    old_cert = Certificate.objects.filter(cbjyqzbm=entry.cbjyqzbm, pk__lt=entry.certificate_id).order_by("-pk").first()
    members_before = _members(old_h) if old_h else {}
    members_after = _members(new_h)
    czfs_cbf = NONE if old_h and old_h.pk == new_h.pk else (MODIFY if old_h else ADD)
    return {
        "HEAD": {
            "SENDER": county_of(new.cbhtbm),
            "SEND_TIME": None,  # set when it is sent
            "BUSINESS_CODE": app.business,
            "GUID": str(uuid.uuid4()),
        },
        "BUSINESS_DATA": {
            "REGION": county_of(new.cbhtbm),
            "YWLSH": app.code,
            "PREVIOUS_YWLSH": (
                Application.objects.filter(cbfbm=app.cbfbm, state="filed")
                .exclude(pk=app.pk)
                .order_by("-updated_at")
                .values_list("code", flat=True)
                .first()
            ),
            "TIME": timezone.localtime(entry.djsj).isoformat(),
            "FBFBM": entry.fbfbm,
            "CBFBM": entry.cbfbm,
            "CBHTBM": new.cbhtbm,
            "CBJYQZBM": entry.cbjyqzbm,
        },
        "ORIGINAL_DATA": {
            "CBF": [_cbf(old_h)] if old_h else [],
            "JTCY": list(members_before.values()),
            "CBHT": [_cbht(old)] if old else [],
            "CBDK": [_cbdk(p) for _k, p in sorted(before_parcels.items())],
            "CBDKXX": list(_cbdkxx(old).values()) if old else [],
            "CBJYQZ": [{"CBJYQZBM": old_cert.cbjyqzbm, "SERIAL": old_cert.serial}] if old_cert else [],
        },
        "CHANGE_DATA": {
            "FBF": [{"CZFS": NONE, "FBFBM": entry.fbfbm}],
            "CBF": [{"CZFS": czfs_cbf, **_cbf(new_h)}],
            "JTCY": _compare(members_before, members_after, {"CYZJHM_REF"}),
            "CBHT": [{"CZFS": MODIFY if old else ADD, **_cbht(new)}],
            "CBJYQZDJB": [
                {
                    "CZFS": ADD,
                    "CBJYQZBM": entry.cbjyqzbm,
                    "FBFBM": entry.fbfbm,
                    "CBFBM": entry.cbfbm,
                    "CBFS": entry.cbfs,
                    "CBQX": entry.cbqx,
                    "CBQXQ": entry.cbqxq.isoformat(),
                    "CBQXZ": entry.cbqxz.isoformat(),
                    "DKSYT": entry.dksyt,
                    "CBJYQZLSH": entry.cbjyqzlsh,
                    "DBR": entry.dbr,
                    "DJSJ": timezone.localtime(entry.djsj).isoformat(),
                }
            ],
            "CBJYQZ": [{"CZFS": ADD, "CBJYQZBM": entry.cbjyqzbm, "SERIAL": entry.certificate.serial}]
            + ([{"CZFS": DELETE, "CBJYQZBM": old_cert.cbjyqzbm, "SERIAL": old_cert.serial}] if old_cert else []),
            "CBDK": parcel_rows,
            "CBDKXX": _compare(_cbdkxx(old) if old else {}, _cbdkxx(new), {"CBJYQZBM"}),
            "DKJZD": [],  # boundary points: with the survey's points once they are written to the registry
            "DKJZX": [],
            "PROJECTION": {"SRID": 4490, "NAME": "CGCS2000"},
        },
        "TOTALS": {
            "HTZMJ_BEFORE": str(old.total_area) if old else None,
            "HTZMJ_AFTER": str(new.total_area),
            "AREA_CHANGE": str(new.total_area - (old.total_area if old else Decimal("0"))),
        },
    }


def register_message(
    app: Application, contract: Contract, old: Certificate | None, new: Certificate | None
) -> dict[str, Any]:
    """A certificate action (201–203) or a cancellation (107) in the 2019 message's shape."""
    cancelled = contract.status == VersionStatus.CANCELLED
    certs = ([{"CZFS": DELETE, "CBJYQZBM": old.cbjyqzbm, "SERIAL": old.serial}] if old else []) + (
        [{"CZFS": ADD, "CBJYQZBM": new.cbjyqzbm, "SERIAL": new.serial}] if new else []
    )
    return {
        "HEAD": {
            "SENDER": county_of(contract.cbhtbm),
            "SEND_TIME": None,
            "BUSINESS_CODE": app.business,
            "GUID": str(uuid.uuid4()),
        },
        "BUSINESS_DATA": {
            "REGION": county_of(contract.cbhtbm),
            "YWLSH": app.code,
            "PREVIOUS_YWLSH": None,
            "TIME": timezone.localtime().isoformat(),
            "FBFBM": contract.issuer.fbfbm,
            "CBFBM": contract.contractor.cbfbm,
            "CBHTBM": contract.cbhtbm,
            "CBJYQZBM": contract.cbhtbm,
        },
        "ORIGINAL_DATA": {
            "CBHT": [_cbht(contract)],
            "CBDKXX": list(_cbdkxx(contract).values()),
            "CBJYQZ": [{"CBJYQZBM": old.cbjyqzbm, "SERIAL": old.serial}] if old else [],
        },
        "CHANGE_DATA": {
            "CBF": [
                {
                    "CZFS": DELETE if contract.contractor.status == VersionStatus.CANCELLED else NONE,
                    **_cbf(contract.contractor),
                }
            ],
            "CBHT": [{"CZFS": DELETE if cancelled else NONE, **_cbht(contract)}],
            "CBDKXX": [{"CZFS": DELETE if cancelled else NONE, **r} for r in _cbdkxx(contract).values()],
            "CBJYQZ": certs,
            "PROJECTION": {"SRID": 4490, "NAME": "CGCS2000"},
        },
    }


def combine_messages(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """One business changing two households' contracts: one message, the first household's HEAD and
    BUSINESS_DATA (the other's codes under RELATED), every record of both."""
    first = messages[0]
    out = {
        "HEAD": first["HEAD"],
        "BUSINESS_DATA": {
            **first["BUSINESS_DATA"],
            "RELATED": [
                {"CBFBM": m["BUSINESS_DATA"]["CBFBM"], "CBHTBM": m["BUSINESS_DATA"]["CBHTBM"]} for m in messages[1:]
            ],
        },
        "ORIGINAL_DATA": {},
        "CHANGE_DATA": {},
    }
    for part in ("ORIGINAL_DATA", "CHANGE_DATA"):
        for m in messages:
            for key, rows in m[part].items():
                if isinstance(rows, list):
                    out[part].setdefault(key, []).extend(rows)
                else:
                    out[part].setdefault(key, rows)
    return out
