"""The one-student-one-file dossier (一人一档) as a PDF: everything Bangfu holds about one ledger student's help,
for printing and filing.

Labels are in the reader's language (gettext); data is printed as stored. What the reader may not read on the
pages stays out of the file too: the ID number is masked, internal notes are left out for those who may not read
them (the rule of the timeline), hand-over notes are for the helper they were written for and for leaders, and
family situation and disability are printed only for those who may view sensitive data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.platypus import Flowable

from bangfu.assistance.labels import meter_views, next_due_text, risk_label, risk_reason_text, stage_label
from bangfu.assistance.models import Activity, ActivityKind, Plan, Stage, StudentProgress
from bangfu.opportunities.models import Internship, Recommendation
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm
from bangfu.outcomes.models import Destination, FollowUp
from bangfu.reports import pdf
from bangfu.students.models import Category, Student
from bangfu.students.queries import StudentAccess, assignment_history, ledger_history
from bangfu.subsidies.models import COMMITTED, Application, ApplicationStatus

# The fields of a ledger entry printed only for readers who may view sensitive data (as on the student page).
SENSITIVE_FIELDS = ("family_situation", "disability_level")


def language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def sees_internal(access: StudentAccess) -> bool:
    """Internal notes are for those who log help for the student and for leaders (the timeline's rule)."""
    return access.can(Perm.LOG_ACTIVITY) or access.is_leader


def yes_no(value: bool | None) -> str:
    if value is None:
        return "—"
    return _("Yes") if value else _("No")


def person(user: User | None) -> str:
    return str(user) if user is not None else "—"


def sensitive_shown(student: Student, access: StudentAccess) -> list[str]:
    """The sensitive fields the dossier prints for this reader (for the access log)."""
    if not access.can(Perm.VIEW_SENSITIVE):
        return []
    shown: list[str] = []
    for entry in ledger_history(student):
        shown += [f for f in SENSITIVE_FIELDS if getattr(entry, f) and f not in shown]
    return shown


# --- Sections ----------------------------------------------------------------------------------------------------


def _profile(student: Student, lang: str) -> list[Flowable]:
    region = " ".join(p for p in (student.home_province, student.home_city, student.home_county) if p)
    return pdf.section(
        _("Profile"),
        pdf.fields(
            [
                (_("Name"), student.name),
                (_("Student number"), student.student_number),
                (_("ID number"), student.id_number_masked),
                (_("Gender"), student.get_gender_display()),
                (_("Ethnicity"), student.ethnicity),
                (_("Birth date"), student.birth_date),
                (_("Home region"), region),
                (_("Home address"), student.address),
                (_("Phone"), student.phone),
                (_("Department"), student.department.display_name(lang)),
                (_("Major"), student.major.display_name(lang)),
                (_("Class"), student.class_unit.display_name(lang)),
                (_("Level"), student.get_level_display()),
                (_("Cohort"), student.cohort),
                (_("Enrolment date"), student.enrolled_on),
                (_("Expected graduation"), student.expected_graduation),
                (_("Status"), student.get_status_display()),
            ]
        ),
    )


def _category_text(entry: Any) -> str:
    parts = []
    for row in entry.categories.all():
        label = str(Category(row.category).label) if row.category in Category.values else row.category
        if row.verified_on:
            label += " (" + _("verified %(date)s") % {"date": row.verified_on.isoformat()} + ")"
        parts.append(label)
    return "; ".join(parts)


def _ledger(student: Student, access: StudentAccess) -> list[Flowable]:
    entries = list(ledger_history(student))
    if not entries:
        return pdf.section(_("Disadvantaged-student ledger"), pdf.note(_("Not in the ledger.")))
    sensitive = access.can(Perm.VIEW_SENSITIVE)
    flowables: list[Flowable] = []
    for entry in entries:
        pairs: list[tuple[str, Any]] = [
            (_("In the ledger"), _("%(start)s to %(end)s") % {"start": entry.joined_on, "end": entry.left_on or "…"}),
            (_("Categories"), _category_text(entry)),
            (_("Hardship level"), entry.get_hardship_level_display()),
        ]
        if sensitive:
            pairs += [
                (_("Disability level"), entry.get_disability_level_display()),
                (_("Family situation"), entry.family_situation),
            ]
        pairs += [
            (_("Intends to work"), yes_no(entry.intends_to_work)),
            (_("Source"), entry.get_source_display()),
            (_("Reason for joining"), f"{entry.join_reason} ({person(entry.joined_by)})"),
        ]
        if entry.left_on:
            pairs.append((_("Reason for leaving"), f"{entry.leave_reason} ({person(entry.left_by)})"))
        flowables += [pdf.fields(pairs), pdf.spacer()]
    return pdf.section(_("Disadvantaged-student ledger"), *flowables)


def _plan(student: Student) -> list[Flowable]:
    plan = Plan.objects.filter(student=student).select_related("updated_by").first()
    if plan is None:
        return pdf.section(_("Plan"), pdf.note(_("No plan yet.")))
    salary = _("%(amount)s yuan a month") % {"amount": plan.salary_expectation} if plan.salary_expectation else ""
    reviews = plan.reviews.select_related("reviewer").order_by("-reviewed_on", "-pk")
    return pdf.section(
        _("Plan"),
        pdf.fields(
            [
                (_("Direction"), plan.get_direction_display()),
                (_("Industries wanted"), plan.industries),
                (_("Places wanted"), plan.places),
                (_("Wants to work near home"), yes_no(plan.near_home)),
                (_("Monthly salary expected"), salary),
                (_("Strengths"), plan.strengths),
                (_("Needs"), plan.needs),
                (_("Last updated"), f"{plan.updated_at.date().isoformat()} ({person(plan.updated_by)})"),
            ]
        ),
        pdf.subsection(
            _("Semester reviews"),
            pdf.table(
                [_("Semester"), _("Reviewed on"), _("Reviewer"), _("Notes")],
                [[r.semester, r.reviewed_on, person(r.reviewer), r.notes] for r in reviews],
                [0.1, 0.14, 0.16, 0.6],
                numeric=[0],
                empty=_("No review yet."),
            ),
        ),
    )


def _helpers(student: Student, access: StudentAccess, reader: User) -> list[Flowable]:
    rows = []
    for a in assignment_history(student):
        # A hand-over note is for the helper it was written for, and for the leaders who assign helpers.
        note_visible = bool(a.handover_note) and (access.is_leader or a.helper_id == reader.pk)
        notes = [a.reason, a.handover_note if note_visible else "", a.end_reason]
        rows.append(
            [
                person(a.helper),
                a.started_on,
                a.planned_end,
                a.ended_on,
                "\n".join(n for n in notes if n),
            ]
        )
    return pdf.section(
        _("Helpers"),
        pdf.table(
            [_("Helper"), _("From"), _("Planned end"), _("Ended on"), _("Reasons and notes")],
            rows,
            [0.18, 0.13, 0.13, 0.13, 0.43],
            empty=_("No helper assigned yet."),
        ),
    )


def _standards(student: Student) -> list[Flowable]:
    progress = StudentProgress.objects.filter(student=student).first()
    flowables: list[Flowable] = []
    if progress is not None:
        reasons = "; ".join(risk_reason_text(r) for r in progress.risk_reasons)
        flowables.append(
            pdf.fields(
                [
                    (_("Stage"), stage_label(progress.stage)),
                    (
                        _("Standards met"),
                        _("%(met)d of %(total)d") % {"met": progress.standards_met, "total": progress.standards_total},
                    ),
                    (_("Overdue items"), progress.overdue_count),
                    (_("Next due"), next_due_text(progress.next_due_metric, progress.next_due_on)),
                    (_("Last contact"), progress.last_contact_on),
                    (_("Risk"), risk_label(progress.risk) + (f": {reasons}" if reasons else "")),
                    (_("Computed on"), progress.computed_on),
                ]
            )
        )
        flowables.append(pdf.spacer())
        flowables.append(
            pdf.table(
                [_("Standard"), _("Done"), _("Required"), _("Met"), _("Overdue"), _("Due")],
                [
                    [m.label, m.done, m.required, yes_no(m.met), m.overdue or "", m.due_on]
                    for m in meter_views(progress.meters)
                ],
                [0.4, 0.1, 0.12, 0.1, 0.12, 0.16],
                numeric=[1, 2, 4],
                empty=_("No standard applies in this stage."),
            )
        )
    else:
        flowables.append(pdf.note(_("No standards apply: the student is not in the ledger.")))
    counts = (
        Activity.objects.filter(student=student, voided=False)
        .values("stage", "kind")
        .annotate(n=Count("pk"))
        .order_by("stage", "kind")
    )
    stage_order = {s: i for i, s in enumerate(Stage.values)}
    kind_label = dict(ActivityKind.choices)
    rows = [
        [stage_label(c["stage"]), str(kind_label.get(c["kind"], c["kind"])), c["n"]]
        for c in sorted(counts, key=lambda c: (stage_order.get(c["stage"], 99), c["kind"]))
    ]
    flowables.append(
        pdf.subsection(
            _("Help recorded, by stage"),
            pdf.table([_("Stage"), _("Kind"), _("Count")], rows, [0.3, 0.55, 0.15], numeric=[2]),
        )
    )
    return pdf.section(_("Help against the standards"), *flowables)


def _activity_details(a: Activity) -> str:
    parts = [a.event_name, a.employer_name, a.position_title]
    if a.response:
        parts.append(a.get_response_display())
    if a.kind == ActivityKind.JOB_RECOMMENDATION and a.effective:
        parts.append(_("effective"))
    return " · ".join(p for p in parts if p)


def _activities(student: Student, internal_ok: bool) -> list[Flowable]:
    activities = Activity.objects.filter(student=student, voided=False).select_related("helper")
    rows = []
    for a in activities.order_by("-occurred_on", "-pk"):
        shown = a.notes if (not a.internal or internal_ok) else ""
        if shown and a.internal:
            # Marked, so the printed copy is not handed to the student by mistake.
            shown = _("Internal note: %(notes)s") % {"notes": shown}
        text = "\n".join(p for p in (_activity_details(a), shown) if p)
        rows.append([a.occurred_on, a.get_kind_display(), person(a.helper), text])
    return pdf.section(
        _("Activities"),
        pdf.table(
            [_("Date"), _("Kind"), _("Helper"), _("Details and notes")],
            rows,
            [0.13, 0.2, 0.14, 0.53],
            empty=_("No activity recorded yet."),
        ),
    )


def _recommendations(student: Student) -> list[Flowable]:
    recs = (
        Recommendation.objects.filter(student=student)
        .select_related("position__employer", "recommended_by")
        .order_by("-recommended_on", "-pk")
    )
    rows = []
    for r in recs:
        outcome = r.get_status_display()
        if r.decline_reason:
            outcome += f" ({r.get_decline_reason_display()})"
        rows.append(
            [
                r.recommended_on,
                f"{r.position.title} · {r.position.employer.name}",
                person(r.recommended_by),
                yes_no(r.fits_student),
                outcome,
            ]
        )
    return pdf.section(
        _("Job recommendations"),
        pdf.table(
            [_("Date"), _("Position"), _("Recommended by"), _("Fits"), _("Outcome")],
            rows,
            [0.13, 0.4, 0.15, 0.08, 0.24],
            empty=_("No recommendation yet."),
        ),
    )


def _internships(student: Student) -> list[Flowable]:
    rows = [
        [
            i.employer.name + (f" · {i.position.title}" if i.position else ""),
            i.started_on,
            i.ended_on,
            i.get_evaluation_display(),
            yes_no(i.became_job),
        ]
        for i in Internship.objects.filter(student=student)
        .select_related("employer", "position")
        .order_by("-started_on", "-pk")
    ]
    return pdf.section(
        _("Internships"),
        pdf.table(
            [_("Employer and position"), _("From"), _("Until"), _("Evaluation"), _("Turned into a job")],
            rows,
            [0.42, 0.13, 0.13, 0.14, 0.18],
            empty=_("No internship recorded."),
        ),
    )


def _subsidies(student: Student, lang: str) -> list[Flowable]:
    applications = (
        Application.objects.filter(student=student, status__in=COMMITTED)
        .select_related("subsidy_type")
        .order_by("-year", "-pk")
    )
    rows = [
        [a.subsidy_type.display(lang), a.year, pdf.yuan(a.amount), a.get_status_display(), a.paid_on]
        for a in applications
    ]
    paid = applications.filter(status=ApplicationStatus.PAID).aggregate(total=Sum("amount"))["total"]
    footer = [_("Paid in total"), "", pdf.yuan(paid), "", ""] if paid else None
    return pdf.section(
        _("Subsidies (approved and paid)"),
        pdf.table(
            [_("Subsidy"), _("Year"), _("Amount"), _("Status"), _("Paid on")],
            rows,
            [0.36, 0.1, 0.14, 0.24, 0.16],
            numeric=[1, 2],
            footer=footer,
            empty=_("No subsidy approved or paid."),
        ),
    )


def _destination_text(d: Destination, lang: str) -> str:
    where = " ".join(p for p in (d.work_province, d.work_city) if p)
    parts = [d.code.display(lang), d.employer_name, d.position_title, where]
    return " · ".join(p for p in parts if p)


def _destination(student: Student, lang: str) -> list[Flowable]:
    destinations = list(
        Destination.objects.filter(student=student)
        .select_related("code", "verified_by", "recorded_by")
        .order_by("-recorded_on", "-pk")
    )
    current = next((d for d in destinations if d.superseded_on is None), None)
    flowables: list[Flowable] = []
    if current is None:
        flowables.append(pdf.note(_("No destination recorded.")))
    else:
        salary = _("%(amount)s yuan a month") % {"amount": current.salary} if current.salary else ""
        verified = (
            f"{current.verified_on.isoformat()} ({person(current.verified_by)})" if current.verified_on else _("No")
        )
        flowables.append(
            pdf.fields(
                [
                    (_("Destination"), current.code.display(lang)),
                    (_("Group"), current.code.get_group_display()),
                    (_("Employer or school"), current.employer_name),
                    (_("Position"), current.position_title),
                    (_("Place of work"), " ".join(p for p in (current.work_province, current.work_city) if p)),
                    (_("Start date"), current.started_on),
                    (_("Starting salary"), salary),
                    (_("Matches the major"), yes_no(current.matches_major)),
                    (_("Evidence"), current.get_evidence_kind_display()),
                    (_("Verified"), verified),
                    (_("Graduate's confirmation"), current.get_confirmation_display()),
                    (_("Struck off the unplaced list on"), current.placed_since),
                    (_("Recorded on"), f"{current.recorded_on.isoformat()} ({person(current.recorded_by)})"),
                ]
            )
        )
    if len(destinations) > 1 or (destinations and current is None):
        flowables.append(
            pdf.subsection(
                _("History"),
                pdf.table(
                    [_("Recorded on"), _("Replaced on"), _("Destination"), _("Verified on")],
                    [[d.recorded_on, d.superseded_on, _destination_text(d, lang), d.verified_on] for d in destinations],
                    [0.14, 0.14, 0.56, 0.16],
                ),
            )
        )
    return pdf.section(_("Destination"), *flowables)


def _follow_ups(student: Student) -> list[Flowable]:
    rows = [
        [f.done_on, f.months_after_leaving, f.get_status_display(), f.notes]
        for f in FollowUp.objects.filter(student=student).order_by("-done_on", "-pk")
    ]
    return pdf.section(
        _("Follow-ups after leaving"),
        pdf.table(
            [_("Date"), _("Months after leaving"), _("Situation"), _("Notes")],
            rows,
            [0.13, 0.15, 0.22, 0.5],
            numeric=[1],
            empty=_("No follow-up yet."),
        ),
    )


# --- The document ------------------------------------------------------------------------------------------------


def build_dossier(*, student: Student, access: StudentAccess, reader: User, today: dt.date) -> bytes:
    """The dossier of `student` as `reader` may read it, printed on `today`, in the active language."""
    lang = language()
    school = student.school.display_name(lang)
    unit = " · ".join(
        (student.department.display_name(lang), student.major.display_name(lang), student.class_unit.display_name(lang))
    )
    story: list[Flowable] = [
        pdf.para(_("Dossier: %(name)s") % {"name": student.name}, "title"),
        pdf.para(
            _("One student, one file · %(unit)s · printed on %(date)s by %(reader)s")
            % {"unit": unit, "date": today.isoformat(), "reader": person(reader)},
            "subtitle",
        ),
        *_profile(student, lang),
        *_ledger(student, access),
        *_plan(student),
        *_helpers(student, access, reader),
        *_standards(student),
        *_activities(student, sees_internal(access)),
        *_recommendations(student),
        *_internships(student),
        *_subsidies(student, lang),
        *_destination(student, lang),
        *_follow_ups(student),
    ]
    return pdf.render(
        story,
        title=_("Dossier: %(name)s") % {"name": student.name},
        header_left=f"{school} · " + _("Dossier: %(name)s") % {"name": student.name},
        header_right=today.isoformat(),
        footer=_("Confidential: personal data, for the assistance work only. Printed by %(reader)s on %(date)s.")
        % {"reader": person(reader), "date": today.isoformat()},
    )
