"""The graduate-destinations target: messy rows, all or nothing, re-import, changes kept as history, scope."""

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from bangfu.assistance.models import StudentProgress
from bangfu.imports import services
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.imports.normalise import Invalid
from bangfu.imports.reports import template_workbook
from bangfu.imports.targets import destinations as target
from bangfu.imports.targets import get_target
from bangfu.organisation.models import User
from bangfu.outcomes.models import Destination, DestinationCode
from bangfu.outcomes.services import record_destination
from bangfu.students.models import Student
from tests.conftest import TODAY, World
from tests.factories import make_employer, make_student
from tests.imports.sheets import xlsx

HEADER = ["学号", "姓名", "毕业去向", "单位名称", "单位性质", "行业", "工作地点", "入职日期", "月薪", "专业对口"]
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(world: World, path: Path, actor: User | None = None, **options: bool) -> ImportJob:
    with path.open("rb") as stream:
        return services.create_job(
            actor=actor or world.office,
            target="destinations",
            school=world.school,
            upload=stream,
            name=path.name,
            options=options,
        )


def commit(world: World, path: Path, actor: User | None = None, **options: bool) -> ImportJob:
    actor = actor or world.office
    return services.commit(actor=actor, job=upload(world, path, actor, **options), today=TODAY)


def current(student: Student) -> Destination:
    return Destination.objects.select_related("code").get(student=student, superseded_on__isnull=True)


@pytest.fixture
def graduates(world: World) -> dict[str, Student]:
    names = ["周敏", "吴昊", "郑爽", "冯涛", "韩雪"]
    return {name: make_student(world.class1, name=name) for name in names}


@pytest.fixture
def messy(world: World, graduates: dict[str, Student], tmp_path: Path) -> Path:
    make_employer(world.school, "石家庄华信科技有限公司")
    g = {name: s.student_number for name, s in graduates.items()}
    return xlsx(
        tmp_path / "2024届毕业去向.xlsx",
        [
            HEADER,
            [world.own.student_number, "田斌臣", "10", "石家庄华信科技有限公司 ", "", "", "", "2024年7月1日",
             "4,500元", "是"],
            [world.classmate.student_number.translate(WIDE), "刘 洋", "签劳动合同形式就业", "河北钢铁集团有限公司",
             "国企", "制造业", "河北省唐山市", "2024/7/15", 5200, "对口"],
            [world.dept2_student.student_number, "陈静", "80 升学", "河北科技大学", "", "", "", "2024.9.1", "", ""],
            [],
            ["20219999", "无名", "10", "某公司", "", "", "", "", "", ""],
            [g["周敏"], "周敏", "11", "某公司", "", "", "", "2020-09-01", "", ""],
            [g["吴昊"], "吴昊", "99", "某公司", "", "", "", "", "", ""],
            [g["郑爽"], "郑爽", "10", "", "", "", "", "", "", ""],
            [world.own.student_number, "田斌臣", "75", "田氏电商工作室", "", "", "", "", "", ""],
            [g["冯涛"], "冯涛", "11 签就业协议形式就业", "某公司", "", "", "", "", "", ""],
            [g["韩雪"], "韩雪", "70", "", "私企", "", "", "2024-13-01", "五千", "也许"],
            ["制表人：李主任"],
        ],
        title="2024届毕业生去向登记表",
    )  # fmt: skip


def test_messy_rows_are_read_and_every_problem_is_named_by_row_and_column(world: World, messy: Path) -> None:
    job = services.preview(actor=world.office, job=upload(world, messy), today=TODAY)

    assert (job.total_rows, job.valid_rows, job.invalid_rows) == (10, 3, 7)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    assert job.problems == [
        {"row": 7, "column": "学号", "message": "There is no student 20219999 in this school."},
        {
            "row": 8,
            "column": "入职日期",
            "message": "The destination cannot start before the student's enrolment (2021-09-01).",
        },
        {
            "row": 9,
            "column": "毕业去向",
            "message": "“99” is not a destination code of this school: write its number (such as 10) or its name.",
        },
        {"row": 10, "column": "单位名称", "message": "Name the employer."},
        {"row": 11, "column": "学号", "message": f"Student number {world.own.student_number} is also on row 3."},
        {
            "row": 12,
            "column": "毕业去向",
            "message": "“11 签就业协议形式就业” is contradictory: code 11 is “签劳动合同形式就业”.",
        },
        {"row": 13, "column": "入职日期", "message": "“2024-13-01” is not a date: write it like 2021-09-01."},
        {"row": 13, "column": "月薪", "message": "“五千” is not a monthly salary in yuan, such as 4500."},
        {"row": 13, "column": "专业对口", "message": "“也许” is not yes or no: write 是 or 否."},
    ]
    assert not Destination.objects.exists()


def test_all_or_nothing_writes_nothing_while_a_row_has_a_problem(world: World, messy: Path) -> None:
    job = commit(world, messy)

    assert job.status == JobStatus.FAILED
    assert job.message == (
        "7 rows have problems, so nothing was imported. Correct them, or import only the valid rows."
    )
    assert not Destination.objects.exists()
    assert not Destination.history.exists()  # type: ignore[attr-defined]


def test_the_valid_rows_only_are_recorded_as_the_form_would_record_them(world: World, messy: Path) -> None:
    job = commit(world, messy, skip_invalid=True)

    assert job.status == JobStatus.DONE, job.message
    assert job.message == ("Imported 3 rows: 3 created, 0 updated, 0 unchanged. 7 rows with problems were left out.")
    own = current(world.own)
    employer = own.employer
    assert employer is not None and employer.name == "石家庄华信科技有限公司"
    assert (
        own.code.code,
        own.employer_name,
        own.employer_type,
        own.industry,
        own.work_province,
        own.work_city,
        own.started_on,
        own.salary,
        own.matches_major,
        own.employer_is_partner,
    ) == ("10", "石家庄华信科技有限公司", "private", "I", "河北省", "石家庄市", dt.date(2024, 7, 1), 4500, True, False)
    assert (own.recorded_on, own.recorded_by, own.placed_since, own.confirmation) == (
        TODAY,
        world.office,
        TODAY,
        "pending",
    )
    classmate = current(world.classmate)
    assert (
        classmate.code.code,
        classmate.employer,
        classmate.employer_name,
        classmate.employer_type,
        classmate.industry,
        classmate.work_province,
        classmate.work_city,
        classmate.started_on,
        classmate.salary,
        classmate.matches_major,
    ) == ("11", None, "河北钢铁集团有限公司", "state_owned", "C", "河北省", "唐山市", dt.date(2024, 7, 15), 5200, True)
    study = current(world.dept2_student)
    assert (study.code.code, study.employer_name, study.started_on, study.salary, study.matches_major) == (
        "80",
        "河北科技大学",
        dt.date(2024, 9, 1),
        None,
        None,
    )
    history = own.history.get()  # type: ignore[attr-defined]
    assert (history.history_type, history.history_user, history.history_change_reason) == (
        "+",
        world.office,
        "Imported from 2024届毕业去向.xlsx",
    )
    assert Destination.objects.count() == 3


def clean_file(world: World, tmp_path: Path, code: str = "11", employer: str = "河北钢铁集团有限公司") -> Path:
    return xlsx(
        tmp_path / f"clean-{code}.xlsx",
        [
            ["学号", "姓名", "毕业去向代码", "工作单位", "单位所在省", "单位所在市", "报到日期", "起薪"],
            [world.own.student_number, "田斌臣", code, employer, "河北省", "唐山市", "2024-07-01", 5000],
            [world.classmate.student_number, "刘洋", "待就业", "", "", "", "", ""],
            [world.dept2_student.student_number, "陈静", "专升本", "河北科技大学", "", "", "", ""],
        ],
    )


def test_importing_the_same_file_again_records_nothing(world: World, tmp_path: Path) -> None:
    path = clean_file(world, tmp_path)
    first = commit(world, path)
    assert (first.status, first.created_count) == (JobStatus.DONE, 3), first.problems

    again = commit(world, path)

    assert (again.status, again.created_count, again.updated_count, again.unchanged_count) == (
        JobStatus.DONE,
        0,
        0,
        3,
    )
    assert again.message == "Imported 3 rows: 0 created, 0 updated, 3 unchanged."
    assert Destination.objects.count() == 3
    assert Destination.history.count() == 3  # type: ignore[attr-defined]
    assert current(world.dept2_student).code.code == "80"
    assert current(world.classmate).code.code == "70"


def test_a_change_supersedes_the_destination_in_force_and_keeps_it_as_history(world: World, tmp_path: Path) -> None:
    earlier = record_destination(
        actor=world.office,
        student=world.own,
        code="11",
        today=dt.date(2024, 3, 1),
        employer_name="石家庄某物流公司",
        salary=4200,
    )

    job = commit(world, clean_file(world, tmp_path, code="10", employer="唐山三友化工股份有限公司"))

    assert (job.created_count, job.updated_count, job.unchanged_count) == (2, 1, 0)
    earlier.refresh_from_db()
    assert (earlier.superseded_on, earlier.version) == (TODAY, 2)
    now = current(world.own)
    assert (now.code.code, now.employer_name, now.salary, now.recorded_on) == (
        "10",
        "唐山三友化工股份有限公司",
        5000,
        TODAY,
    )
    assert now.placed_since == dt.date(2024, 3, 1)  # still placed: struck off the unplaced list on the first job
    closed = earlier.history.order_by("-history_id").first()  # type: ignore[attr-defined]
    assert (closed.history_type, closed.superseded_on, closed.version, closed.history_change_reason) == (
        "~",
        TODAY,
        2,
        f"Imported from {job.original_name}",
    )
    assert Destination.objects.filter(student=world.own).count() == 2


def test_the_ledger_students_progress_row_holds_the_imported_destinations_group(world: World, tmp_path: Path) -> None:
    """The boards count placed ledger students from their progress rows: an import refreshes them."""
    record_destination(actor=world.office, student=world.own, code="70", today=dt.date(2024, 3, 1))
    assert StudentProgress.objects.get(student=world.own).destination_group == "not_placed"

    commit(world, clean_file(world, tmp_path, code="10", employer="唐山三友化工股份有限公司"))

    assert StudentProgress.objects.get(student=world.own).destination_group == "employed"
    assert not StudentProgress.objects.filter(student=world.classmate).exists()  # not in the ledger: no row


def test_a_later_destination_already_recorded_is_a_row_problem(world: World, tmp_path: Path) -> None:
    record_destination(
        actor=world.office, student=world.own, code="80", today=dt.date(2024, 4, 1), employer_name="河北科技大学"
    )
    job = services.preview(actor=world.office, job=upload(world, clean_file(world, tmp_path)), today=TODAY)
    assert job.problems == [
        {"row": 2, "column": "毕业去向代码", "message": "A later destination is already recorded (2024-04-01)."}
    ]


def test_a_counsellor_records_only_their_classes(world: World, tmp_path: Path) -> None:
    job = services.preview(
        actor=world.counsellor, job=upload(world, clean_file(world, tmp_path), world.counsellor), today=TODAY
    )
    assert job.problems == [
        {
            "row": 4,
            "column": "学号",
            "message": f"You may not record the destination of student {world.dept2_student.student_number}.",
        }
    ]
    assert job.valid_rows == 2


@pytest.mark.parametrize("who", ["helper", "outsider", "principal"])
def test_who_may_not_import_destinations(world: World, tmp_path: Path, who: str) -> None:
    with pytest.raises(PermissionDenied):
        upload(world, clean_file(world, tmp_path), getattr(world, who))


def test_a_student_of_another_school_is_unknown_here(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "other.xlsx",
        [["学号", "毕业去向", "单位名称"], [world.other_school_student.student_number, "10", "某公司"]],
    )
    job = services.preview(actor=world.office, job=upload(world, path), today=TODAY)
    assert job.problems == [
        {
            "row": 2,
            "column": "学号",
            "message": f"There is no student {world.other_school_student.student_number} in this school.",
        }
    ]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("10", "10"),
        (10, "10"),
        (10.0, "10"),
        ("１０", "10"),
        ("签就业协议形式就业", "10"),
        ("Signed employment agreement", "10"),
        ("(10)签就业协议形式就业", "10"),
        ("10-签就业协议形式就业", "10"),
        ("劳动合同", "11"),
        ("参军入伍", "46"),
        ("专升本", "80"),
        ("出国、出境", "85"),
        (" 待就业 ", "70"),
    ],
)
def test_destination_codes_are_read_in_their_usual_wordings(world: World, cell: object, code: str) -> None:
    assert target.Codes(world.school, TODAY).find(cell).code == code


def test_a_schools_own_code_is_found_and_wins_over_the_national_one(world: World) -> None:
    own = DestinationCode.objects.create(
        school=world.school,
        code="10",
        label="签就业协议形式就业（校定）",
        label_en="Signed agreement (school)",
        group="employed",
        list_version="HEBUST-2024",
        valid_from=dt.date(2024, 1, 1),
    )
    codes = target.Codes(world.school, TODAY)
    assert codes.find("10") == own
    assert codes.find("签就业协议形式就业（校定）") == own
    assert target.Codes(world.other_school, TODAY).find("10").school is None


@pytest.mark.parametrize(
    ("cell", "salary"),
    [(4500, 4500), (4500.0, 4500), ("4,500元", 4500), ("4500元/月", 4500), ("4.5k", 4500), ("0.45万", 4500)],
)
def test_salaries_are_read_in_yuan_a_month(cell: object, salary: int) -> None:
    assert target._salary(cell) == salary


@pytest.mark.parametrize(
    ("cell", "industry"),
    [("I", "I"), ("i", "I"), ("I 信息传输、软件和信息技术服务业", "I"), ("制造业", "C"), ("Education", "P")],
)
def test_industries_are_read_by_letter_or_name(cell: str, industry: str) -> None:
    assert target._industry(cell) == industry


def test_an_industry_letter_with_another_sections_name_is_refused() -> None:
    with pytest.raises(Invalid):
        target._industry("C 信息传输、软件和信息技术服务业")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_template_maps_back_to_every_field(world: World, tmp_path: Path, language: str) -> None:
    data = template_workbook("destinations", language)
    page = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in next(page.iter_rows(max_row=1))]
    assert header[:3] == (
        ["*学号", "姓名", "*毕业去向"] if language == "zh-hans" else ["*Student No.", "Name", "*Destination"]
    )
    path = tmp_path / f"template-{language}.xlsx"
    path.write_bytes(data)
    job = upload(world, path)
    assert set(job.mapping) == {f.key for f in get_target("destinations").fields}


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_destinations", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_and_exits_zero_or_lists_the_problems(world: World, tmp_path: Path) -> None:
    args = ("--school", "HEBUST", "--as", "office", "--date", TODAY.isoformat())
    bad = xlsx(tmp_path / "bad.xlsx", [["学号", "毕业去向"], ["20219999", "10"]])
    err = io.StringIO()
    with pytest.raises(CommandError, match=re.escape("1 row has problems, so nothing was imported.")) as caught:
        call_command("import_destinations", str(bad), *args, stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == ["Row 2, 学号: There is no student 20219999 in this school."]

    out, err_text = run_command(str(clean_file(world, tmp_path)), *args)
    assert out.strip() == "Imported 3 rows: 3 created, 0 updated, 0 unchanged."
    assert err_text == ""
    assert Destination.objects.count() == 3
