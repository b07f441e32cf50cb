"""Validators for every code of NY/T 2539 and GB/T 35958, and for ID and credit-code check characters.

One function per code: every way into the registry (services, imports, API) calls these.
"""

import operator
import re

from .errors import CodeError, IdNumberError

REGION_CODE_LENGTHS = {"county": 6, "township": 9, "village": 12, "group": 14}
_DIGITS = re.compile(r"^\d+$")


def _digits(value: str, length: int, zh_name: str, en_name: str, field: str) -> str:
    if not isinstance(value, str) or len(value) != length or not _DIGITS.match(value):
        raise CodeError(
            f"{zh_name}必须是 {length} 位数字，收到 “{value}”",
            f"{en_name} must be {length} digits, got '{value}'",
            field=field,
        )
    return value


# The regions a code lies in: every code starts with its county (6), township (9), village (12) and issuer
# (14: the villager group, or the village with 00) — a parcel 19, a household 18, a contract 19 digits.
def county_of(code: str) -> str:
    """县 of any code: its first 6 digits (GB/T 2260)."""
    return code[:6]


def township_of(code: str) -> str:
    """乡镇: the first 9 digits."""
    return code[:9]


def village_of(code: str) -> str:
    """行政村: the first 12 digits."""
    return code[:12]


def issuer_of(code: str) -> str:
    """发包方编码 FBFBM of a parcel, household or contract code: the first 14 digits."""
    return code[:14]


def validate_region_code(code: str, level: str) -> str:
    """County 6, township 9, village 12, villager group 14 digits (GB/T 2260 + 3 + 3 + 2)."""
    if level not in REGION_CODE_LENGTHS:
        raise CodeError(f"未知的区域级别 {level}", f"unknown region level {level}", field="level")
    return _digits(code, REGION_CODE_LENGTHS[level], "区域代码", "region code", "code")


def validate_child_code(code: str, parent_code: str) -> str:
    if not code.startswith(parent_code):
        raise CodeError(
            f"代码 {code} 不在上级区域 {parent_code} 之下",
            f"code {code} does not start with its parent's code {parent_code}",
            field="code",
        )
    return code


def validate_fbfbm(code: str) -> str:
    """发包方编码: 14 digits, a village (ending 00) or villager group code."""
    return _digits(code, 14, "发包方编码", "issuer code FBFBM", "fbfbm")


def _issuer_sequence_code(code: str, fbfbm: str | None, length: int, zh: str, en: str, field: str) -> str:
    """A code made of the issuer's FBFBM and a non-zero sequence (CBFBM, DKBM)."""
    _digits(code, length, zh, en, field)
    if int(code[14:]) == 0:
        raise CodeError(f"{zh}顺序号不能全为 0", f"the sequence part of the {en} cannot be all zeros", field=field)
    if fbfbm is not None and issuer_of(code) != fbfbm:
        raise CodeError(
            f"{zh}前 14 位应为发包方编码 {fbfbm}",
            f"{en.split()[-1]}[:14] must be the issuer code {fbfbm}",
            field=field,
        )
    return code


def validate_cbfbm(code: str, fbfbm: str | None = None) -> str:
    """承包方编码: FBFBM + 4 digits; households 0001–8000, individuals 8001–9000, units 9001–9999."""
    return _issuer_sequence_code(code, fbfbm, 18, "承包方编码", "contractor code CBFBM", "cbfbm")


def contractor_type_of(cbfbm: str) -> str:
    """CBFLX implied by the sequence: 1 农户 (0001–8000), 2 个人 (8001–9000), 3 单位 (9001–9999)."""
    seq = int(cbfbm[14:])
    return "1" if seq <= 8000 else "2" if seq <= 9000 else "3"


def validate_dkbm(code: str, fbfbm: str | None = None) -> str:
    """地块编码: FBFBM + 5-digit sequence within the issuer."""
    return _issuer_sequence_code(code, fbfbm, 19, "地块编码", "parcel code DKBM", "dkbm")


def validate_contract_code(code: str, cbfbm: str | None = None, field: str = "cbhtbm") -> str:
    """承包合同编码 / 经营权证编码: CBFBM + one method letter (J for household contracting 家庭承包)."""
    if not isinstance(code, str) or len(code) != 19 or not _DIGITS.match(code[:18]) or not code[18].isalpha():
        raise CodeError(
            f"合同/权证编码应为 18 位承包方编码加 1 位字母，收到 “{code}”",
            f"contract/certificate code must be the 18-digit CBFBM plus one letter, got '{code}'",
            field=field,
        )
    if cbfbm is not None and code[:18] != cbfbm:
        raise CodeError(
            f"合同编码前 18 位应为承包方编码 {cbfbm}",
            f"code[:18] must be the contractor code {cbfbm}",
            field=field,
        )
    return code


# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def id_check_char(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("17 digits expected")
    return _ID_CHECK[sum(map(operator.mul, map(int, first17), _ID_WEIGHTS)) % 11]


def validate_resident_id(value: str) -> str:
    """居民身份证号码 (GB 11643): 18 characters, a real date of birth, the MOD 11-2 check character."""
    from datetime import date

    value = (value or "").strip().upper()
    if not _ID_RE.match(value):
        raise IdNumberError(
            "身份证号码应为 18 位（最后一位可为 X）",
            "a resident ID number has 18 characters (the last may be X)",
            field="id_number",
        )
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(
            "身份证号码中的出生日期无效",
            "the date of birth in the ID number is not a real date",
            field="id_number",
        ) from None
    if id_check_char(value[:17]) != value[17]:
        raise IdNumberError(
            "身份证号码校验位错误，请核对",
            "the ID number's check character is wrong; please check it",
            field="id_number",
        )
    return value


# GB 32100-2015 unified social credit code: 18 characters over this alphabet (no I, O, Z, S, V).
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def validate_social_credit_code(value: str) -> str:
    """统一社会信用代码 (GB 32100): 18 characters, check character MOD 31."""
    value = (value or "").strip().upper()
    if len(value) != 18 or any(c not in _USCC_CHARS for c in value):
        raise IdNumberError(
            "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）",
            "a unified social credit code has 18 digits or capitals (no I, O, Z, S, V)",
            field="id_number",
        )
    if uscc_check_char(value[:17]) != value[17]:
        raise IdNumberError(
            "统一社会信用代码校验位错误",
            "the social credit code's check character is wrong",
            field="id_number",
        )
    return value


def validate_id_document(id_type: str, value: str) -> str:
    """Validate an ID by its 证件类型: 1 居民身份证 checked by GB 11643, 3 机构代码证 by GB 32100."""
    if id_type == "1":
        return validate_resident_id(value)
    if id_type == "3" and len(value.strip()) == 18:
        return validate_social_credit_code(value)
    if not value or len(value) > 30:
        raise IdNumberError("证件号码不能为空且不超过 30 位", "ID number must be 1–30 characters", field="id_number")
    return value.strip()


def mask_id_number(value: str) -> str:
    """Show the first 3 and last 4 characters only: 450***********123X."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if value and len(value) >= 11 else ("*" * len(value or ""))
