"""Find the header row of a sheet and map its columns to a target's fields by Chinese and English synonyms.

Ledgers made by hand put a title, a date or a note above the header; the header is the row among the first
rows whose cells name the most fields. A header matches a field when, once normalised (full-width made
half-width, case, spaces, a required-mark `*` and a note in brackets such as “身份证号（18位）” dropped), it
equals one of the field's wordings. Exact wordings only: “家长姓名” (a parent's name) must not become the name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

from bangfu.imports.normalise import text
from bangfu.imports.readers import HEAD_ROWS, Sheet

_NOTE = re.compile(r"[(（\[【<《].*?[)）\]】>》]")
_NOISE = re.compile(r"[\s*＊:：._\-/·#№]+")


@dataclass(frozen=True)
class Field:
    """A value a target reads from a column: its key, its label on screen, its header in a template."""

    key: str
    label: Promise  # gettext_lazy
    zh: str  # header of a Chinese template, and a synonym
    en: str  # header of an English template, and a synonym
    synonyms: tuple[str, ...] = ()
    required: bool = False
    example: Any = ""
    words: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", frozenset(header_key(w) for w in (self.zh, self.en, *self.synonyms)))


def header_key(value: Any) -> str:
    raw = unicodedata.normalize("NFKC", text(value)).lower()
    raw = _NOTE.sub("", raw)
    return _NOISE.sub("", raw)


@dataclass
class Detection:
    header_row: int  # as the spreadsheet numbers it (1-based); 0 when the sheet is empty
    headers: list[str]  # each column's header as written in the file
    mapping: dict[str, int]  # field key → column index (0-based)


def match(headers: Sequence[Any], fields: Sequence[Field]) -> dict[str, int]:
    """Field key → column index; when two columns fit one field, the first one wins."""
    by_word = {w: f.key for f in fields for w in f.words}
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        found = by_word.get(header_key(header))
        if found is not None and found not in mapping:
            mapping[found] = index
    return mapping


def detect(sheet: Sheet, fields: Sequence[Field]) -> Detection:
    """The header row among the first rows: the one that maps the most fields (the first such row on a tie)."""
    best: tuple[int, int, dict[str, int]] | None = None  # score, row index, mapping
    first_filled: int | None = None
    for index, row in enumerate(sheet.rows[:HEAD_ROWS]):
        if first_filled is None and any(text(c) for c in row):
            first_filled = index
        mapping = match(row, fields)
        if mapping and (best is None or len(mapping) > best[0]):
            best = (len(mapping), index, mapping)
    if best is None:
        if first_filled is None:
            return Detection(header_row=0, headers=[], mapping={})
        return Detection(header_row=first_filled + 1, headers=headers_of(sheet, first_filled + 1), mapping={})
    _score, index, mapping = best
    return Detection(header_row=index + 1, headers=headers_of(sheet, index + 1), mapping=mapping)


def headers_of(sheet: Sheet, header_row: int) -> list[str]:
    if header_row < 1 or header_row > len(sheet.rows):
        return []
    headers = [text(c) for c in sheet.rows[header_row - 1]]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def missing(mapping: dict[str, int], fields: Sequence[Field]) -> list[Field]:
    return [f for f in fields if f.required and f.key not in mapping]
