"""The xlsx exports (issue 7 §2): every workbook is read back with openpyxl and checked row by row for the
scope (a department leader's export holds their department only), the list's filters, escaped formula-like text,
headers in both languages and the access-log row; a large export runs as a background job whose file only its
requester can fetch.

World: cohort 2021 graduating 2024-06-30, today 2024-03-15. In the ledger: `own` (dept1, helped by `helper`),
`classmate` (dept1, helped by the counsellor) and `dept2_student` (dept2, no helper).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from bangfu.assistance.models import ActivityKind
from bangfu.assistance.progress import rebuild_progress
from bangfu.assistance.services import assign_helper, record_activity, save_plan
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.opportunities.models import RecommendationStatus
from bangfu.opportunities.services import change_recommendation, recommend
from bangfu.outcomes.services import attach_evidence, record_follow_up, verify_destination
from bangfu.reports import exports, xlsx
from bangfu.reports.models import ExportJob, ExportStatus
from bangfu.reports.tasks import run_export
from bangfu.students.services import join_ledger
from bangfu.subsidies import services as subsidies
from bangfu.subsidies.models import ApplicationStatus, SubsidyType
from tests.conftest import TODAY, World
from tests.factories import make_employer, make_position, make_student, system_user
from tests.students.pages import PDF
from tests.subsidies.test_pages import make_application

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
S = ApplicationStatus
JOINED = dt.date(2021, 11, 1)


@pytest.fixture(autouse=True)
def files_and_clock(settings, tmp_path, time_machine):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_DIR = tmp_path / "exports"
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI), tick=False)


def url(name: str, *args: object, query: str = "") -> str:
    return reverse(f"exports:{name}", args=args) + (f"?{query}" if query else "")


def read(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet of a workbook, as rows of values."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: [tuple(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def only_sheet(response) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == xlsx.CONTENT_TYPE
    (rows,) = read(b"".join(response.streaming_content)).values()
    return rows


def file_name(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"filename\*?=(?:utf-8'')?\"?([^\"]+)\"?$", unquote(response["Content-Disposition"]))
    assert match, response["Content-Disposition"]
    return match.group(1)


def day(value: dt.date | None) -> dt.datetime | None:
    """A date as openpyxl reads a date cell back."""
    return dt.datetime.combine(value, dt.time()) if value else None


def join(student, categories: list[str], **kw: Any):  # type: ignore[no-untyped-def]
    join_ledger(actor=system_user(), student=student, joined_on=JOINED, reason="入学普查", categories=categories,
                today=TODAY, **kw)  # fmt: skip
    return student


@pytest.fixture
def ledger(world: World) -> World:
    """Three ledger students in two departments, a plan with formula-like text, and a student outside the ledger."""
    join(world.classmate, ["subsistence_allowance"], hardship_level="hardship", intends_to_work=False)
    assign_helper(actor=system_user(), student=world.classmate, helper=world.counsellor, start=JOINED, today=TODAY)
    join(world.dept2_student, ["disabled", "rural"], hardship_level="general")
    make_student(world.class1, name="局外人")  # in the class, not in the ledger
    save_plan(
        actor=world.helper,
        student=world.own,
        expected_version=None,
        today=TODAY,
        direction="job",
        industries="=cmd|' /C calc'!A0",
        places="+辛集市",
        near_home=True,
        salary_expectation=4000,
    )
    return world


# ---------------------------------------------------------------------------------------------------------
# The writer


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("田斌臣", "田斌臣"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_text_a_spreadsheet_could_run_gets_an_apostrophe(value: Any, written: str) -> None:
    assert xlsx.safe_text(value) == written


def test_sheet_names_are_made_acceptable_and_unique() -> None:
    taken: set[str] = set()
    assert xlsx.sheet_name("Ledger: 2024/25 [draft]", taken) == "Ledger  2024 25  draft"
    assert xlsx.sheet_name("ledger  2024 25  draft", taken) == "ledger  2024 25  draft (2)"
    assert xlsx.sheet_name("x" * 40, taken) == "x" * 31


def test_a_workbook_is_typed_frozen_filterable_and_totalled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sheet = xlsx.Sheet(
        name="名单",
        title="=标题",
        subtitle="范围",
        columns=[
            xlsx.Column("A"),
            xlsx.Column("B", kind=xlsx.NUMBER),
            xlsx.Column("C", kind=xlsx.DATE),
            xlsx.Column("D", kind=xlsx.MONEY),
        ],
        rows=iter([["-x", 3, dt.date(2024, 1, 2), Decimal("12.50")], ["y", None, None, 1]]),
        footer=lambda: ["Total", 3, None, Decimal("13.50")],
        freeze_columns=1,
    )
    seen: list[int] = []
    path = tmp_path / "t.xlsx"
    assert xlsx.write_workbook(path, [sheet], on_rows=seen.append) == 2
    assert seen == [1, 2]
    book = openpyxl.load_workbook(path)
    ws = book["名单"]
    assert [tuple(r) for r in ws.iter_rows(values_only=True)] == [
        ("'=标题", None, None, None),
        ("范围", None, None, None),
        ("A", "B", "C", "D"),
        ("'-x", 3, dt.datetime(2024, 1, 2), 12.5),
        ("y", None, None, 1),
        ("Total", 3, None, 13.5),
    ]
    assert ws.freeze_panes == "B4"
    assert ws.auto_filter.ref == "A3:D5"
    assert ws["D4"].number_format == "#,##0.00" and ws["C4"].number_format == "yyyy-mm-dd"
    assert ws["A6"].font.b and ws["D6"].font.b


# ---------------------------------------------------------------------------------------------------------
# 1. The disadvantaged-student ledger

LEDGER_HEADERS = (
    "No.",
    "Student number",
    "Name",
    "Gender",
    "ID number",
    "Department",
    "Major",
    "Class",
    "Cohort",
    "Ledger categories",
    "Hardship level",
    "Intends to work",
    "Joined the ledger on",
    "Helper",
    "Direction",
    "Industries wanted",
    "Places wanted",
    "Near home",
    "Monthly salary expected (yuan)",
)


def ledger_row(number: int, student, **changes: Any) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    row = {
        "number": number,
        "student_number": student.student_number,
        "name": student.name,
        "gender": student.get_gender_display(),
        "id": student.id_number_masked,
        "department": student.department.name,
        "major": student.major.name,
        "class": student.class_unit.name,
        "cohort": 2021,
        "categories": None,
        "hardship": None,
        "intends": "Yes",
        "joined": day(JOINED),
        "helper": None,
        "direction": None,
        "industries": None,
        "places": None,
        "near_home": None,
        "salary": None,
    }
    row.update(changes)
    return tuple(row.values())


def test_a_department_leader_exports_the_ledger_of_their_department_only(ledger: World, as_user) -> None:
    response = as_user(ledger.leader).post(url("ledger"))
    assert file_name(response) == "Disadvantaged-student ledger-20240315.xlsx"
    rows = only_sheet(response)
    assert rows[0][0] == "Disadvantaged-student ledger"
    assert rows[1][0] == "2 students · exported on 2024-03-15"
    assert rows[2] == LEDGER_HEADERS
    own, classmate = ledger.own, ledger.classmate
    assert rows[3:] == [
        ledger_row(
            1,
            own,
            categories="Household lifted out of poverty (formerly registered poor); Orphan",
            hardship="Special hardship",
            helper="郑银乐",
            direction="Job",
            industries="'=cmd|' /C calc'!A0",
            places="'+辛集市",
            near_home="Yes",
            salary=4000,
        ),
        ledger_row(
            2,
            classmate,
            categories="Minimum-living-allowance household",
            hardship="Hardship",
            intends="No",
            helper="赵辅导员",
        ),
    ]
    # The ID number is the masked one, never the number itself.
    assert "*" in rows[3][4] and rows[3][4] == own.id_number_masked


def test_the_ledger_export_applies_the_list_filters_and_order(ledger: World, as_user) -> None:
    client = as_user(ledger.office)
    everyone = only_sheet(client.post(url("ledger")))
    assert [r[2] for r in everyone[3:]] == ["田斌臣", "刘洋", "陈静"]
    orphans = only_sheet(client.post(url("ledger", query="category=orphan")))
    assert [r[2] for r in orphans[3:]] == ["田斌臣"]
    dept2 = only_sheet(client.post(url("ledger", query=f"department={ledger.dept2.public_id}")))
    assert [r[2] for r in dept2[3:]] == ["陈静"]
    backwards = only_sheet(client.post(url("ledger", query="sort=-number")))
    assert [r[2] for r in backwards[3:]] == ["陈静", "刘洋", "田斌臣"]
    assert [r[0] for r in backwards[3:]] == [1, 2, 3]
    # As on the list page, a filter outside the user's scope is refused and left out: never a wider scope.
    elsewhere = only_sheet(as_user(ledger.leader).post(url("ledger", query=f"department={ledger.dept2.public_id}")))
    assert [r[2] for r in elsewhere[3:]] == ["田斌臣", "刘洋"]


def test_a_helper_exports_only_the_students_they_help(ledger: World, as_user) -> None:
    rows = only_sheet(as_user(ledger.helper).post(url("ledger")))
    assert [r[2] for r in rows[3:]] == ["田斌臣"]


def test_headers_are_in_the_users_language(ledger: World, as_user) -> None:
    ledger.leader.language = "zh-hans"
    ledger.leader.save(update_fields=["language"])
    response = as_user(ledger.leader).post(url("ledger"))
    rows = only_sheet(response)
    assert rows[0][0] == "困难群体学生台账"
    assert rows[2][1:3] == ("学号", "姓名")
    assert rows[2][5:8] == ("院系", "专业", "班级")
    assert rows[2][9:11] == ("台账类别", "困难等级")
    assert rows[2][13] == "帮扶责任人"
    # Categories and levels are written in Chinese too.
    assert rows[3][10] == "特别困难"
    assert file_name(response) == "困难群体学生台账-20240315.xlsx"


def test_every_export_is_written_to_the_access_log(ledger: World, as_user) -> None:
    as_user(ledger.leader).post(url("ledger", query="category=orphan&cohort=2021"))
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert (log.actor, log.fields, log.student) == (ledger.leader, "ledger", None)
    assert log.detail == f"{ledger.dept1.path}; cohort=2021; category=orphan; rows=1"


def test_students_and_strangers_may_not_export(ledger: World, as_user, client) -> None:
    assert client.post(url("ledger")).status_code == 302  # to the login page
    assert as_user(ledger.student_user).post(url("ledger")).status_code == 403
    assert as_user(ledger.student_user).get(url("index")).status_code == 403
    assert as_user(ledger.leader).get(url("ledger")).status_code == 405
    outsider = only_sheet(as_user(ledger.outsider).post(url("ledger")))
    assert outsider[3:] == []  # the other school's office sees none of this school's students
    assert not AccessLog.objects.filter(actor=ledger.student_user).exists()


def test_the_export_reads_a_fixed_number_of_queries(ledger: World, as_user, django_assert_max_num_queries) -> None:
    for i in range(30):
        join(make_student(ledger.class1, name=f"学生{i:02d}"), ["orphan", "rural"], hardship_level="general")
    client = as_user(ledger.office)
    # Each bound holds one query for the user's helped students (permissions.helped_ids).
    with django_assert_max_num_queries(15):
        rows = only_sheet(client.post(url("ledger")))
    assert len(rows) == 3 + 33
    with django_assert_max_num_queries(17):
        rows = only_sheet(client.post(url("work_ledger")))
    assert len(rows) == 3 + 34  # every student of the list, the one outside the ledger too


# ---------------------------------------------------------------------------------------------------------
# 2. The work ledger


@pytest.fixture
def worked(ledger: World) -> World:
    """`own` in the job-search stage: two talks, a check-in, three recommendations (one accepted, which records the
    destination), a paid subsidy; the destination is verified."""
    for on in (dt.date(2024, 1, 8), dt.date(2024, 3, 4)):
        record_activity(actor=ledger.helper, student=ledger.own, kind=ActivityKind.TALK, occurred_on=on, today=TODAY)
    record_activity(
        actor=ledger.helper, student=ledger.own, kind=ActivityKind.CHECK_IN, occurred_on=dt.date(2024, 3, 11),
        today=TODAY,
    )  # fmt: skip
    employer = make_employer(ledger.school, "石家庄华信科技有限公司")
    accepted = recommend(actor=ledger.helper, student=ledger.own, position=make_position(employer), today=TODAY)
    declined = recommend(
        actor=ledger.helper, student=ledger.own, position=make_position(employer, "客服专员"), today=TODAY
    )
    recommend(actor=ledger.helper, student=ledger.own, position=make_position(employer, "仓库管理员"), today=TODAY)
    for step in (RecommendationStatus.APPLIED, RecommendationStatus.OFFER, RecommendationStatus.ACCEPTED):
        accepted = change_recommendation(
            actor=ledger.helper, recommendation=accepted, to_status=step, on=TODAY, today=TODAY, destination_code="11"
        )
    change_recommendation(
        actor=ledger.helper, recommendation=declined, to_status=RecommendationStatus.DECLINED, on=TODAY, today=TODAY,
        reason="salary",
    )  # fmt: skip
    subsidies.install_default_types(actor=ledger.office, school=ledger.school)
    job_search = SubsidyType.objects.get(school=ledger.school, code="job_search")
    subsidies.set_budget(actor=ledger.office, subsidy_type=job_search, year=2024, amount=Decimal(15000))
    make_application(ledger, job_search, upto=S.PAID)
    destination = ledger.own.destinations.get(superseded_on__isnull=True)
    contract = SimpleUploadedFile("劳动合同.pdf", PDF, content_type="application/pdf")
    destination = attach_evidence(
        actor=ledger.helper, destination=destination, evidence=contract, kind="labour_contract"
    )
    verify_destination(actor=ledger.leader, destination=destination, today=TODAY)
    return ledger


def test_the_work_ledger_has_the_meters_recommendations_subsidies_and_destination(worked: World, as_user) -> None:
    rows = only_sheet(as_user(worked.leader).post(url("work_ledger", query="in_ledger=yes")))
    header = rows[2]
    assert header[:9] == (
        "No.",
        "Student number",
        "Name",
        "Department",
        "Major",
        "Class",
        "Ledger categories",
        "Helper",
        "Stage",
    )
    assert header[9:17] == (
        "Heart-to-heart talks (done/required)",
        "Check-ins (done/required)",
        "Résumé revisions (done/required)",
        "Recruitment events together (done/required)",
        "Effective job recommendations (done/required)",
        "Work-study recommendations (done/required)",
        "Order-class recommendations (done/required)",
        "Follow-ups (done/required)",
    )
    assert header[17:] == (
        "Standards met",
        "Overdue items",
        "Risk",
        "Risk reasons",
        "Last check-in",
        "Last contact",
        "Recommendations",
        "Acted on",
        "Offers",
        "Accepted",
        "Declined",
        "Subsidies paid",
        "Subsidies paid (yuan)",
        "Destination",
        "Employer or school",
        "Verified on",
        "Struck off on",
    )
    own = dict(zip(header, rows[3], strict=True))
    progress = worked.own.progress
    assert own["Name"] == "田斌臣" and own["Stage"] == "Job search"
    assert own["Heart-to-heart talks (done/required)"] == "2/3"
    assert own["Standards met"] == f"{progress.standards_met}/{progress.standards_total}"
    assert (own["Last check-in"], own["Last contact"]) == (day(dt.date(2024, 3, 11)), day(TODAY))
    assert (own["Recommendations"], own["Acted on"], own["Offers"], own["Accepted"], own["Declined"]) == (3, 1, 1, 1, 1)
    assert (own["Subsidies paid"], own["Subsidies paid (yuan)"]) == (1, 1500)
    assert own["Destination"] == "11 Labour contract"
    assert own["Employer or school"] == "石家庄华信科技有限公司"
    assert (own["Verified on"], own["Struck off on"]) == (day(TODAY), day(TODAY))
    classmate = dict(zip(header, rows[4], strict=True))
    assert classmate["Name"] == "刘洋" and classmate["Recommendations"] == 0 and classmate["Destination"] is None
    assert classmate["Subsidies paid"] == 0 and classmate["Struck off on"] is None
    assert len(rows) == 5  # dept2's student is not the leader's


def test_the_work_ledger_follows_the_list_so_a_student_outside_the_ledger_has_a_blank_row(ledger, as_user) -> None:
    rows = only_sheet(as_user(ledger.leader).post(url("work_ledger")))
    outside = rows[-1]
    assert outside[2] == "局外人"
    assert outside[6:9] == (None, None, None)  # no categories, no helper, no stage
    assert outside[24:27] == (0, 0, 0)


def test_rows_read_chunk_by_chunk_come_out_whole_and_in_order(worked: World, as_user, monkeypatch) -> None:
    client = as_user(worked.office)
    whole = {name: only_sheet(client.post(url(name))) for name in ("ledger", "work_ledger")}
    monkeypatch.setattr(exports, "CHUNK", 2)
    for name, rows in whole.items():
        chunked = only_sheet(client.post(url(name)))
        assert chunked == rows and len(rows) > 3 + 2, name


# ---------------------------------------------------------------------------------------------------------
# 3. Placement report, subsidy list, follow-up list


def test_the_placement_report_by_department_and_category(worked: World, as_user) -> None:
    response = as_user(worked.office).post(
        url("placement"), {"placement-year": 2024, "placement-as_of": "2024-03-15", "placement-ledger_only": "on"}
    )
    assert response.status_code == 200
    sheets = read(b"".join(response.streaming_content))
    assert list(sheets) == ["By department", "By category"]
    department = sheets["By department"]
    assert department[0][0] == "Placement of the 2024 graduates, as of 2024-03-15"
    assert department[2][:8] == (
        "Department",
        "Graduates",
        "Outcome known",
        "Employed",
        "Of whom flexibly employed",
        "Further study",
        "Placed",
        "Placement rate (%)",
    )
    # dept1: own (placed) and classmate; dept2: one ledger graduate, unplaced.
    assert department[3][:8] == ("服装工程系", 2, 1, 1, 0, 0, 1, 50)
    assert department[4][:8] == ("机电工程系", 1, 0, 0, 0, 0, 0, 0)
    assert department[5][:8] == ("Total", 3, 1, 1, 0, 0, 1, 33.3)
    category = sheets["By category"]
    assert [(r[0], r[1], r[6]) for r in category[3:]] == [
        ("Household lifted out of poverty (formerly registered poor)", 1, 1),
        ("Minimum-living-allowance household", 1, 0),
        ("Student with a disability", 1, 0),
        ("Orphan", 1, 1),
        ("From a rural home", 1, 0),
        ("Total", 3, 1),
    ]
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert log.fields == "placement" and "year=2024" in log.detail and "rows=7" in log.detail
    # Unticked: every graduate of the class, the one outside the ledger too; the categories stay the ledger's.
    data = {"placement-year": 2024, "placement-as_of": "2024-03-15"}
    everyone = read(b"".join(as_user(worked.office).post(url("placement"), data).streaming_content))
    assert [r[:2] for r in everyone["By department"][3:]] == [("服装工程系", 3), ("机电工程系", 1), ("Total", 4)]
    assert everyone["By category"][-1][:2] == ("Total", 3)
    assert everyone["By department"][1][0] == "All graduates · exported on 2024-03-15"


def test_the_placement_report_is_for_those_with_a_unit_grant(worked: World, as_user) -> None:
    data = {"placement-year": 2024, "placement-as_of": "2024-03-15"}
    assert as_user(worked.helper).post(url("placement"), data).status_code == 403
    rows = read(b"".join(as_user(worked.other_leader).post(url("placement"), data).streaming_content))
    assert [r[:2] for r in rows["By department"][3:]] == [("机电工程系", 1), ("Total", 1)]


def test_the_subsidy_list_of_paid_applications_with_its_total(worked: World, as_user) -> None:
    job_search = SubsidyType.objects.get(school=worked.school, code="job_search")
    hardship = SubsidyType.objects.get(school=worked.school, code="hardship_subsidy")
    subsidies.set_budget(actor=worked.office, subsidy_type=hardship, year=2024, amount=Decimal(15000))
    make_application(worked, hardship, student=worked.classmate, by=worked.counsellor, upto=S.SCHOOL_APPROVED)
    client = as_user(worked.leader)
    paid = only_sheet(client.post(url("subsidies"), {"subsidies-status": "paid", "subsidies-year": 2024}))
    assert paid[0][0] == "Subsidies paid 2024"
    assert paid[2] == (
        "No.",
        "Student number",
        "Name",
        "ID number",
        "Department",
        "Class",
        "Subsidy",
        "Budget year",
        "Amount (yuan)",
        "Status",
        "Submitted on",
        "Paid on",
    )
    own = worked.own
    assert paid[3:] == [
        (1, own.student_number, "田斌臣", own.id_number_masked, "服装工程系", own.class_unit.name,
         "Job-search and entrepreneurship subsidy", 2024, 1500, "Paid", day(TODAY), day(TODAY)),
        (None, "Total", "1 applications", None, None, None, None, None, 1500, None, None, None),
    ]  # fmt: skip
    approved = only_sheet(
        client.post(
            url("subsidies"), {"subsidies-status": "approved", "subsidies-subsidy_type": str(hardship.public_id)}
        )
    )
    assert [(r[2], r[9]) for r in approved[3:-1]] == [("刘洋", "Approved for payment")]
    assert approved[-1][8] == float(hardship.amount)
    assert job_search.public_id  # both types were listed on the page's form


def test_the_follow_up_list_of_graduates_due_and_done(worked: World, as_user, time_machine, monkeypatch) -> None:
    autumn = dt.date(2024, 9, 10)
    time_machine.move_to(dt.datetime(2024, 9, 10, 10, 0, tzinfo=SHANGHAI), tick=False)
    record_follow_up(
        actor=worked.helper, student=worked.own, done_on=dt.date(2024, 8, 1), status="still_employed", today=autumn
    )
    rebuild_progress(today=autumn)  # the nightly job moves everyone's progress on
    client = as_user(worked.leader)
    done = only_sheet(client.post(url("follow_ups"), {"follow_ups-year": 2024, "follow_ups-state": "done"}))
    assert done[2] == (
        "No.",
        "Student number",
        "Name",
        "Department",
        "Class",
        "Helper",
        "Expected graduation",
        "Destination",
        "Employer or school",
        "Follow-ups done",
        "Last follow-up on",
        "Months after leaving",
        "Situation",
        "Next follow-up due",
        "Follow-ups overdue",
    )
    own = worked.own
    assert done[3:] == [
        (1, own.student_number, "田斌臣", "服装工程系", own.class_unit.name, "郑银乐", day(dt.date(2024, 6, 30)),
         "11 Labour contract", "石家庄华信科技有限公司", 1, day(dt.date(2024, 8, 1)), 1, "Still in the same job",
         day(dt.date(2024, 9, 30)), 0),
    ]  # fmt: skip
    every = only_sheet(client.post(url("follow_ups"), {"follow_ups-year": 2024, "follow_ups-state": "all"}))
    assert [r[2] for r in every[3:]] == ["田斌臣", "刘洋"]
    monkeypatch.setattr(exports, "CHUNK", 1)
    assert only_sheet(client.post(url("follow_ups"), {"follow_ups-year": 2024, "follow_ups-state": "all"})) == every
    # Due within a month: own's 3-month follow-up on 30 September; the classmate's 1-month one is overdue.
    due = only_sheet(client.post(url("follow_ups"), {"follow_ups-year": 2024, "follow_ups-state": "due"}))
    assert [(r[2], r[9], r[13], r[14]) for r in due[3:]] == [
        ("田斌臣", 1, day(dt.date(2024, 9, 30)), 0),
        ("刘洋", 0, day(dt.date(2024, 7, 30)), 1),
    ]
    assert due[0][0] == "Follow-ups due: 2024 graduates"


def test_an_invalid_report_form_shows_its_errors(worked: World, as_user) -> None:
    response = as_user(worked.office).post(url("placement"), {"placement-year": 1990})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.context["placement_form"].errors.keys() == {"year", "as_of"}
    assert not AccessLog.objects.exists()


def test_the_export_page_offers_the_forms_and_the_users_jobs(worked: World, as_user) -> None:
    page = as_user(worked.leader).get(url("index"))
    assert page.status_code == 200
    body = page.content.decode()
    for form in ("placement-form", "subsidy-form", "follow-up-form", "export-ledger-all"):
        assert f'id="{form}"' in body
    assert as_user(worked.helper).get(url("index")).context["placement_form"] is None


def test_the_student_list_and_the_ledger_page_carry_the_export_buttons(ledger: World, as_user) -> None:
    client = as_user(ledger.leader)
    body = client.get(reverse("students:list"), {"category": "orphan"}).content.decode()
    assert f'action="{url("ledger")}?category=orphan"' in body
    assert f'action="{url("work_ledger")}?category=orphan"' in body
    body = client.get(reverse("students:ledger")).content.decode()
    assert f'action="{url("work_ledger")}?in_ledger=yes&amp;department="' in body


# ---------------------------------------------------------------------------------------------------------
# Large exports: a background job


@pytest.fixture
def small_threshold(settings):  # type: ignore[no-untyped-def]
    settings.EXPORT_INLINE_ROWS = 1


def test_a_large_export_is_written_by_the_worker_and_downloaded_by_its_requester(
    worked: World, as_user, small_threshold, django_capture_on_commit_callbacks
) -> None:
    client = as_user(worked.leader)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url("work_ledger", query="in_ledger=yes"))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == url("job", job.public_id)
    assert len(callbacks) == 1  # the job is enqueued once the request's transaction commits
    assert (job.status, job.kind, job.total_rows, job.created_by) == (
        ExportStatus.QUEUED,
        "work_ledger",
        2,
        worked.leader,
    )
    assert job.params == {"filters": {"in_ledger": True}, "sort": "number"}
    assert not AccessLog.objects.exists()  # nothing handed out yet

    page = client.get(url("job", job.public_id))
    assert page.status_code == 200 and "Waiting to run" in page.content.decode()
    assert 'hx-trigger="every 2s"' in page.content.decode()

    assert run_export.call(str(job.public_id)) == {"status": "done", "rows": 2}
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.percent) == (ExportStatus.DONE, 2, 100)
    assert job.file_name == "Work ledger-20240315.xlsx"
    poll = client.get(url("job", job.public_id), headers={"HX-Request": "true"})
    assert 'id="export-download"' in poll.content.decode()
    assert "hx-trigger" not in poll.content.decode()  # finished: polling stops
    assert "<html" not in poll.content.decode()

    download = client.get(url("download", job.public_id))
    assert file_name(download) == "Work ledger-20240315.xlsx"
    rows = only_sheet(download)
    assert [r[2] for r in rows[3:]] == ["田斌臣", "刘洋"]
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert (log.actor, log.fields) == (worked.leader, "work_ledger")
    assert log.detail == f"{worked.dept1.path}; in_ledger=True; rows=2"
    # Running it again does nothing.
    assert run_export.call(str(job.public_id)) == {"status": "done"}


def test_a_committed_job_is_handed_to_the_worker(
    worked: World, as_user, small_threshold, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        as_user(worked.leader).post(url("ledger"))
    job = ExportJob.objects.get()
    task = DBTaskResult.objects.get()
    assert task.task_path == "bangfu.reports.tasks.run_export"
    assert task.args_kwargs["args"] == [str(job.public_id)]
    assert job.task_id == str(task.id)


def test_someone_elses_export_job_does_not_exist(worked: World, as_user, small_threshold) -> None:
    as_user(worked.leader).post(url("ledger"))
    job = ExportJob.objects.get()
    run_export.call(str(job.public_id))
    for user in (worked.office, worked.other_leader, worked.helper, worked.student_user, worked.outsider):
        client = as_user(user)
        assert client.get(url("job", job.public_id)).status_code == 404, user
        assert client.get(url("download", job.public_id)).status_code == 404, user
    assert not AccessLog.objects.exists()


def test_a_job_not_yet_done_sends_the_download_back_to_its_progress_page(worked: World, as_user, small_threshold):
    client = as_user(worked.leader)
    client.post(url("ledger"))
    job = ExportJob.objects.get()
    response = client.get(url("download", job.public_id))
    assert response.status_code == 302 and response["Location"] == url("job", job.public_id)


def test_an_old_export_file_is_deleted_when_the_next_job_runs(worked: World, as_user, small_threshold, time_machine):
    from bangfu.reports.export_services import job_file

    client = as_user(worked.leader)
    client.post(url("ledger"))
    first = ExportJob.objects.get()
    run_export.call(str(first.public_id))
    assert job_file(first).exists()
    time_machine.move_to(dt.datetime(2024, 3, 16, 11, 0, tzinfo=SHANGHAI), tick=False)
    client = as_user(worked.leader)  # the session ended overnight
    client.post(url("ledger"))
    second = ExportJob.objects.exclude(pk=first.pk).get()
    run_export.call(str(second.public_id))
    first.refresh_from_db()
    assert first.status == ExportStatus.EXPIRED and not job_file(first).exists()
    assert client.get(url("download", first.public_id)).status_code == 302
    assert "no longer kept" in client.get(url("job", first.public_id)).content.decode()


def test_the_builder_refuses_an_unknown_export(world: World) -> None:
    with pytest.raises(ValueError, match="unknown export"):
        exports.build("everything", user=world.office, params={})
