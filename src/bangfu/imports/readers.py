"""Read an uploaded spreadsheet into rows, after making sure it is one.

Every file is checked before it is parsed: its size, its real type by its first bytes (a zip for .xlsx, an OLE
compound file for .xls, text for .csv; an executable renamed .xlsx is refused), and for a zip the sizes its
members will have once unpacked, with every member's checksum verified in 1 MB chunks, so a zip bomb is refused
before python-calamine inflates it. python-calamine reads cached values of formula cells and never runs
macros. CSV files may be UTF-8 (with or without a BOM) or GB18030 (what Excel and WPS save in Chinese).
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

import python_calamine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

XLSX, XLS, CSV = "xlsx", "xls", "csv"
SUFFIXES = {".xlsx": XLSX, ".xlsm": XLSX, ".xls": XLS, ".csv": CSV, ".txt": CSV}
_ZIP_MAGIC = (b"PK\x03\x04",)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# How many rows are searched for the header row, and how many sheets for the one with the data.
HEAD_ROWS = 30
MAX_SHEETS = 10


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def max_unpacked_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UNPACKED_BYTES", 400 * 1024 * 1024))


# Spreadsheet XML packs 5 to 30 times; a member packed more than this is a bomb, not a sheet.
MAX_RATIO = 200


@dataclass
class Sheet:
    """A sheet's cells; `rows[i]` is the sheet's row i + 1, as the spreadsheet numbers it."""

    name: str
    rows: list[list[Any]]

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def check_file(stream: IO[bytes], name: str, size: int | None = None) -> str:
    """Check an upload before anything parses it; return its kind (xlsx, xls or csv) or raise ValidationError."""
    stream.seek(0, io.SEEK_END)
    actual = stream.tell()
    stream.seek(0)
    size = actual if size is None else max(size, actual)
    limit = max_bytes()
    if size > limit:
        raise _refuse(
            _("The file is %(size)s; an import may be at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            "too_large",
        )
    if size == 0:
        raise _refuse(_("The file is empty."), "empty")
    lower = (name or "").lower()
    suffix = lower[lower.rfind(".") :] if "." in lower else ""
    declared = SUFFIXES.get(suffix)
    if declared is None:
        raise _refuse(_("Upload an Excel workbook (.xlsx or .xls) or a CSV file."), "file_type")
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(_ZIP_MAGIC):
        kind = XLSX
    elif head.startswith(_OLE_MAGIC):
        kind = XLS
    else:
        kind = CSV
    # A workbook saved under the other Excel suffix is still a workbook; anything else must match its name.
    if (declared == CSV and kind != CSV) or (declared != CSV and kind == CSV):
        raise _refuse(
            _("The file's content is not a real %(type)s file.") % {"type": suffix[1:].upper()},
            "file_type",
        )
    if kind == XLSX:
        _check_zip(stream)
    elif kind == CSV:
        _check_text(stream)
    return kind


def _check_zip(stream: IO[bytes]) -> None:
    corrupt = _refuse(
        _("The workbook is damaged and cannot be read. Open it in Excel or WPS and save it again."), "corrupt"
    )
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise corrupt from None
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
            raise _refuse(_("The file is a zip archive but not an Excel workbook."), "file_type")
        unpacked = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members)
        if unpacked > max_unpacked_bytes() or any(
            m.file_size > MAX_RATIO * max(m.compress_size, 1) and m.file_size > 1024 * 1024 for m in members
        ):
            raise _refuse(
                _("The workbook would unpack to %(size)s from %(packed)s: it looks like a zip bomb and was refused.")
                % {"size": filesizeformat(unpacked), "packed": filesizeformat(packed)},
                "zip_bomb",
            )
        # The sizes above are what the archive declares; reading every member (1 MB at a time, checksums
        # verified) proves them, so the reader below never inflates more than was declared.
        try:
            bad = archive.testzip()
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError):
            raise corrupt from None
        if bad is not None:
            raise corrupt
    stream.seek(0)


def _check_text(stream: IO[bytes]) -> None:
    head = stream.read(64 * 1024)
    stream.seek(0)
    if b"\x00" in head:
        raise _refuse(_("The file's content is not a real %(type)s file.") % {"type": "CSV"}, "file_type")


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) or, failing that, GB18030, the encoding Chinese Excel and WPS save CSV in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse(_("The CSV file is neither UTF-8 nor GB18030 text."), "encoding") from None


def _csv_sheet(stream: IO[bytes], limit: int | None) -> Sheet:
    text = decode(stream.read())
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows: list[list[Any]] = []
    for row in csv.reader(io.StringIO(text, newline=""), dialect):
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return Sheet(name="CSV", rows=rows)


def _fill_merged(sheet: python_calamine.CalamineSheet, rows: list[list[Any]]) -> None:
    """A cell merged down a column (a department written once for its block of rows) counts for every row."""
    for (top, left), (bottom, right) in sheet.merged_cell_ranges or ():
        if left != right or bottom <= top or top >= len(rows):
            continue
        value = rows[top][left] if left < len(rows[top]) else ""
        for r in range(top + 1, min(bottom + 1, len(rows))):
            if left < len(rows[r]) and rows[r][left] in ("", None):
                rows[r][left] = value


def _workbook(stream: IO[bytes]) -> python_calamine.CalamineWorkbook:
    stream.seek(0)
    try:
        return python_calamine.CalamineWorkbook.from_filelike(stream)
    except Exception as e:  # calamine raises its own error types, and ValueError/OSError for broken parts
        raise _refuse(
            _("The workbook is damaged and cannot be read. Open it in Excel or WPS and save it again."), "corrupt"
        ) from e


def sheet_names(stream: IO[bytes], kind: str) -> list[str]:
    """The visible worksheets of a workbook, in order (a CSV file has one)."""
    if kind == CSV:
        return ["CSV"]
    with _workbook(stream) as book:
        return _visible(book)


def _visible(book: python_calamine.CalamineWorkbook) -> list[str]:
    visible = python_calamine.SheetVisibleEnum.Visible
    worksheet = python_calamine.SheetTypeEnum.WorkSheet
    return [m.name for m in book.sheets_metadata if m.visible == visible and m.typ == worksheet][:MAX_SHEETS]


def read_sheet(stream: IO[bytes], kind: str, sheet_name: str = "", limit: int | None = None) -> Sheet:
    """The rows of one sheet (the first visible one unless named); `limit` reads only the first rows."""
    if kind == CSV:
        stream.seek(0)
        return _csv_sheet(stream, limit)
    book = _workbook(stream)
    try:
        names = _visible(book)
        name = sheet_name or (names[0] if names else "")
        sheet = book.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False, nrows=limit)
    except ValidationError:
        raise
    except Exception as e:
        raise _refuse(
            _("The workbook is damaged and cannot be read. Open it in Excel or WPS and save it again."), "corrupt"
        ) from e
    finally:
        book.close()
    rows = [list(r) for r in rows]
    _fill_merged(sheet, rows)
    return Sheet(name=name, rows=rows)
