"""Importing the students' ledger: messy files in, exact rows and exact messages out; all or nothing; re-import
changes nothing; changes are recorded as history."""

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bangfu.assistance.models import HelperAssignment, StudentProgress
from bangfu.imports import services
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.organisation.models import OrgUnit, UnitKind
from bangfu.students import idnumbers
from bangfu.students.models import LedgerCategory, LedgerEntry, LedgerSource, Student
from tests.conftest import TODAY, World
from tests.factories import make_id_number
from tests.imports.sheets import csv_file, xlsx

HEADER = [
    "学号",
    "姓名",
    "性别",
    "身份证号",
    "院系",
    "专业",
    "班级",
    "入学年份",
    "困难类别",
    "家庭情况",
    "生源地",
    "联系电话",
    "帮扶人",
]
ID_A = make_id_number(born=dt.date(2005, 3, 9), region="130523", seq=213)  # ends in X
ID_B = make_id_number(born=dt.date(2004, 11, 30), region="130182", seq=458)
ID_C = make_id_number(born=dt.date(2005, 1, 2), region="140221", seq=101)


def upload(world: World, path: Path, actor=None, **options) -> ImportJob:  # type: ignore[no-untyped-def]
    with path.open("rb") as stream:
        return services.create_job(
            actor=actor or world.office,
            target="students",
            school=world.school,
            upload=stream,
            name=path.name,
            options=options,
        )


def commit(world: World, path: Path, actor=None, **options) -> ImportJob:  # type: ignore[no-untyped-def]
    actor = actor or world.office
    return services.commit(actor=actor, job=upload(world, path, actor, **options), today=TODAY)


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    """A ledger the way a department keeps it: a title, a note, a merged department column, full-width digits,
    a lower-case x, spaces everywhere, cohorts and dates written differently, a blank line, a footer."""
    return xlsx(
        tmp_path / "2024困难学生台账.xlsx",
        [
            HEADER,
            ["２０２４０１０１", " 王　小明 ", "男", ID_A.lower(), "服装工程系", "专业1", "专业12101班", "2024级",
             "低保家庭、孤儿", "父母双亡，由祖母抚养 ", "河北省邢台市内丘县", "138-1234-5678", "郑银乐 "],
            ["20240102 ", "李 丽", "女性", f"{ID_B[:6]} {ID_B[6:]}", None, "专业1", "专业12101", 2024.0,
             "脱贫户,国家助学贷款", "", "山西省大同市阳高县", 13987654321, ""],
            [],
            ["20240103", "张伟", "M", "", "机电工程系", "专业2", "专业22101班", "2024年", "", "", "", "", ""],
            ["制表人：李主任　　审核：张校长"],
        ],
        title="河北科技工程职业技术大学 2024级家庭经济困难学生台账",
        notes=["填表说明：困难类别可填多项，用顿号分隔。"],
        merges=["E4:E5"],
    )  # fmt: skip


def test_the_header_row_is_found_below_the_title_and_every_column_mapped(world: World, ledger_file: Path) -> None:
    job = upload(world, ledger_file)
    assert job.header_row == 3
    assert job.sheet_name == "台账"
    assert job.headers == HEADER
    assert job.mapping == {
        "student_number": 0,
        "name": 1,
        "gender": 2,
        "id_number": 3,
        "department": 4,
        "major": 5,
        "class_unit": 6,
        "cohort": 7,
        "categories": 8,
        "family_situation": 9,
        "home_region": 10,
        "phone": 11,
        "helper": 12,
    }
    assert services.missing_columns(job) == []


def test_a_messy_ledger_is_imported_exactly(world: World, ledger_file: Path) -> None:
    job = commit(world, ledger_file)

    assert job.status == JobStatus.DONE, job.problems
    assert (job.total_rows, job.valid_rows, job.invalid_rows) == (3, 3, 0)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    assert job.message == "Imported 3 rows: 3 created, 0 updated, 0 unchanged."

    wang = Student.objects.get(school=world.school, student_number="20240101")
    assert (wang.name, wang.gender, wang.cohort, wang.phone) == ("王小明", "M", 2024, "13812345678")
    assert (wang.home_province, wang.home_city, wang.home_county) == ("河北省", "邢台市", "内丘县")
    assert (wang.class_unit, wang.major, wang.department, wang.school) == (
        world.class1,
        world.class1.parent,
        world.dept1,
        world.school,
    )
    assert idnumbers.decrypt(wang.id_number_cipher) == ID_A
    assert wang.id_number_hash == idnumbers.keyed_hash(ID_A)
    assert wang.id_number_masked == idnumbers.mask(ID_A)
    assert wang.birth_date == dt.date(2005, 3, 9)
    assert (wang.enrolled_on, wang.expected_graduation, wang.program_years) == (
        dt.date(2024, 9, 1),
        dt.date(2027, 6, 30),
        3,
    )
    entry = LedgerEntry.objects.get(student=wang)
    assert entry.source == LedgerSource.IMPORT
    assert (entry.joined_on, entry.joined_by, entry.family_situation) == (TODAY, world.office, "父母双亡，由祖母抚养")
    assert entry.join_reason == "Imported from 2024困难学生台账.xlsx"
    assert sorted(c.category for c in entry.categories.all()) == ["orphan", "subsistence_allowance"]
    assignment = HelperAssignment.objects.active().get(student=wang)
    assert (assignment.helper, assignment.started_on, assignment.assigned_by) == (world.helper, TODAY, world.office)

    # The department cell merged over two rows counts for both; a class may be written without 班.
    li = Student.objects.get(school=world.school, student_number="20240102")
    assert (li.name, li.gender, li.class_unit, li.phone) == ("李丽", "F", world.class1, "13987654321")
    assert idnumbers.decrypt(li.id_number_cipher) == ID_B
    assert sorted(LedgerEntry.objects.get(student=li).categories.values_list("category", flat=True)) == [
        "poverty_alleviated",
        "student_loan",
    ]
    assert not HelperAssignment.objects.filter(student=li).exists()

    zhang = Student.objects.get(school=world.school, student_number="20240103")
    assert (zhang.class_unit, zhang.id_number_hash, zhang.birth_date) == (world.class2, "", None)
    assert not LedgerEntry.objects.filter(student=zhang).exists()

    # Every write has its history row, by the importer, with the file named as the reason.
    history = Student.history.filter(student_number__in=["20240101", "20240102", "20240103"])  # type: ignore[attr-defined]
    assert sorted(history.values_list("student_number", "history_type", "history_user__username")) == [
        ("20240101", "+", "office"),
        ("20240102", "+", "office"),
        ("20240103", "+", "office"),
    ]
    assert set(history.values_list("history_change_reason", flat=True)) == {"Imported from 2024困难学生台账.xlsx"}
    assert LedgerEntry.history.filter(id=entry.pk, history_type="+").count() == 1  # type: ignore[attr-defined]
    assert LedgerCategory.history.filter(entry_id=entry.pk, history_type="+").count() == 2  # type: ignore[attr-defined]
    assert HelperAssignment.history.filter(id=assignment.pk, history_type="+").count() == 1  # type: ignore[attr-defined]
    # Progress rows exist for the new ledger students, as after `join_ledger`.
    assert StudentProgress.objects.filter(student__in=[wang, li]).count() == 2
    # Public ids are random (version 4) UUIDs, found again by the pages' look-ups.
    for row in (wang, li, zhang, entry, assignment):
        assert (row.public_id.version, row.public_id.variant) == (4, uuid.RFC_4122)
        assert type(row).objects.get(public_id=str(row.public_id)) == row
    assert len({wang.public_id, li.public_id, zhang.public_id}) == 3


def test_importing_the_same_file_again_changes_nothing(world: World, ledger_file: Path) -> None:
    commit(world, ledger_file)
    counts = (
        Student.history.count(),  # type: ignore[attr-defined]
        LedgerEntry.history.count(),  # type: ignore[attr-defined]
        LedgerCategory.history.count(),  # type: ignore[attr-defined]
        HelperAssignment.history.count(),  # type: ignore[attr-defined]
    )
    versions = dict(Student.objects.values_list("student_number", "version"))

    again = commit(world, ledger_file)

    assert again.status == JobStatus.DONE
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert (
        Student.history.count(),  # type: ignore[attr-defined]
        LedgerEntry.history.count(),  # type: ignore[attr-defined]
        LedgerCategory.history.count(),  # type: ignore[attr-defined]
        HelperAssignment.history.count(),  # type: ignore[attr-defined]
    ) == counts
    assert dict(Student.objects.values_list("student_number", "version")) == versions


def test_a_changed_row_updates_the_student_with_history_and_a_new_version(world: World, tmp_path: Path) -> None:
    own = world.own  # in the ledger (poverty_alleviated, orphan), helped by world.helper
    path = xlsx(
        tmp_path / "changes.xlsx",
        [
            ["学号", "姓名", "性别", "班级", "入学年份", "联系电话", "困难类别", "困难等级", "帮扶人"],
            [own.student_number, own.name, "男", "专业12101班", own.cohort, "13700001111", "孤儿、残疾人子女",
             "一般困难", "郑银乐"],
        ],
    )  # fmt: skip
    old_phone, old_version = own.phone, own.version
    entry = LedgerEntry.objects.get(student=own)

    job = commit(world, path)

    assert job.status == JobStatus.DONE, job.problems
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 0)
    own.refresh_from_db()
    assert (own.phone, own.gender, own.version) == ("13700001111", "M", old_version + 1)
    last = own.history.first()  # type: ignore[attr-defined]
    assert (last.history_type, last.phone, last.history_user, last.version) == ("~", "13700001111", world.office, 2)
    assert last.prev_record.phone == old_phone
    entry.refresh_from_db()
    assert (entry.hardship_level, entry.version) == ("general", 2)
    assert sorted(entry.categories.values_list("category", flat=True)) == ["disabled_parent", "orphan"]
    removed = LedgerCategory.history.get(entry_id=entry.pk, history_type="-")  # type: ignore[attr-defined]
    assert (removed.category, removed.history_user) == ("poverty_alleviated", world.office)
    # The same helper named again is no change; the student keeps their one assignment.
    assert HelperAssignment.objects.filter(student=own).count() == 1


def test_any_invalid_row_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    bad_id = ID_B[:17] + ("0" if ID_B[17] != "0" else "1")
    path = xlsx(
        tmp_path / "bad.xlsx",
        [
            ["学号", "姓名", "性别", "身份证号", "院系", "专业", "班级", "入学年份", "困难类别", "帮扶人"],
            ["20240201", "赵敏", "女", ID_C, "服装工程系", "专业1", "专业12101班", 2024, "低保", "郑银乐"],
            ["20240202", "钱多", "女", bad_id, "服装工程系", "专业1", "专业12101班", 2024, "", ""],
            ["20240203", "孙磊", "男", "", "服装工程系", "专业9", "专业92101班", 2024, "", ""],
            ["20240204", "", "男", "", "信息工程系", "", "专业12101班", "2024", "贫困", "陈老师"],
            ["20240201", "赵敏", "女", ID_C, "服装工程系", "专业1", "专业12101班", 2024, "", ""],
            ["20240206", "周平", "未知", "", "", "", "专业12101班", "明年", "", ""],
        ],
    )  # fmt: skip
    before = (Student.objects.count(), LedgerEntry.objects.count(), Student.history.count())  # type: ignore[attr-defined]

    job = commit(world, path)

    assert job.status == JobStatus.FAILED
    assert job.message == (
        "5 rows have problems, so nothing was imported. Correct them, or import only the valid rows."
    )
    assert (job.total_rows, job.valid_rows, job.invalid_rows) == (6, 1, 5)
    assert job.problems == [
        {
            "row": 3,
            "column": "身份证号",
            "message": "The ID number's check digit is wrong: please check it for a typing error.",
        },
        {"row": 4, "column": "专业", "message": "Unknown major “专业9” in 服装工程系."},
        {"row": 5, "column": "姓名", "message": "A name is required."},
        {"row": 5, "column": "院系", "message": "Unknown department “信息工程系”."},
        {"row": 5, "column": "困难类别", "message": "Unknown category: 贫困"},
        {
            "row": 5,
            "column": "帮扶人",
            "message": "“陈老师” is not a staff member of this school whom you may name here.",
        },
        {"row": 6, "column": "学号", "message": "Student number 20240201 is also on row 2."},
        {"row": 7, "column": "性别", "message": "“未知” is not a gender: write 男 or 女 (M or F)."},
        {"row": 7, "column": "入学年份", "message": "“明年” is not a year such as 2021."},
    ]
    assert (Student.objects.count(), LedgerEntry.objects.count(), Student.history.count()) == before  # type: ignore[attr-defined]


def test_skip_invalid_imports_the_valid_rows_only(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "mixed.xlsx",
        [
            ["学号", "姓名", "性别", "班级", "入学年份", "身份证号"],
            ["20240301", "吴昊", "男", "专业12101班", 2024, ID_C],
            ["20240302", "郑爽", "女", "专业99班", 2024, ""],
            ["20240303", "冯雪", "女", "专业22101班", 2024, ID_C],
        ],
    )

    job = commit(world, path, skip_invalid=True)

    assert job.status == JobStatus.DONE
    assert job.message == ("Imported 1 row: 1 created, 0 updated, 0 unchanged. 2 rows with problems were left out.")
    assert list(Student.objects.filter(student_number__startswith="202403").values_list("name", flat=True)) == ["吴昊"]
    assert job.problems == [
        {
            "row": 3,
            "column": "班级",
            "message": "Unknown class “专业99班”. Missing majors and classes are created only when the import is "
            "asked to create them.",
        },
        {"row": 4, "column": "身份证号", "message": "This ID number is also on row 2."},
    ]


def test_database_duplicates_and_rows_out_of_scope_are_row_errors(world: World, tmp_path: Path) -> None:
    taken_id = make_id_number(seq=2)  # the classmate's, as the factories made it
    assert world.classmate.id_number_hash == idnumbers.keyed_hash(taken_id)
    path = xlsx(
        tmp_path / "leader.xlsx",
        [
            ["学号", "姓名", "性别", "班级", "入学年份", "身份证号"],
            ["20240401", "秦朗", "男", "专业12101班", 2024, taken_id],
            ["20240402", "许晴", "女", "专业22101班", 2024, ""],
            [world.dept2_student.student_number, "陈静", "女", "专业22101班", 2021, ""],
        ],
    )  # fmt: skip

    job = commit(world, path, actor=world.leader)  # leader of dept1 only

    assert job.status == JobStatus.FAILED
    messages = {(p["row"], p["column"]): p["message"] for p in job.problems}
    assert messages[(3, "班级")] == "You may not add students to 专业22101班."
    assert messages[(4, "学号")] == f"You may not edit student {world.dept2_student.student_number} (专业22101班)."
    assert messages[(2, "身份证号")] == "Another student of this school already has this ID number."
    assert len(job.problems) == 3


def test_a_department_leader_may_import_into_their_department(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "d1.xlsx",
        [["学号", "姓名", "性别", "班级", "入学年份"], ["20240501", "韩梅", "女", "专业12101班", 2024]],
    )
    job = commit(world, path, actor=world.leader)
    assert job.status == JobStatus.DONE
    assert Student.objects.get(student_number="20240501").department == world.dept1


def test_someone_without_the_permission_cannot_start_an_import(world: World, ledger_file: Path) -> None:
    for actor in (world.helper, world.principal, world.outsider):
        with pytest.raises(PermissionDenied):
            upload(world, ledger_file, actor=actor)


def test_missing_majors_and_classes_are_created_only_when_asked(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "new.xlsx",
        [
            ["学号", "姓名", "性别", "院系", "专业", "班级", "入学年份"],
            ["20240601", "邓超", "男", "服装工程系", "服装设计", "服设2401班", 2024],
            ["20240602", "孙俪", "女", "服装工程系", "服装设计", "服设2401", 2024],
            ["20240603", "黄渤", "男", "服装工程系", "专业1", "专业12401班", 2024],
            ["20240604", "徐峥", "男", "", "动漫设计", "动漫2401班", 2024],
        ],
    )
    refused = commit(world, path)
    assert refused.status == JobStatus.FAILED
    assert not OrgUnit.objects.filter(name="服装设计").exists()

    job = commit(world, path, create_units=True, skip_invalid=True)

    assert job.status == JobStatus.DONE
    assert job.problems == [
        {
            "row": 5,
            "column": "院系",
            "message": "Major “动漫设计” does not exist; give its department to create it there.",
        }
    ]
    major = OrgUnit.objects.get(kind=UnitKind.MAJOR, name="服装设计")
    assert (major.parent, major.path) == (world.dept1, f"{world.dept1.path}服装设计/")
    new_class = OrgUnit.objects.get(kind=UnitKind.CLASS, name="服设2401班")
    assert new_class.parent == major
    assert set(
        Student.objects.filter(student_number__in=["20240601", "20240602"]).values_list("class_unit", flat=True)
    ) == {new_class.pk}
    assert Student.objects.get(student_number="20240603").class_unit.name == "专业12401班"


def test_a_gb18030_csv_from_wps_is_read(world: World, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        [
            ["学号", "姓名", "性别", "班级", "入学年份", "入学日期"],
            ["20240701", "欧阳娜娜", "女", "专业12101班", "2024", "2024年9月2日"],
        ],
        encoding="gb18030",
    )  # fmt: skip
    job = commit(world, path)
    assert job.status == JobStatus.DONE, job.problems
    student = Student.objects.get(student_number="20240701")
    assert (student.name, student.enrolled_on) == ("欧阳娜娜", dt.date(2024, 9, 2))


def test_unmapped_required_columns_are_named(world: World, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "short.xlsx", [["学号", "名字", "班级"], ["20240801", "王五", "专业12101班"]])
    job = upload(world, path)
    assert [str(f.label) for f in services.missing_columns(job)] == ["Name", "Gender", "Cohort"]
    with pytest.raises(
        ValidationError, match=re.escape("These columns are required but not found in the file: Name, Gender, Cohort.")
    ):
        services.preview(actor=world.office, job=job, today=TODAY)


def test_the_user_corrects_the_mapping_then_previews(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "odd.xlsx",
        [["学号", "学生", "性别", "班", "年级"], ["20240901", "马丽", "女", "专业12101班", "2024级"]],
    )
    job = upload(world, path)
    assert job.mapping == {"student_number": 0, "gender": 2, "cohort": 4}

    job = services.set_mapping(actor=world.office, job=job, mapping={**job.mapping, "name": 1, "class_unit": 3})
    job = services.preview(actor=world.office, job=job, today=TODAY)

    assert job.status == JobStatus.PREVIEWED
    assert (job.valid_rows, job.created_count, job.problems) == (1, 1, [])
    assert not Student.objects.filter(student_number="20240901").exists()  # a preview writes nothing
    with pytest.raises(ValidationError, match=re.escape("Column “学生” is chosen for both Name and Class.")):
        services.set_mapping(actor=world.office, job=job, mapping={"name": 1, "class_unit": 1})


def test_the_queries_do_not_grow_with_the_rows(world: World, tmp_path: Path) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def ledger(n: int, first: int) -> Path:
        rows = [["学号", "姓名", "性别", "班级", "入学年份", "身份证号", "困难类别", "帮扶人"]]
        for i in range(n):
            number = make_id_number(born=dt.date(2005, 1, 1) + dt.timedelta(days=first + i), seq=500 + i % 400)
            rows.append([f"2025{first + i:04d}", "杨帆", "男", "专业12101班", 2024, number, "低保", "郑银乐"])
        return xlsx(tmp_path / f"ledger-{n}.xlsx", rows)

    counts = []
    for n, first in ((10, 0), (200, 1000)):
        job = upload(world, ledger(n, first))
        with CaptureQueriesContext(connection) as preview:
            services.preview(actor=world.office, job=job, today=TODAY)
        with CaptureQueriesContext(connection) as committed:
            job = services.commit(actor=world.office, job=job, today=TODAY)
        assert (job.status, job.created_count) == (JobStatus.DONE, n)
        counts.append((len(preview), len(committed)))
    assert counts[0] == counts[1], counts
