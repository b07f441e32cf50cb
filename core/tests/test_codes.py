"""Every code is validated on the way in: lengths, prefixes and check characters (DOMAIN.md, Codes)."""

import pytest

from core.codes import (
    id_check_char,
    mask_id_number,
    validate_cbfbm,
    validate_contract_code,
    validate_dkbm,
    validate_fbfbm,
    validate_region_code,
    validate_resident_id,
    validate_social_credit_code,
)
from core.errors import CodeError, IdNumberError

# GB 11643's own worked example: 11010519491231002X.
VALID_ID = "11010519491231002X"


def test_resident_id_with_correct_check_character_passes():
    assert validate_resident_id(VALID_ID) == VALID_ID
    assert validate_resident_id(" 11010519491231002x ") == VALID_ID


@pytest.mark.parametrize(
    "bad",
    [
        "110105194912310021",  # wrong check character
        "11010519491231002",  # 17 characters
        "1101051949123100211",  # 19 characters
        "11010519491331002X",  # month 13
        "11010519490230002X",  # 30 February
        "A1010519491231002X",  # a letter inside
        "",
    ],
)
def test_resident_id_rejects_bad_numbers_with_a_typed_error(bad):
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(bad)
    assert exc.value.code == "invalid_id_number"
    assert "身份证" in exc.value.zh


def test_every_check_character_round_trips():
    for first17 in ("45032619800101001", "45032620230630888", "11010519491231002"):
        assert validate_resident_id(first17 + id_check_char(first17))


def test_social_credit_code_check_character():
    # A code built with the GB 32100 weights: the last character is the MOD 31 check.
    from core.codes import uscc_check_char

    first17 = "91450300MA5KXXXX1"
    code = first17 + uscc_check_char(first17)
    assert validate_social_credit_code(code) == code
    wrong = first17 + ("0" if code[-1] != "0" else "1")
    with pytest.raises(IdNumberError):
        validate_social_credit_code(wrong)
    with pytest.raises(IdNumberError):
        validate_social_credit_code("91450300MA5KXXXXIO")  # I and O are not in the alphabet


@pytest.mark.parametrize(
    ("code", "level"),
    [("45032", "county"), ("4503261000", "township"), ("45032610020", "village"), ("4503261002000a", "group")],
)
def test_region_codes_have_their_levels_length(code, level):
    with pytest.raises(CodeError):
        validate_region_code(code, level)


def test_parcel_code_must_start_with_its_issuer_code():
    assert validate_dkbm("4503261002000100001", "45032610020001")
    with pytest.raises(CodeError) as exc:
        validate_dkbm("4503261002000200001", "45032610020001")
    assert "DKBM[:14]" in exc.value.en
    with pytest.raises(CodeError):
        validate_dkbm("4503261002000100000")  # sequence 00000
    with pytest.raises(CodeError):
        validate_dkbm("450326100200010001")  # 18 digits


def test_contractor_and_contract_codes():
    assert validate_cbfbm("450326100200010001", "45032610020001")
    with pytest.raises(CodeError):
        validate_cbfbm("450326100200020001", "45032610020001")
    with pytest.raises(CodeError):
        validate_cbfbm("450326100200010000")
    assert validate_contract_code("450326100200010001J", "450326100200010001")
    with pytest.raises(CodeError):
        validate_contract_code("4503261002000100011", "450326100200010001")  # method must be a letter
    with pytest.raises(CodeError):
        validate_fbfbm("4503261002000")


def test_masking_keeps_only_the_ends():
    assert mask_id_number(VALID_ID) == "110***********002X"
    assert VALID_ID[3:14] not in mask_id_number(VALID_ID)


def test_every_code_names_its_county_township_village_and_issuer():
    from core.codes import county_of, issuer_of, township_of, village_of

    dkbm, cbfbm, cbhtbm = "4503261002000100017", "450326100200010001", "450326100200010001J"
    assert {county_of(c) for c in (dkbm, cbfbm, cbhtbm)} == {"450326"}
    assert township_of(dkbm) == "450326100" and village_of(dkbm) == "450326100200"
    assert issuer_of(dkbm) == issuer_of(cbfbm) == issuer_of(cbhtbm) == "45032610020001"
