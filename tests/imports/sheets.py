"""Messy spreadsheets made in the tests, the way schools' ledgers look: titles above the header, merged cells,
full-width digits, dates typed five ways, trailing spaces, blank lines."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl


def xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
    merges: Sequence[str] = (),
    sheet: str = "台账",
    extra_sheets: dict[str, Sequence[Sequence[Any]]] | None = None,
) -> Path:
    """A workbook whose first rows are a title (merged across) and notes, then `rows` (header first)."""
    book = openpyxl.Workbook()
    page = book.active
    page.title = sheet
    if title:
        page.append([title])
        page.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(rows[0]), 2))
    for note in notes:
        page.append([note])
    for row in rows:
        page.append(list(row))
    for row_cells in page.iter_rows():
        for cell in row_cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as a hostile file would carry it
    for cells in merges:
        page.merge_cells(cells)
    for name, more in (extra_sheets or {}).items():
        other = book.create_sheet(name)
        for row in more:
            other.append(list(row))
    book.save(path)
    return path


def csv_file(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
