"""Cell values as people type them."""

import datetime as dt

import pytest

from bangfu.imports import normalise as norm
from bangfu.imports.headers import Field, header_key, match


@pytest.mark.parametrize(
    "cell",
    [
        dt.date(2021, 9, 1),
        dt.datetime(2021, 9, 1, 0, 0),
        44440,  # an Excel serial number
        44440.0,
        "2021/9/1",
        "2021-09-01",
        "2021年9月1日",
        "2021.9.1",
        "20210901",
        20210901,
        " ２０２１－０９－０１ ",
        "2021-09-01 00:00:00",
    ],
)
def test_a_date_typed_any_usual_way(cell: object) -> None:
    assert norm.date(cell) == dt.date(2021, 9, 1)


@pytest.mark.parametrize("cell", ["2021/2/30", "九月一日", "2021-13-01", "next week"])
def test_a_date_that_is_not_one(cell: str) -> None:
    with pytest.raises(norm.Invalid, match="is not a date"):
        norm.date(cell)


def test_text_makes_full_width_half_width_and_trims() -> None:
    assert norm.text("  ＡＢＣ　１２３  ") == "ABC 123"
    assert norm.text(2021001.0) == "2021001"
    assert norm.text("2021001") == "2021001"
    assert norm.text("ｘ１２") == "x12"
    assert norm.text("王小明") == "王小明"
    assert [norm.blank(v) for v in ("", "  ", "\u3000", "\t\n", None, " a ", 0)] == [True] * 5 + [False] * 2
    assert norm.code(" ２０２１ ００１ ") == "2021001"
    assert norm.name(" 王　小明 ") == "王小明"
    assert norm.name("  Anna  Li ") == "Anna Li"
    assert norm.prose(" 父母务农，家中三口人。 ") == "父母务农，家中三口人。"


def test_id_numbers_lose_spaces_and_lower_case_x() -> None:
    assert norm.id_number(" 130523 20050309 213x ") == "13052320050309213X"
    with pytest.raises(norm.Invalid, match="stored as a number and lost its last digits"):
        norm.id_number(1.3052320050309213e17)


@pytest.mark.parametrize(("cell", "code"), [("男", "M"), ("男性", "M"), ("m", "M"), ("Female", "F"), (" 女 ", "F")])
def test_gender_synonyms(cell: str, code: str) -> None:
    assert norm.gender(cell) == code


def test_categories_in_local_wording_and_mixed_separators() -> None:
    assert norm.categories("低保家庭、孤儿") == ["subsistence_allowance", "orphan"]
    assert norm.categories("脱贫户，国家助学贷款; 建档立卡") == ["poverty_alleviated", "student_loan"]
    assert norm.categories("Household lifted out of poverty (formerly registered poor)") == ["poverty_alleviated"]
    assert norm.categories("disabled / rural") == ["disabled", "rural"]
    with pytest.raises(norm.Invalid, match=r"^Unknown category: 贫困、单亲$"):
        norm.categories("低保、贫困、单亲")


def test_years_regions_phones_levels() -> None:
    assert [norm.year(v) for v in ("2021级", 2021.0, "2021年", "２０２１", dt.date(2021, 9, 1))] == [2021] * 5
    assert norm.region("河北省石家庄市辛集市") == ("河北省", "石家庄市", "辛集市")
    assert norm.region("北京市海淀区") == ("北京市", "北京市", "海淀区")
    assert norm.region("内蒙古自治区呼和浩特市土默特左旗") == ("内蒙古自治区", "呼和浩特市", "土默特左旗")
    assert norm.phone("138 1234-5678") == "13812345678"
    assert norm.phone(13812345678) == "13812345678"
    assert norm.phone("+86 138 1234 5678") == "13812345678"
    assert norm.level("本科") == "bachelor"
    assert norm.hardship_level("特别困难") == "special"
    assert norm.yes_no("是") is True


def test_a_memo_cleans_each_distinct_value_once_and_remembers_refusals() -> None:
    calls: list[object] = []

    def clean(value: object) -> str:
        calls.append(value)
        return norm.gender(value)

    memo = norm.Memo(clean)
    assert [memo("男"), memo("男"), memo("女")] == ["M", "M", "F"]
    for _ in range(2):
        with pytest.raises(norm.Invalid):
            memo("?")
    assert calls == ["男", "女", "?"]


def test_headers_match_their_synonyms_whatever_the_marks() -> None:
    fields = [
        Field("id_number", "ID number", "身份证号", "ID number", ("身份证号码",)),  # type: ignore[arg-type]
        Field("name", "Name", "姓名", "Name"),  # type: ignore[arg-type]
    ]
    assert header_key("*身份证号码（18位）") == "身份证号码"
    assert header_key(" ID  Number: ") == "idnumber"
    assert match(["序号", "*姓名", "家长姓名", "身份证号码（18位）", "姓名"], fields) == {"name": 1, "id_number": 3}
