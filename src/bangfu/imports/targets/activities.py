"""The old work ledger (帮扶工作台账): one act of help per row, for a student of the school, by a named helper.

Each row is checked with `record_activity`'s rules (`assistance.services.activity_errors`): a known kind, a date
neither in the future nor before the student's enrolment, the employer and position of a job recommendation, the
event of a recruitment event; a résumé revision needs its résumé file, which a spreadsheet cannot carry, so it is
logged in the app. The stage and whether a recommendation was effective are derived as `record_activity` does,
under the school's policy in force on the row's date. Activities are never updated: a row that matches an
activity already recorded (same student, helper, kind, date and notes) is left unchanged, so importing the same
file twice adds nothing. The actor needs LOG_ACTIVITY on the student's class (a unit grant); the helper must be a
staff member they may name.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bangfu import bulk
from bangfu.assistance.models import Activity, ActivityKind, Response
from bangfu.assistance.queries import helper_candidates
from bangfu.assistance.rules import Timeline, is_effective, stage_on, versions_for_schools
from bangfu.assistance.services import activity_errors
from bangfu.imports import normalise as norm
from bangfu.imports.headers import Field
from bangfu.imports.people import Staff
from bangfu.imports.targets import Row, Run, Target, register
from bangfu.organisation.permissions import Perm
from bangfu.students.models import Student

FIELDS = (
    Field("student_number", gettext_lazy("Student number"), "学号", "Student No.", ("学生学号", "Student number"),
          required=True, example="2024010101"),
    Field("student_name", gettext_lazy("Student name"), "学生姓名", "Student name", ("姓名", "Name"),
          example="王小明"),
    Field("occurred_on", gettext_lazy("Date"), "日期", "Date",
          ("帮扶日期", "帮扶时间", "时间", "工作日期", "Occurred on"), required=True, example="2024-03-01"),
    Field("kind", gettext_lazy("Kind of help"), "帮扶类型", "Kind",
          ("帮扶形式", "工作类型", "类型", "帮扶方式", "Kind of help"), required=True, example="谈心谈话"),
    Field("helper", gettext_lazy("Helper"), "帮扶人", "Helper", ("帮扶责任人", "帮扶教师", "责任人", "Helper name"),
          required=True, example="张老师"),
    Field("notes", gettext_lazy("Notes"), "帮扶内容", "Notes", ("工作内容", "内容", "备注", "情况记录", "Content"),
          example="了解求职意向，鼓励参加春季招聘会"),
    Field("event_name", gettext_lazy("Recruitment event"), "招聘会", "Recruitment event", ("招聘会名称", "Event")),
    Field("employer_name", gettext_lazy("Employer"), "推荐单位", "Employer", ("用人单位", "单位名称", "单位")),
    Field("position_title", gettext_lazy("Position"), "推荐岗位", "Position", ("岗位", "岗位名称")),
    Field("fits_student", gettext_lazy("Fits the student"), "是否对口", "Fits the student", ("是否匹配", "专业对口")),
    Field("response", gettext_lazy("Student's response"), "学生反馈", "Response", ("反馈", "结果")),
)  # fmt: skip

_KIND_WORDS = {
    "谈心谈话": ActivityKind.TALK,
    "谈心": ActivityKind.TALK,
    "谈话": ActivityKind.TALK,
    "每月对接": ActivityKind.CHECK_IN,
    "对接": ActivityKind.CHECK_IN,
    "联系": ActivityKind.CHECK_IN,
    "电话联系": ActivityKind.CHECK_IN,
    "修改简历": ActivityKind.RESUME_REVISION,
    "简历修改": ActivityKind.RESUME_REVISION,
    "陪同参加招聘会": ActivityKind.EVENT_TOGETHER,
    "参加招聘会": ActivityKind.EVENT_TOGETHER,
    "招聘会": ActivityKind.EVENT_TOGETHER,
    "岗位推荐": ActivityKind.JOB_RECOMMENDATION,
    "推荐岗位": ActivityKind.JOB_RECOMMENDATION,
    "推荐工作": ActivityKind.JOB_RECOMMENDATION,
    "有效推荐": ActivityKind.JOB_RECOMMENDATION,
    "勤工助学推荐": ActivityKind.WORK_STUDY_RECOMMENDATION,
    "推荐勤工助学": ActivityKind.WORK_STUDY_RECOMMENDATION,
    "订单班推荐": ActivityKind.ORDER_CLASS_RECOMMENDATION,
    "安排实习": ActivityKind.INTERNSHIP_ARRANGED,
    "实习安排": ActivityKind.INTERNSHIP_ARRANGED,
    "职业指导": ActivityKind.CAREER_GUIDANCE,
    "就业指导": ActivityKind.CAREER_GUIDANCE,
    "技能指导": ActivityKind.SKILLS_GUIDANCE,
    "心理辅导": ActivityKind.PSYCHOLOGICAL_GUIDANCE,
    "心理疏导": ActivityKind.PSYCHOLOGICAL_GUIDANCE,
    "补贴申请": ActivityKind.SUBSIDY_HELP,
    "资助帮扶": ActivityKind.SUBSIDY_HELP,
    "跟踪回访": ActivityKind.FOLLOW_UP,
    "回访": ActivityKind.FOLLOW_UP,
    "其他": ActivityKind.OTHER,
}
_RESPONSE_WORDS = {
    "已投递": Response.APPLIED,
    "投递": Response.APPLIED,
    "已面试": Response.INTERVIEWED,
    "面试": Response.INTERVIEWED,
    "单位回复": Response.EMPLOYER_ANSWERED,
    "拒绝": Response.DECLINED,
    "婉拒": Response.DECLINED,
    "未接受": Response.DECLINED,
}


@functools.cache
def _kinds() -> dict[str, str]:
    return {**norm.labels(ActivityKind), **{norm.key(w): str(k) for w, k in _KIND_WORDS.items()}}


@functools.cache
def _responses() -> dict[str, str]:
    found = {**norm.labels(Response), **{norm.key(w): str(r) for w, r in _RESPONSE_WORDS.items()}}
    found.pop("", None)
    return found


def _kind(value: Any) -> str:
    found = _kinds().get(norm.key(value))
    if found is None:
        raise norm.Invalid(_("“%(value)s” is not a kind of help the work ledger knows.") % {"value": norm.text(value)})
    return found


def _response(value: Any) -> str:
    found = _responses().get(norm.key(value))
    if found is None:
        raise norm.Invalid(
            _("“%(value)s” is not a response: write 已投递, 已面试, 单位回复 or 拒绝.") % {"value": norm.text(value)}
        )
    return found


@dataclass(slots=True)
class Record:
    row: int
    number: str
    name: str
    values: dict[str, Any]  # Activity attnames → values
    helper_id: int


@dataclass
class Plan:
    rows: list[dict[str, Any]] = field(default_factory=list)


class ActivitiesTarget(Target):
    name = "activities"
    label = gettext_lazy("Work ledger (past help)")
    fields = FIELDS
    perm = Perm.LOG_ACTIVITY
    touches_progress = True

    def parse(self, run: Run, rows: list[Row]) -> list[Record]:
        staff = Staff(helper_candidates(run.actor, run.school))
        date, kind, response, fits = (
            norm.Memo(norm.date),
            norm.Memo(_kind),
            norm.Memo(_response),
            norm.Memo(norm.yes_no),
        )
        helpers: dict[Any, tuple[int | None, str]] = {}
        records: list[Record] = []
        for index, row in enumerate(rows):
            if index % 2000 == 0:
                run.tick("checking", index, len(rows))
            cells = row.cells
            errors: dict[str, str] = {}
            values: dict[str, Any] = {}
            number = norm.code(cells.get("student_number"))
            if not number:
                errors["student_number"] = _("A student number is required.")
            for key, clean, attname in (
                ("occurred_on", date, "occurred_on"),
                ("kind", kind, "kind"),
                ("response", response, "response"),
                ("fits_student", fits, "fits_student"),
            ):
                value = cells.get(key)
                if norm.blank(value):
                    if key in ("occurred_on", "kind"):
                        errors[key] = _("This field is required.")
                    continue
                try:
                    values[attname] = clean(value)
                except norm.Invalid as e:
                    errors[key] = str(e)
            for key in ("notes", "event_name", "employer_name", "position_title"):
                values[key] = norm.prose(cells.get(key))
                limit = Activity._meta.get_field(key).max_length  # type: ignore[union-attr]
                if limit and len(values[key]) > limit:
                    errors[key] = _("At most %(n)d characters.") % {"n": limit}
            raw = cells.get("helper")
            if norm.blank(raw):
                errors["helper"] = _("This field is required.")
            else:
                if raw not in helpers:
                    try:
                        helpers[raw] = (staff.find(raw).pk, "")
                    except norm.Invalid as e:
                        helpers[raw] = (None, str(e))
                helper_id, message = helpers[raw]
                if message:
                    errors["helper"] = message
            for key, message in errors.items():
                run.problem(row.number, key, message)
            if not errors:
                records.append(Record(row.number, number, norm.name(cells.get("student_name")), values, helper_id))  # type: ignore[arg-type]
        return records

    def plan(self, run: Run, records: list[Record]) -> Plan:
        plan = Plan()
        school = run.school
        students = {
            s["student_number"]: s
            for s in Student.objects.filter(school=school).values(
                "id",
                "student_number",
                "name",
                "class_unit_id",
                "cohort",
                "program_years",
                "expected_graduation",
                "enrolled_on",
            )
        }
        classes = {u.pk: u for u in self._classes(run)}
        versions = versions_for_schools({school.pk})[school.pk]
        dates = [r.values["occurred_on"] for r in records if "occurred_on" in r.values]
        existing: set[tuple[Any, ...]] = set()
        if dates:
            existing = set(
                Activity.objects.filter(
                    student__school=school, voided=False, occurred_on__gte=min(dates), occurred_on__lte=max(dates)
                ).values_list("student_id", "helper_id", "kind", "occurred_on", "notes")
            )
        seen: dict[tuple[Any, ...], int] = {}
        for record in records:
            student = students.get(record.number)
            if student is None:
                run.problem(
                    record.row,
                    "student_number",
                    _("There is no student %(number)s in this school.") % {"number": record.number},
                )
                continue
            if record.name and norm.key(record.name) != norm.key(student["name"]):
                run.problem(
                    record.row,
                    "student_name",
                    _("Student %(number)s is called %(name)s here.")
                    % {"number": record.number, "name": student["name"]},
                )
                continue
            if not run.may(Perm.LOG_ACTIVITY, classes[student["class_unit_id"]]):
                run.problem(
                    record.row,
                    "student_number",
                    _("You may not log help for student %(number)s.") % {"number": record.number},
                )
                continue
            values = record.values
            activity = Activity(
                kind=values["kind"],
                occurred_on=values["occurred_on"],
                attachment="",
                **{
                    k: values.get(k, "") for k in ("notes", "event_name", "employer_name", "position_title", "response")
                },
            )
            errors = activity_errors(activity, enrolled_on=student["enrolled_on"], today=run.today)
            if "attachment" in errors:
                errors["kind"] = [
                    _(
                        "A résumé revision needs the revised résumé, which a spreadsheet cannot carry: "
                        "log it in the app."
                    )
                ]
                del errors["attachment"]
            if errors:
                for key, messages in errors.items():
                    run.problem(record.row, key, " ".join(messages))
                continue
            identity = (student["id"], record.helper_id, values["kind"], values["occurred_on"], values.get("notes", ""))
            first = seen.setdefault(identity, record.row)
            if first != record.row:
                run.problem(record.row, "", _("The same help is also on row %(row)d.") % {"row": first})
                continue
            if identity in existing:
                run.counts.unchanged += 1
                continue
            rules = versions.on(values["occurred_on"])
            timeline = Timeline(student["cohort"], student["program_years"], student["expected_graduation"])
            fits_student = values.get("fits_student", False)
            plan.rows.append(
                {
                    "public_id": bulk.random_uuid_hex(),
                    "student_id": student["id"],
                    "helper_id": record.helper_id,
                    "created_by_id": run.actor.pk,
                    "kind": values["kind"],
                    "occurred_on": values["occurred_on"],
                    "stage": stage_on(timeline, values["occurred_on"], rules),
                    "notes": values.get("notes", ""),
                    # Psychological notes stay within the helper's line, as when they are logged in the app.
                    "internal": values["kind"] == ActivityKind.PSYCHOLOGICAL_GUIDANCE,
                    "attachment": "",
                    "event_name": values.get("event_name", ""),
                    "employer_name": values.get("employer_name", ""),
                    "position_title": values.get("position_title", ""),
                    "fits_student": fits_student,
                    "response": values.get("response", ""),
                    "effective": is_effective(
                        kind=values["kind"], fits_student=fits_student, response=values.get("response", ""), rules=rules
                    ),
                    "corrects_id": None,
                    "voided": False,
                    "created_at": run.now,
                    "version": 1,
                }
            )
            run.counts.created += 1
        return plan

    def _classes(self, run: Run) -> Any:
        from bangfu.organisation.models import OrgUnit

        return OrgUnit.objects.filter(path__startswith=run.school.path)

    def write(self, run: Run, plan: Plan) -> None:
        if not plan.rows:
            return
        run.tick("writing", 0, len(plan.rows))
        bulk.insert_with_ids(
            Activity,
            plan.rows,
            key=lambda row: uuid.UUID(row["public_id"]),  # made as hex, read back as a UUID
            read_back=lambda: Activity.objects.filter(created_at=run.now, created_by=run.actor).values_list(
                "public_id", "id"
            ),
        )
        bulk.copy_history(
            Activity,
            [row["id"] for row in plan.rows],
            history_type="+",
            user_id=run.actor.pk,
            reason=run.change_reason,
            when=run.now,
        )
        run.progress_students = {r["student_id"] for r in plan.rows}
        run.tick("writing", len(plan.rows), len(plan.rows))


register(ActivitiesTarget)
