"""The payment list of a batch as an .xlsx file for the finance office.

Written row by row (XlsxWriter's constant-memory mode), headers in the reader's language, ID numbers masked
(the finance office pays by the student's bank details, kept outside Bangfu), and every text cell that a
spreadsheet could take for a formula escaped.
"""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bangfu.subsidies.models import PaymentBatch
from bangfu.subsidies.queries import batch_applications, batch_figures

# A cell starting with one of these is a formula (or DDE) to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value: object) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets an apostrophe before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def headers() -> list[str]:
    return [
        _("No."),
        _("Student number"),
        _("Name"),
        _("Department"),
        _("ID number"),
        _("Subsidy"),
        _("Amount (yuan)"),
        _("Bank note"),
    ]


def file_name(batch: PaymentBatch) -> str:
    return f"{_('Payment list')}-{batch.name}-{batch.created_on:%Y%m%d}.xlsx"


def payment_list(batch: PaymentBatch) -> tuple[bytes, int]:
    """The workbook's bytes and the number of applications listed."""
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = workbook.add_worksheet(safe_text(_("Payment list"))[:31])
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True})
    for col, width in enumerate((6, 14, 10, 18, 20, 24, 12, 24)):
        sheet.set_column(col, col, width)

    sheet.write_string(0, 0, safe_text(batch.name), bold)
    sheet.write_string(0, 2, safe_text(f"{_('Created on')} {batch.created_on:%Y-%m-%d}"))
    for col, title in enumerate(headers()):
        sheet.write_string(1, col, title, bold)
    row = 2
    for number, application in enumerate(batch_applications(batch).iterator(), start=1):
        student = application.student
        sheet.write_number(row, 0, number)
        cells = (
            student.student_number,
            student.name,
            student.department.display_name(language),
            student.id_number_masked,
            application.subsidy_type.display(language),
        )
        for col, value in enumerate(cells, start=1):
            sheet.write_string(row, col, safe_text(value))
        sheet.write_number(row, 6, float(application.amount), money)
        sheet.write_blank(row, 7, None)
        row += 1
    figures = batch_figures(batch)
    sheet.write_string(row, 5, _("Total"), bold)
    sheet.write_number(row, 6, float(figures["total"]), money_bold)
    workbook.close()
    return output.getvalue(), figures["count"]
