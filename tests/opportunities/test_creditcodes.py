"""Unified social credit codes (GB 32100-2015) and the employer-name key used to find duplicates."""

import pytest
from django.core.exceptions import ValidationError

from bangfu.opportunities.creditcodes import check_char, name_key, normalise, validate

# Codes as published on business licences (their check characters are right).
PUBLISHED = ["91330100799655058B", "91110108551385082Q", "91440300708461136T", "91350100M000100Y43"]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert validate(code) == code
    assert check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    "typed",
    [
        "91330100799655058b",  # lower case
        " 9133 0100 7996 5505 8B ",  # spaces from a printed licence
        full_width("91330100799655058B"),  # a Chinese input method in full-width mode
        "９１３３０１００７９９６５５０５８Ｂ",
        "9133\u30000100799655058B",  # an ideographic space
    ],
)
def test_typed_variants_are_normalised(typed: str) -> None:
    assert validate(typed) == "91330100799655058B"


@pytest.mark.parametrize(
    "code",
    ["91330100799655058C", "91330100799655059B", "19330100799655058B", "91110108551385082R"],
)
def test_a_wrong_check_character_is_refused_as_a_typing_error(code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate(code)

    assert refused.value.code == "checksum"
    assert refused.value.messages == ["The credit code's check character is wrong: please check it for a typing error."]


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_letters_the_standard_leaves_out_are_refused(letter: str) -> None:
    code = "91350100M000100Y4" + letter

    with pytest.raises(ValidationError) as refused:
        validate(code)

    assert refused.value.code == "format"


@pytest.mark.parametrize(
    "code", ["", "9133010079965505", "91330100799655058B1", "91330100-799655058", "9133010079965505８Ｂ8"]
)
def test_a_code_of_the_wrong_shape_is_refused(code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate(code)

    assert refused.value.code == "format"
    assert refused.value.messages == [
        "A unified social credit code has 18 characters: digits and capital letters except I, O, S, V and Z."
    ]


def test_the_check_character_can_be_a_letter_or_zero() -> None:
    checks = {check_char(f"91130100{n:09d}") for n in range(200)}

    assert "0" in checks
    assert {c for c in checks if c.isalpha()} <= set("ABCDEFGHJKLMNPQRTUWXY")
    assert len(checks) > 20


def test_normalise_keeps_the_characters_and_drops_the_spaces() -> None:
    assert normalise(" ９１ ab\t") == "91AB"
    assert normalise(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("石家庄华信科技有限公司", "石家庄 华信科技有限公司"),
        ("石家庄华信科技（集团）有限公司", "石家庄华信科技(集团)有限公司"),
        ("石家庄华信科技（集团）有限公司", "石家庄华信科技集团有限公司"),
        ("【华信】科技有限公司", "华信科技有限公司"),
        ("ＡＢＣ Trading Co., Ltd.", "abc trading co ltd"),
        ("河北·冀之力商贸有限公司", "河北冀之力商贸有限公司"),
    ],
)
def test_names_that_differ_only_in_spaces_brackets_width_or_case_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_different_names_keep_different_keys() -> None:
    assert name_key("石家庄华信科技有限公司") == "石家庄华信科技有限公司"
    assert name_key("石家庄华信科技有限公司") != name_key("保定华信科技有限公司")
