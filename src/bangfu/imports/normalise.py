"""Cell values as people type them, turned into the values the models hold.

Pure functions of their argument. Each returns the clean value, or raises `Invalid` with a message a user can
read (the pipeline adds the row number and the column header). Spreadsheet cells arrive as str, int, float,
bool, date or datetime (python-calamine), or as str from a CSV file.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from bangfu.students.models import Category, Gender, HardshipLevel, Level

# Excel's day 0 (its 1900 date system counts the non-existent 29 February 1900, hence the 30th).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SPACES = re.compile(r"\s+")
# Whitespace inside a name made of Chinese characters is padding (王　明), not part of the name.
_CJK = re.compile(r"[\u3400-\u9fff]")


class Invalid(ValueError):
    """A cell's value cannot be used; the message says why."""


class Memo:
    """A normaliser that remembers what it said about each distinct value (a column of a 100,000-row file
    holds a few dozen genders, cohorts, categories and departments)."""

    LIMIT = 20_000  # distinct values kept; past that, values are cleaned each time

    def __init__(self, clean: Callable[[Any], Any]) -> None:
        self.clean = clean
        self.seen: dict[Any, tuple[Any, Invalid | None]] = {}

    def __call__(self, value: Any) -> Any:
        try:
            found = self.seen[value]
        except KeyError:
            try:
                found = (self.clean(value), None)
            except Invalid as e:
                found = (None, e)
            if len(self.seen) < self.LIMIT:
                self.seen[value] = found
        if found[1] is not None:
            raise found[1]
        return found[0]


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def text(value: Any) -> str:
    """A cell as clean text: full-width letters and digits made half-width, spaces trimmed and collapsed.

    A whole number stored as a number (学号 2021001 typed into a number cell) reads back without ".0".
    """
    if value.__class__ is str:  # most cells: tested first
        if value.isascii() and value.isalnum():  # nothing for NFKC to change, no space to trim (2021001)
            return value
        return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()


# Full-width letters and digits (and the ideographic space) made half-width; Chinese punctuation kept.
_WIDE = {0xFF10 + i: ord("0") + i for i in range(10)}
_WIDE.update({0xFF21 + i: ord("A") + i for i in range(26)})
_WIDE.update({0xFF41 + i: ord("a") + i for i in range(26)})
_WIDE[0x3000] = ord(" ")


def prose(value: Any) -> str:
    """Free text (a family situation, an address, notes): like `text`, but “，” and “。” stay Chinese."""
    if not isinstance(value, str):
        return text(value)
    return _SPACES.sub(" ", value.translate(_WIDE)).strip()


def name(value: Any) -> str:
    cleaned = prose(value)
    if _CJK.search(cleaned):
        cleaned = cleaned.replace(" ", "")
    return cleaned


def key(value: Any) -> str:
    """A matching key: text without spaces, lower-case (for unit names, codes and synonyms)."""
    return text(value).replace(" ", "").lower()


def code(value: Any) -> str:
    """An identifier typed into a cell (student number, staff number): no spaces at all."""
    return text(value).replace(" ", "")


def id_number(value: Any) -> str:
    """An ID number as typed: spaces removed, full-width digits and a lower-case x fixed.

    An 18-digit number typed into a number cell has lost its last digits (a spreadsheet keeps 15), so it is
    refused with that explanation rather than reported as a wrong check digit.
    """
    if isinstance(value, float | int) and not isinstance(value, bool) and abs(value) >= 1e15:
        raise Invalid(_("The ID number was stored as a number and lost its last digits: format the column as text."))
    return code(value).upper()


def whole_number(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    cleaned = code(value)
    if not re.fullmatch(r"\d+", cleaned):
        raise Invalid(_("“%(value)s” is not a whole number.") % {"value": text(value)})
    return int(cleaned)


_DATE_TEXT = (
    re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)


_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def date(value: Any) -> dt.date:
    """A date typed any of the usual ways: a date cell, an Excel serial number, 2021/9/1, 2021-09-01,
    2021年9月1日, 2021.9.1 or 20210901 (a time after the date is ignored)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        if 20000101 <= value <= 21001231 and float(value).is_integer():  # 20210901 typed as a number
            return date(str(int(value)))
        if 1 <= value < 2958466:  # up to 9999-12-31
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise Invalid(_("“%(value)s” is not a date.") % {"value": text(value)})
    raw = _TIME.sub("", text(value))
    for pattern in _DATE_TEXT:
        match = pattern.match(raw)
        if match and (match.end() == len(raw) or raw[match.end()] in " T"):
            try:
                return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                break
    raise Invalid(_("“%(value)s” is not a date: write it like 2021-09-01.") % {"value": raw})


def year(value: Any) -> int:
    """An enrolment year: 2021, “2021级”, “2021年”, or a date in that year."""
    if isinstance(value, dt.date):
        return value.year
    raw = code(value)
    match = re.fullmatch(r"(\d{4})(?:级|年|届|年级)?", raw)
    if match is None:
        try:
            return whole_number(value) if isinstance(value, int | float) else date(value).year
        except Invalid:
            raise Invalid(_("“%(value)s” is not a year such as 2021.") % {"value": text(value)}) from None
    return int(match.group(1))


_GENDERS = {
    "男": Gender.MALE,
    "男性": Gender.MALE,
    "m": Gender.MALE,
    "male": Gender.MALE,
    "女": Gender.FEMALE,
    "女性": Gender.FEMALE,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
}


def gender(value: Any) -> str:
    found = _GENDERS.get(key(value))
    if found is None:
        raise Invalid(_("“%(value)s” is not a gender: write 男 or 女 (M or F).") % {"value": text(value)})
    return str(found)


# Local wordings of the categories, besides the codes and the English labels.
CATEGORY_SYNONYMS: dict[str, str] = {
    "脱贫家庭": Category.POVERTY_ALLEVIATED,
    "脱贫户": Category.POVERTY_ALLEVIATED,
    "建档立卡": Category.POVERTY_ALLEVIATED,
    "原建档立卡": Category.POVERTY_ALLEVIATED,
    "建档立卡贫困户": Category.POVERTY_ALLEVIATED,
    "脱贫家庭(原建档立卡)": Category.POVERTY_ALLEVIATED,
    "低保": Category.SUBSISTENCE_ALLOWANCE,
    "低保家庭": Category.SUBSISTENCE_ALLOWANCE,
    "低保户": Category.SUBSISTENCE_ALLOWANCE,
    "城乡低保": Category.SUBSISTENCE_ALLOWANCE,
    "零就业": Category.ZERO_EMPLOYMENT,
    "零就业家庭": Category.ZERO_EMPLOYMENT,
    "残疾": Category.DISABLED,
    "残疾学生": Category.DISABLED,
    "本人残疾": Category.DISABLED,
    "特困": Category.EXTREME_POVERTY,
    "特困供养": Category.EXTREME_POVERTY,
    "特困人员": Category.EXTREME_POVERTY,
    "孤儿": Category.ORPHAN,
    "残疾人子女": Category.DISABLED_PARENT,
    "父母残疾": Category.DISABLED_PARENT,
    "少数民族": Category.ETHNIC_MINORITY,
    "农村": Category.RURAL,
    "农村生源": Category.RURAL,
    "国家助学贷款": Category.STUDENT_LOAN,
    "助学贷款": Category.STUDENT_LOAN,
    "较长时间未就业": Category.LONG_UNEMPLOYED,
    "长期未就业": Category.LONG_UNEMPLOYED,
    "学校认定家庭经济困难": Category.SCHOOL_IDENTIFIED,
    "家庭经济困难": Category.SCHOOL_IDENTIFIED,
    "经济困难": Category.SCHOOL_IDENTIFIED,
    "学校认定": Category.SCHOOL_IDENTIFIED,
}


def labels(choices: Any) -> dict[str, str]:
    """Matching key → value for a TextChoices' values and its labels in English and in Chinese."""
    found: dict[str, str] = {}
    for value, label in choices.choices:
        found[key(value)] = value
        for language in (None, "zh-hans"):
            with translation.override(language):
                found[key(str(label))] = value
    return found


@functools.cache
def _category_lookup() -> dict[str, str]:
    found = labels(Category)
    found.update({key(word): str(code) for word, code in CATEGORY_SYNONYMS.items()})
    return found


_SEPARATORS = re.compile(r"[,;/、|+\n]+|\s+")


def categories(value: Any) -> list[str]:
    """Category codes from a cell such as “低保家庭、残疾学生” or “subsistence_allowance; disabled”."""
    raw = text(value)
    lookup = _category_lookup()
    whole = lookup.get(key(raw))
    if whole is not None:  # an English label contains spaces and commas of its own
        return [whole]
    found: list[str] = []
    unknown: list[str] = []
    for part in _SEPARATORS.split(raw):
        if not part:
            continue
        code_ = lookup.get(key(part))
        if code_ is None:
            unknown.append(part)
        elif code_ not in found:
            found.append(code_)
    if unknown:
        raise Invalid(_("Unknown category: %(words)s") % {"words": "、".join(unknown)})
    return found


_HARDSHIP = {
    "特别困难": HardshipLevel.SPECIAL,
    "特殊困难": HardshipLevel.SPECIAL,
    "困难": HardshipLevel.HARDSHIP,
    "比较困难": HardshipLevel.HARDSHIP,
    "一般困难": HardshipLevel.GENERAL,
    "一般": HardshipLevel.GENERAL,
}


@functools.cache
def _hardship_lookup() -> dict[str, str]:
    return {**labels(HardshipLevel), **{key(k): str(v) for k, v in _HARDSHIP.items()}}


def hardship_level(value: Any) -> str:
    found = _hardship_lookup().get(key(value))
    if found is None:
        raise Invalid(
            _("“%(value)s” is not a hardship level: write 特别困难, 困难 or 一般困难.") % {"value": text(value)}
        )
    return found


_LEVELS = {
    "专科": Level.VOCATIONAL,
    "高职": Level.VOCATIONAL,
    "高职专科": Level.VOCATIONAL,
    "大专": Level.VOCATIONAL,
    "本科": Level.BACHELOR,
    "职业本科": Level.BACHELOR,
    "硕士": Level.MASTER,
    "研究生": Level.MASTER,
}
_LEVEL_LOOKUP = {key(k): str(v) for k, v in _LEVELS.items()}
_LEVEL_LOOKUP.update({key(c): c for c in Level.values})


def level(value: Any) -> str:
    found = _LEVEL_LOOKUP.get(key(value))
    if found is None:
        raise Invalid(_("“%(value)s” is not a level: write 专科, 本科 or 硕士.") % {"value": text(value)})
    return found


_REGION = re.compile(
    r"^(?P<province>北京市|天津市|上海市|重庆市|.+?(?:省|自治区|特别行政区))?"
    r"(?P<city>.+?(?:市|自治州|地区|盟|州))?"
    r"(?P<county>.+?(?:县|区|市|旗))?"
    r"(?P<rest>.*)$"
)


def region(value: Any) -> tuple[str, str, str]:
    """Province, city and county from a home region such as “河北省石家庄市辛集市” (parts may be missing)."""
    raw = text(value).replace(" ", "")
    match = _REGION.match(raw)
    assert match is not None  # every part is optional
    province, city, county, rest = (match[g] or "" for g in ("province", "city", "county", "rest"))
    if province in ("北京市", "天津市", "上海市", "重庆市") and not city:
        city = province
    if rest:
        county = county + rest if county else rest
    return province, city, county


def phone(value: Any) -> str:
    cleaned = code(value).replace("-", "")
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    if not re.fullmatch(r"\d{7,12}", cleaned):
        raise Invalid(_("“%(value)s” is not a phone number.") % {"value": text(value)})
    return cleaned


_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
_NO = {"否", "无", "n", "no", "false", "0", "×", "✗"}


def yes_no(value: Any) -> bool:
    word = key(value)
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise Invalid(_("“%(value)s” is not yes or no: write 是 or 否.") % {"value": text(value)})
