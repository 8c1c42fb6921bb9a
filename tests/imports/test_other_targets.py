"""The other targets: the school's units, its staff, and the old work ledger."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bangfu.assistance.models import Activity, StudentProgress
from bangfu.imports import services
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.imports.targets import all_targets
from bangfu.organisation.models import OrgUnit, Role, RoleGrant, UnitKind, User
from tests.conftest import TODAY, World
from tests.imports.sheets import xlsx


def commit(world: World, target: str, path: Path, actor: User | None = None, **options: bool) -> ImportJob:
    actor = actor or world.office
    with path.open("rb") as stream:
        job = services.create_job(
            actor=actor, target=target, school=world.school, upload=stream, name=path.name, options=options
        )
    return services.commit(actor=actor, job=job, today=TODAY)


def test_the_registry_holds_every_target() -> None:
    assert {"activities", "staff", "students", "units"} <= {t.name for t in all_targets()}


# --- units -----------------------------------------------------------------------------------------------------


def test_units_are_created_once_found_by_name_or_code_and_renamed_by_code(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "units.xlsx",
        [
            ["院系", "院系代码", "专业", "专业代码", "班级", "班级代码"],
            ["服装工程系", "", "专业1", "", "专业12401班", "C1401"],
            ["服装工程系", "", "服装与服饰设计", "550105", "服设2401班", ""],
            ["服装工程系", "", "服装与服饰设计", "550105", "服设2402班", ""],
            ["艺术设计学院", "ART", "", "", "", ""],
            ["机电工程系", "D2", "机电一体化", "M2", "", ""],  # M2 is 专业2: renamed
        ],
        title="院系专业班级一览表",
    )
    job = commit(world, "units", path)

    assert job.status == JobStatus.DONE, job.problems
    assert (job.created_count, job.updated_count, job.unchanged_count) == (4, 1, 0)
    assert OrgUnit.objects.get(path=f"{world.dept1.path}M1/C1401/").name == "专业12401班"
    major = OrgUnit.objects.get(path=f"{world.dept1.path}550105/")
    assert sorted(major.children.values_list("name", flat=True)) == ["服设2401班", "服设2402班"]
    art = OrgUnit.objects.get(kind=UnitKind.DEPARTMENT, code="ART")
    assert (art.parent, art.name) == (world.school, "艺术设计学院")
    renamed = OrgUnit.objects.get(path=f"{world.dept2.path}M2/")
    assert renamed.name == "机电一体化"
    assert renamed.history.first().history_user == world.office  # type: ignore[attr-defined]

    again = commit(world, "units", path)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 5)


def test_only_the_office_imports_units(world: World, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "u.xlsx", [["院系", "专业"], ["服装工程系", "新专业"]])
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        commit(world, "units", path, actor=world.leader)


# --- staff -----------------------------------------------------------------------------------------------------


def test_staff_are_created_with_their_roles_and_updated_by_user_name(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "staff.xlsx",
        [
            ["工号", "姓名", "院系", "班级", "角色", "手机号", "邮箱"],
            ["T2024001", "孙 老师", "服装工程系", "", "辅导员", "139 0000 1111", "sun@hebust.edu.cn"],
            ["T2024002", "周老师", "机电工程系", "专业22101班", "counsellor", "", ""],
            ["helper", "郑银乐", "服装工程系", "", "系主任", "", ""],
            ["T2024004", "吴老师", "外语系", "", "教师", "", ""],
            ["T2024005", "钱老师", "", "", "门卫", "", ""],
        ],
    )
    job = commit(world, "staff", path)
    assert job.status == JobStatus.FAILED
    assert job.problems == [
        {"row": 5, "column": "院系", "message": "Unknown department “外语系”."},
        {
            "row": 5 + 1,
            "column": "角色",
            "message": "“门卫” is not a role: write 校领导, 就业办, 院系领导, 辅导员 or 教师.",
        },
    ]

    job = commit(world, "staff", path, skip_invalid=True)

    assert job.status == JobStatus.DONE
    assert (job.created_count, job.updated_count, job.unchanged_count) == (2, 1, 0)
    sun = User.objects.get(username="T2024001")
    assert (sun.full_name, sun.staff_number, sun.unit, sun.phone, sun.email) == (
        "孙老师",
        "T2024001",
        world.dept1,
        "13900001111",
        "sun@hebust.edu.cn",
    )
    assert not sun.has_usable_password()
    assert list(RoleGrant.objects.filter(user=sun).values_list("role", "unit")) == [(Role.COUNSELLOR, world.dept1.pk)]
    zhou = User.objects.get(username="T2024002")
    assert list(RoleGrant.objects.filter(user=zhou).values_list("role", "unit")) == [(Role.COUNSELLOR, world.class2.pk)]
    # The existing teacher gets the new role beside the old one.
    assert set(RoleGrant.objects.filter(user=world.helper).values_list("role", flat=True)) == {
        Role.TEACHER,
        Role.DEPARTMENT_LEADER,
    }
    again = commit(world, "staff", path, skip_invalid=True)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)


# --- the work ledger -------------------------------------------------------------------------------------------


@pytest.fixture
def work_ledger(world: World, tmp_path: Path) -> Path:
    own = world.own
    return xlsx(
        tmp_path / "帮扶工作台账.xlsx",
        [
            ["序号", "学号", "学生姓名", "日期", "帮扶类型", "帮扶人", "帮扶内容", "推荐单位", "推荐岗位",
             "是否对口", "学生反馈"],
            [1, own.student_number, own.name, "2023年10月12日", "谈心谈话", "郑银乐", "了解家庭近况", "", "", "", ""],
            [2, own.student_number, own.name, 45231, "每月对接", "郑银乐 ", "电话联系", "", "", "", ""],
            [3, own.student_number, own.name, "2024.3.1", "岗位推荐", "郑银乐", "推荐实习岗位", "石家庄某服装公司",
             "跟单员", "是", "已面试"],
            [4, own.student_number, "刘洋", "2024-03-02", "谈心", "郑银乐", "", "", "", "", ""],
            [5, own.student_number, own.name, "2024-03-05", "修改简历", "郑银乐", "第二版", "", "", "", ""],
            [6, own.student_number, own.name, "2024-04-01", "谈心", "郑银乐", "", "", "", "", ""],
            [7, "20990001", "", "2024-03-01", "谈心", "郑银乐", "", "", "", "", ""],
            [8, own.student_number, own.name, "2024/3/1", "岗位推荐", "郑银乐", "", "", "", "", ""],
        ],
        title="2023—2024学年 一对一帮扶工作台账",
    )  # fmt: skip


def test_the_old_work_ledger_is_imported_with_the_services_rules(world: World, work_ledger: Path) -> None:
    own = world.own
    job = commit(world, "activities", work_ledger, skip_invalid=True)

    assert job.status == JobStatus.DONE
    assert job.problems == [
        {"row": 6, "column": "学生姓名", "message": f"Student {own.student_number} is called {own.name} here."},
        {
            "row": 7,
            "column": "帮扶类型",
            "message": "A résumé revision needs the revised résumé, which a spreadsheet cannot carry: "
            "log it in the app.",
        },
        {"row": 8, "column": "日期", "message": "The date cannot be in the future."},
        {"row": 9, "column": "学号", "message": "There is no student 20990001 in this school."},
        {"row": 10, "column": "推荐单位", "message": "This kind of activity needs this field."},
        {"row": 10, "column": "推荐岗位", "message": "This kind of activity needs this field."},
    ]
    rows = list(
        Activity.objects.filter(student=own)
        .order_by("occurred_on")
        .values_list("occurred_on", "kind", "helper__username", "stage", "notes", "effective", "created_by__username")
    )
    assert rows == [
        (dt.date(2023, 10, 12), "talk", "helper", "job_search", "了解家庭近况", False, "office"),
        (dt.date(2023, 11, 1), "check_in", "helper", "job_search", "电话联系", False, "office"),
        (dt.date(2024, 3, 1), "job_recommendation", "helper", "job_search", "推荐实习岗位", True, "office"),
    ]
    assert Activity.history.filter(history_type="+", history_user=world.office).count() == 3  # type: ignore[attr-defined]
    progress = StudentProgress.objects.get(student=own)
    assert progress.last_contact_on == dt.date(2024, 3, 1)

    again = commit(world, "activities", work_ledger, skip_invalid=True)
    assert (again.created_count, again.unchanged_count) == (0, 3)
    assert Activity.objects.filter(student=own).count() == 3


def test_the_import_commands_for_units_staff_and_activities(world: World, tmp_path: Path, work_ledger: Path) -> None:
    units = xlsx(tmp_path / "units.xlsx", [["院系", "专业", "班级"], ["服装工程系", "新专业", "新2401班"]])
    staff = xlsx(tmp_path / "staff.xlsx", [["工号", "姓名", "院系", "角色"], ["T9", "冯老师", "服装工程系", "教师"]])
    common = ("--school", "HEBUST", "--as", "office", "--date", TODAY.isoformat())
    out = io.StringIO()
    call_command("import_units", str(units), *common, stdout=out)
    call_command("import_units", str(staff), "--staff", *common, stdout=out)
    assert out.getvalue().splitlines() == [
        "Imported 1 row: 1 created, 0 updated, 0 unchanged.",
        "Imported 1 row: 1 created, 0 updated, 0 unchanged.",
    ]
    assert OrgUnit.objects.filter(name="新2401班").exists() and User.objects.filter(username="T9").exists()
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_activities", str(work_ledger), *common, stdout=io.StringIO(), stderr=err)
    assert len(err.getvalue().splitlines()) == 6
    assert not Activity.objects.exists()
