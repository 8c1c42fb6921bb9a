"""The payment list of a batch: an .xlsx read back with openpyxl, masked ID numbers, escaped formulas, logged."""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.students.models import Student
from bangfu.subsidies import services
from bangfu.subsidies.exports import safe_text
from bangfu.subsidies.models import ApplicationStatus, PaymentBatch
from tests.conftest import TODAY
from tests.subsidies.test_pages import budget, in_ledger, make_application, media_and_clock, types, url  # noqa: F401

S = ApplicationStatus


@pytest.fixture
def batch(world, types, budget) -> PaymentBatch:  # noqa: F811
    own = make_application(world, types["job_search"], upto=S.APPROVED)
    other = in_ledger(world, '=HYPERLINK("http://evil.example","点我")', ["orphan"])
    medical = make_application(world, types["medical_exam"], student=other, by=world.counsellor, upto=S.SUBMITTED)
    services.approve_by_department(actor=world.leader, application=medical, today=TODAY)
    services.set_budget(actor=world.office, subsidy_type=types["medical_exam"], year=2024, amount=Decimal(3000))
    services.approve_by_school(actor=world.office, application=medical, today=TODAY)  # no notice: approved at once
    return services.create_payment_batch(
        actor=world.office, school=world.school, name="+2024年3月第一批", applications=[own, medical], today=TODAY
    )


def read(response) -> list[tuple]:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def test_the_payment_list_holds_every_application_of_the_batch(world, as_user, batch):
    response = as_user(world.office).get(url("batch_export", batch.public_id))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert unquote(response["Content-Disposition"]).endswith("Payment list-+2024年3月第一批-20240315.xlsx")
    rows = read(response)
    own, other = world.own, Student.objects.get(name__startswith="=HYPERLINK")
    assert rows[0][:3] == ("'+2024年3月第一批", None, "Created on 2024-03-15")
    assert rows[1] == (
        "No.",
        "Student number",
        "Name",
        "Department",
        "ID number",
        "Subsidy",
        "Amount (yuan)",
        "Bank note",
    )
    assert rows[2:] == [
        (
            1,
            own.student_number,
            "田斌臣",
            "服装工程系",
            own.id_number_masked,
            "Job-search and entrepreneurship subsidy",
            1500,
            None,
        ),
        (
            2,
            other.student_number,
            '\'=HYPERLINK("http://evil.example","点我")',
            "服装工程系",
            other.id_number_masked,
            "Medical-examination fee waiver",
            300,
            None,
        ),
        (None, None, None, None, None, "Total", 1800, None),
    ]
    # Masked: the birth date and sequence never leave Bangfu in a payment list.
    assert own.id_number_masked.startswith("130182") and "*" in own.id_number_masked


def test_the_export_is_written_to_the_access_log(world, as_user, batch):
    as_user(world.office).get(url("batch_export", batch.public_id))
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.student, log.fields, log.detail) == (
        world.office,
        AccessAction.EXPORT,
        None,
        "payment_list",
        "+2024年3月第一批 (2)",
    )


def test_only_the_office_of_the_school_exports(world, as_user, batch):
    assert as_user(world.leader).get(url("batch_export", batch.public_id)).status_code == 403
    assert as_user(world.helper).get(url("batch_export", batch.public_id)).status_code == 403
    assert as_user(world.outsider).get(url("batch_export", batch.public_id)).status_code == 404
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+86 311 1234", "'+86 311 1234"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("田斌臣", "田斌臣"),
        ("1+1", "1+1"),
        ("", ""),
    ],
)
def test_formula_characters_are_escaped(value, expected):
    assert safe_text(value) == expected
