"""Hostile and broken files are refused with a message, before anything parses them, with memory bounded and
nothing written."""

import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from django.core.exceptions import ValidationError

from bangfu.imports import readers, services
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.students.models import Student
from tests.conftest import TODAY, World
from tests.imports.sheets import xlsx


def refused(world: World, data: bytes, name: str) -> str:
    with pytest.raises(ValidationError) as caught:
        services.create_job(
            actor=world.office, target="students", school=world.school, upload=io.BytesIO(data), name=name
        )
    assert not ImportJob.objects.exists()
    return " ".join(caught.value.messages)


def _bomb(member_bytes: int, declared: int | None = None) -> bytes:
    """A zip that looks like a workbook, with a sheet of zeros that packs a thousandfold. With `declared`, the
    central directory lies about the sheet's unpacked size."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(member_bytes // len(chunk)):
                sheet.write(chunk)
    data = bytearray(out.getvalue())
    if declared is not None:
        # The last central-directory record is the sheet's: patch its uncompressed size (offset 24).
        last = data.rfind(b"PK\x01\x02")
        struct.pack_into("<I", data, last + 24, declared)
    return bytes(data)


def test_an_oversized_file_is_refused_by_its_size(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_MAX_BYTES = 1024
    message = refused(world, b"\xe5\xad\xa6\xe5\x8f\xb7," * 300, "big.csv")
    assert message == "The file is 2.1\xa0KB; an import may be at most 1.0\xa0KB."


def test_an_executable_renamed_xlsx_is_refused(world: World) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
    assert refused(world, elf, "台账.xlsx") == "The file's content is not a real XLSX file."
    pe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
    assert refused(world, pe, "台账.csv") == "The file's content is not a real CSV file."
    assert refused(world, pe, "台账.exe") == "Upload an Excel workbook (.xlsx or .xls) or a CSV file."


def test_a_zip_that_is_not_a_workbook_is_refused(world: World) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    assert refused(world, out.getvalue(), "renamed.xlsx") == "The file is a zip archive but not an Excel workbook."


def test_a_damaged_workbook_is_refused(world: World, tmp_path: Path) -> None:
    good = xlsx(tmp_path / "good.xlsx", [["学号", "姓名"], ["1", "王五"]]).read_bytes()
    message = refused(world, good[: len(good) // 2], "half.xlsx")
    assert message == "The workbook is damaged and cannot be read. Open it in Excel or WPS and save it again."
    flipped = bytearray(good)
    middle = len(flipped) // 3
    flipped[middle : middle + 40] = b"\xff" * 40
    assert "damaged" in refused(world, bytes(flipped), "flipped.xlsx")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(world: World) -> None:
    bomb = _bomb(64 * 1024 * 1024)
    assert len(bomb) < 200 * 1024
    tracemalloc.start()
    try:
        message = refused(world, bomb, "bomb.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message.startswith("The workbook would unpack to 64.0\xa0MB from ")
    assert message.endswith(": it looks like a zip bomb and was refused.")
    assert peak < 8 * 1024 * 1024


def test_a_bomb_that_lies_about_its_size_is_caught_by_its_checksum(world: World) -> None:
    liar = _bomb(32 * 1024 * 1024, declared=2000)
    tracemalloc.start()
    try:
        message = refused(world, liar, "liar.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == "The workbook is damaged and cannot be read. Open it in Excel or WPS and save it again."
    assert peak < 8 * 1024 * 1024


def test_formula_cells_are_read_as_their_values(world: World, tmp_path: Path) -> None:
    path = tmp_path / "formulas.xlsx"
    book = xlsxwriter.Workbook(str(path))
    page = book.add_worksheet()
    for column, header in enumerate(["学号", "姓名", "性别", "班级", "入学年份"]):
        page.write_string(0, column, header)
    page.write_string(1, 0, "20241001")
    page.write_formula(1, 1, '=CONCATENATE("王","五")', None, "王五")
    page.write_string(1, 2, "男")
    page.write_string(1, 3, "专业12101班")
    page.write_formula(1, 4, "=2020+4", None, 2024)
    book.close()
    with path.open("rb") as stream:
        job = services.create_job(
            actor=world.office, target="students", school=world.school, upload=stream, name=path.name
        )
    job = services.commit(actor=world.office, job=job, today=TODAY)
    assert job.status == JobStatus.DONE, job.problems
    assert Student.objects.filter(student_number="20241001", name="王五", cohort=2024).exists()


def test_the_kind_is_told_by_content(tmp_path: Path) -> None:
    workbook = xlsx(tmp_path / "a.xlsx", [["学号"], ["1"]]).read_bytes()
    assert readers.check_file(io.BytesIO(workbook), "a.xls") == readers.XLSX  # saved under the other suffix
    assert readers.check_file(io.BytesIO("学号\n1\n".encode("gb18030")), "a.csv") == readers.CSV
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert readers.check_file(io.BytesIO(ole), "old.xls") == readers.XLS
