"""A small .xlsx writer for exports: XlsxWriter in constant-memory mode, one sheet after another, row by row.

A sheet is a title, a line saying what it covers, a header row (already in the reader's language), then the
rows, typed by column (text, number, money, date, per cent). Text that a spreadsheet could take for a formula
(a leading `=`, `+`, `-`, `@`, tab or carriage return) is written with an apostrophe before it, so no
spreadsheet ever runs it. The header row is frozen and filterable. A workbook is written to a file (a temporary
one for a download in the request, the export directory for a background job) and served with FileResponse.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from django.http import FileResponse
from django.utils.cache import add_never_cache_headers

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is a formula (or DDE) to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 32767  # characters a cell holds
HEADER_ROW = 2  # 0-based: title, scope line, then the headers
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})

TEXT, NUMBER, MONEY, DATE, PERCENT = "text", "number", "money", "date", "percent"


def safe_text(value: object) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets an apostrophe before it."""
    text = "" if value is None else str(value)
    text = "'" + text if text.startswith(FORMULA_STARTS) else text
    return text[:MAX_CELL]


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 12
    kind: str = TEXT


@dataclass
class Sheet:
    """One worksheet: `rows` is read once, lazily, so a generator keeps memory flat whatever the row count.

    `footer` (computed after the rows) is written in bold below them, e.g. a total."""

    name: str
    title: str
    columns: list[Column]
    rows: Iterable[Sequence[Any]]
    subtitle: str = ""
    footer: Callable[[], Sequence[Any]] | None = None
    freeze_columns: int = 0


NUMBER_FORMATS = {DATE: "yyyy-mm-dd", MONEY: "#,##0.00", PERCENT: "0.0"}


@dataclass
class Formats:
    title: Any
    header: Any
    plain: dict[str, Any] = field(default_factory=dict)  # by column kind; None: the default format
    bold: dict[str, Any] = field(default_factory=dict)  # the same, in bold (footers)


def _formats(workbook: Any) -> Formats:
    formats = Formats(
        title=workbook.add_format({"bold": True, "font_size": 14}),
        header=workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True}),
    )
    for kind in (TEXT, NUMBER, MONEY, DATE, PERCENT):
        number_format = NUMBER_FORMATS.get(kind)
        formats.plain[kind] = workbook.add_format({"num_format": number_format}) if number_format else None
        formats.bold[kind] = workbook.add_format(
            {"bold": True, **({"num_format": number_format} if number_format else {})}
        )
    return formats


def sheet_name(name: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = (name.translate(SHEET_NAME_FORBIDDEN).strip("' ") or "Sheet")[:31]
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _write_cell(sheet: Any, row: int, col: int, kind: str, value: Any, formats: Formats, bold: bool = False) -> None:
    if value is None or value == "":
        return
    fmt = (formats.bold if bold else formats.plain)[kind]
    if kind in (NUMBER, MONEY, PERCENT) and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        sheet.write_number(row, col, float(value), fmt)
    elif kind == DATE and isinstance(value, dt.date):
        sheet.write_datetime(row, col, value, fmt)
    else:
        # Anything else is shown as text, in the default format (bold in a footer).
        sheet.write_string(row, col, safe_text(value), formats.bold[TEXT] if bold else None)


def write_workbook(
    target: str | os.PathLike[str],
    sheets: Sequence[Sheet],
    *,
    on_rows: Callable[[int], None] | None = None,
    constant_memory: bool = True,
) -> int:
    """Write `sheets` to the file `target`; returns the number of data rows written (footers not counted).

    `on_rows(n)` is called with the running count after every row, for a progress bar."""
    workbook = xlsxwriter.Workbook(
        str(target),
        {
            "constant_memory": constant_memory,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    formats = _formats(workbook)
    written = 0
    taken: set[str] = set()
    try:
        for spec in sheets:
            sheet = workbook.add_worksheet(sheet_name(spec.name, taken))
            for col, column in enumerate(spec.columns):
                sheet.set_column(col, col, column.width)
            sheet.freeze_panes(HEADER_ROW + 1, spec.freeze_columns)
            sheet.write_string(0, 0, safe_text(spec.title), formats.title)
            if spec.subtitle:
                sheet.write_string(1, 0, safe_text(spec.subtitle))
            for col, column in enumerate(spec.columns):
                sheet.write_string(HEADER_ROW, col, safe_text(column.header), formats.header)
            row = HEADER_ROW
            kinds = [c.kind for c in spec.columns]
            for values in spec.rows:
                row += 1
                for col, (kind, value) in enumerate(zip(kinds, values, strict=False)):
                    _write_cell(sheet, row, col, kind, value, formats)
                written += 1
                if on_rows is not None:
                    on_rows(written)
            if row > HEADER_ROW:
                sheet.autofilter(HEADER_ROW, 0, row, len(spec.columns) - 1)
            if spec.footer is not None:
                row += 1
                for col, (kind, value) in enumerate(zip(kinds, spec.footer(), strict=False)):
                    _write_cell(sheet, row, col, kind, value, formats, bold=True)
    finally:
        workbook.close()
    return written


def download(path: str | os.PathLike[str], file_name: str) -> FileResponse:
    """Serve a written workbook as an attachment, never cached."""
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=file_name, content_type=CONTENT_TYPE)  # noqa: SIM115
    add_never_cache_headers(response)
    return response


def stream(sheets: Sequence[Sheet], file_name: str) -> tuple[FileResponse, int]:
    """Write the workbook to a temporary file and serve it; the file is gone once the response is closed.

    Returns the response and the number of rows written."""
    handle = tempfile.NamedTemporaryFile(prefix="bangfu-export-", suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()
    path = Path(handle.name)
    try:
        count = write_workbook(path, sheets)
        opened = open(path, "rb")  # noqa: SIM115
    finally:
        # On POSIX the open handle keeps the content readable until FileResponse closes it.
        path.unlink(missing_ok=True)
    response = FileResponse(opened, as_attachment=True, filename=file_name, content_type=CONTENT_TYPE)
    add_never_cache_headers(response)
    return response, count
