"""Workbooks the import hands back: the error report and the blank templates (XlsxWriter, written in memory).

Every cell is written as text or a number, never as a formula; text that a spreadsheet would take for a
formula (it starts with = + - @, or a tab or carriage return) gets a leading apostrophe, so a report made from
a hostile file never runs anything when it is opened (CSV injection).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from typing import Any

import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext as _

from bangfu.imports.models import ImportJob
from bangfu.imports.normalise import text
from bangfu.imports.readers import Sheet
from bangfu.imports.targets import get_target

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    """A cell value that cannot run as a formula: numbers stay numbers, dates become text."""
    if isinstance(value, bool):
        return text(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.date | dt.datetime):
        return text(value)
    raw = "" if value is None else str(value)
    return "'" + raw if raw.startswith(_FORMULA_START) else raw


def _write_row(sheet: Any, row: int, values: list[Any], fmt: Any = None) -> None:
    for column, value in enumerate(values):
        cleaned = safe(value)
        if isinstance(cleaned, int | float):
            sheet.write_number(row, column, cleaned, fmt)
        else:
            sheet.write_string(row, column, cleaned, fmt)


def problem_workbook(*, job: ImportJob, sheet: Sheet, problems: list[dict[str, Any]]) -> bytes:
    """The rows that have problems, as in the file (with their row numbers), and what is wrong with each."""
    by_row: dict[int, list[str]] = defaultdict(list)
    for p in problems:
        by_row[p["row"]].append(f"{p['column']}: {p['message']}" if p["column"] else p["message"])
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "font_color": "#9c0006"})
    page = book.add_worksheet(_("Problems")[:31])
    headers = [_("Row"), *job.headers, _("Problems")]
    _write_row(page, 0, headers, bold)
    out_row = 1
    for number in sorted(by_row):
        original = sheet.rows[number - 1] if 0 < number <= len(sheet.rows) else []
        cells = [original[i] if i < len(original) else "" for i in range(len(job.headers))]
        _write_row(page, out_row, [number, *cells])
        page.write_string(out_row, len(headers) - 1, safe("; ".join(by_row[number])), wrap)
        out_row += 1
    page.freeze_panes(1, 0)
    page.set_column(len(headers) - 1, len(headers) - 1, 60)
    book.close()
    return out.getvalue()


def template_workbook(target_name: str, language: str) -> bytes:
    """A blank template for a target with one example row; headers in Chinese or English, required ones
    marked with * (the header matching ignores the mark)."""
    target = get_target(target_name)
    chinese = language.lower().startswith("zh")
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "bg_color": "#e7f1ff"})
    required = book.add_format({"bold": True, "bg_color": "#e7f1ff", "font_color": "#9c0006"})
    as_text = book.add_format({"num_format": "@"})
    with translation.override(language):
        page = book.add_worksheet(str(target.label)[:31])
        for column, field in enumerate(target.fields):
            header = field.zh if chinese else field.en
            page.write_string(0, column, ("*" if field.required else "") + header, required if field.required else bold)
            page.set_column(column, column, max(12, len(header) * (2 if chinese else 1) + 2), as_text)
            example = field.example
            if isinstance(example, int | float):
                page.write_number(1, column, example)
            elif example:
                page.write_string(1, column, safe(example))
        page.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
