"""Reads of the student portal. Everything here is about one student, the one linked to the login
(`students.queries.own_student_record`); nothing here takes an id from the request without that student.

What the student reads of the work ledger is counts against the standards, never notes: internal activities
(psychological guidance among them) are left out everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from bangfu.assistance.labels import meter_views, next_due_text, stage_label
from bangfu.assistance.models import Activity, ActivityKind, HelperAssignment, Plan, StudentProgress
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.opportunities.matching import Reason
from bangfu.opportunities.models import (
    OPEN_STATUSES,
    STUDENT_ANSWERS,
    Recommendation,
    RecommendationStep,
    RecruitmentEvent,
)
from bangfu.organisation.models import Role, RoleGrant, User
from bangfu.outcomes.models import Confirmation, Destination
from bangfu.portal.models import ResumeVersion
from bangfu.students.models import LedgerEntry, Student
from bangfu.subsidies.models import Application, ApplicationStatus, ApplicationStep

UPCOMING_EVENTS = 5
ACCESS_LOG_ROWS = 200
# Statuses in which the applicant still has something to do (finish and submit).
APPLICANT_TODO = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)


def language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


# --- Home ------------------------------------------------------------------------------------------------------


def current_helper(student: Student) -> User | None:
    assignment = HelperAssignment.objects.active().filter(student=student).select_related("helper").first()
    return assignment.helper if assignment else None


def plan_of(student: Student) -> Plan | None:
    return Plan.objects.filter(student=student).first()


def upcoming_events(student: Student, today: dt.date) -> QuerySet[RecruitmentEvent]:
    return RecruitmentEvent.objects.filter(school=student.school_id, held_on__gte=today).order_by("held_on", "title")[
        :UPCOMING_EVENTS
    ]


@dataclass(frozen=True)
class NextStep:
    text: str
    url: str
    key: str  # for tests and the browser test


def next_steps(student: Student, today: dt.date, progress: StudentProgress | None) -> list[NextStep]:
    """What is waiting: answers the student owes, applications to finish, a destination to confirm, and what the
    helper does next for the student. One query for the counts."""
    counts = Student.objects.filter(pk=student.pk).aggregate(
        to_answer=Count("recommendations", filter=Q(recommendations__status__in=OPEN_STATUSES), distinct=True),
        to_finish=Count(
            "subsidy_applications", filter=Q(subsidy_applications__status__in=APPLICANT_TODO), distinct=True
        ),
        to_confirm=Count(
            "destinations",
            filter=Q(destinations__superseded_on__isnull=True, destinations__confirmation=Confirmation.PENDING),
            distinct=True,
        ),
    )
    steps = []
    if counts["to_answer"]:
        steps.append(
            NextStep(
                _("Answer your open recommendations (%(count)d).") % {"count": counts["to_answer"]},
                reverse("portal:recommendations"),
                "answer",
            )
        )
    if counts["to_finish"]:
        steps.append(
            NextStep(
                _("Finish and submit your subsidy applications (%(count)d).") % {"count": counts["to_finish"]},
                reverse("portal:subsidies"),
                "finish",
            )
        )
    if counts["to_confirm"]:
        steps.append(NextStep(_("Confirm your recorded destination."), reverse("portal:destination"), "confirm"))
    if progress is not None:
        due = next_due_text(progress.next_due_metric, progress.next_due_on)
        if due:
            steps.append(NextStep(_("With your helper: %(what)s") % {"what": due}, "", "helper"))
    return steps


def progress_for_student(student: Student) -> dict[str, Any]:
    """The stage and the meters (counts only: no risk, no notes)."""
    progress = StudentProgress.objects.filter(student=student).first()
    if progress is None:
        return {"progress": None, "stage": "", "meters": []}
    return {"progress": progress, "stage": stage_label(progress.stage), "meters": meter_views(progress.meters)}


# --- Recommendations ---------------------------------------------------------------------------------------------


def recommendations_of(student: Student) -> QuerySet[Recommendation]:
    return (
        Recommendation.objects.filter(student=student)
        .select_related("position__employer", "recommended_by", "activity")
        .prefetch_related(
            Prefetch("steps", queryset=RecommendationStep.objects.select_related("by").order_by("at", "id"))
        )
        .order_by("-recommended_on", "-id")
    )


def get_own_recommendation(student: Student, public_id: Any) -> Recommendation:
    found = recommendations_of(student).filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found


def reason_texts(stored: list[dict[str, Any]]) -> list[str]:
    return [Reason(r["code"], r.get("points", 0), r.get("params") or {}).text() for r in stored]


def student_answers(recommendation: Recommendation) -> list[str]:
    """The answers the student may give now, in the order of the steps."""
    return [s for s in recommendation.next_statuses if s in STUDENT_ANSWERS]


def note_shown(recommendation: Recommendation) -> str:
    """The helper's note on the recommendation, unless its activity is an internal note."""
    activity = recommendation.activity
    return "" if activity is not None and activity.internal else recommendation.note


# --- Résumé ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResumeEntry:
    """A version of the résumé: one the student or the helper uploaded here, or a revision the helper attached to
    an activity of the work ledger."""

    key: str
    on: dt.date
    at: dt.datetime | None
    by: User
    mine: bool
    comment: str
    url: str
    revises: ResumeVersion | None = None


def resume_versions(student: Student) -> QuerySet[ResumeVersion]:
    return ResumeVersion.objects.filter(student=student).select_related("uploaded_by", "revises", "activity")


def resume_entries(student: Student) -> list[ResumeEntry]:
    """Every version, newest first. Revisions logged on the timeline with an attachment count as versions too;
    internal and corrected activities are not shown."""
    entries = [
        ResumeEntry(
            key=str(v.public_id),
            on=timezone.localdate(v.uploaded_at),
            at=v.uploaded_at,
            by=v.uploaded_by,
            mine=v.uploaded_by_id == student.user_id,
            comment=v.comment,
            url=reverse("portal:resume_file", args=[v.public_id]),
            revises=v.revises,
        )
        for v in resume_versions(student)
    ]
    linked = ResumeVersion.objects.filter(activity=OuterRef("pk"))
    logged = (
        Activity.objects.filter(
            student=student, kind=ActivityKind.RESUME_REVISION, internal=False, voided=False, attachment__gt=""
        )
        .exclude(Exists(linked))
        .select_related("helper")
    )
    entries += [
        ResumeEntry(
            key=str(a.public_id),
            on=a.occurred_on,
            at=a.created_at,
            by=a.helper,
            mine=False,
            comment=a.notes,
            url=reverse("assistance:activity_attachment", args=[student.public_id, a.public_id]),
        )
        for a in logged
    ]
    return sorted(entries, key=lambda e: (e.on, e.at or timezone.now()), reverse=True)


def get_resume_version_for_user(user: User, public_id: Any) -> ResumeVersion:
    """A résumé version whose student `user` sees (the student themself, or staff in scope); otherwise 404."""
    found = (
        ResumeVersion.objects.filter(public_id=public_id, student__in=Student.objects.visible_to(user).values("pk"))
        .select_related("student")
        .first()
    )
    if found is None:
        raise Http404
    return found


# --- Subsidies ---------------------------------------------------------------------------------------------------


def applications_of(student: Student) -> QuerySet[Application]:
    return (
        Application.objects.filter(student=student)
        .select_related("subsidy_type")
        .prefetch_related(Prefetch("steps", queryset=ApplicationStep.objects.select_related("by").order_by("at", "id")))
        .order_by("-created_at", "-pk")
    )


def get_own_application(student: Student, public_id: Any) -> Application:
    found = applications_of(student).filter(public_id=public_id).first()
    if found is None:
        raise Http404
    found.student = student  # already fetched: the services read it
    return found


# --- Destination -------------------------------------------------------------------------------------------------


def current_destination(student: Student) -> Destination | None:
    return (
        Destination.objects.filter(student=student, superseded_on__isnull=True)
        .select_related("code", "verified_by")
        .first()
    )


# --- My data -----------------------------------------------------------------------------------------------------


def open_entry(student: Student) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(student=student, left_on__isnull=True).prefetch_related("categories").first()


# The order in which a viewer's roles name them (the widest first).
_ROLE_RANK = (
    Role.EMPLOYMENT_OFFICE,
    Role.SCHOOL_LEADER,
    Role.DEPARTMENT_LEADER,
    Role.COUNSELLOR,
    Role.TEACHER,
)
FIELD_LABELS = {
    "family_situation": gettext_lazy("family situation"),
    "disability_level": gettext_lazy("disability level"),
    "id_number": gettext_lazy("ID number"),
}


@dataclass(frozen=True)
class AccessRow:
    at: dt.datetime
    action: str
    action_label: str
    what: str
    viewer: str  # a role and a unit, never a person's name or contact


def _fields_text(fields: str) -> str:
    names = [f.strip() for f in fields.split(",") if f.strip()]
    return ", ".join(str(FIELD_LABELS[n]) for n in names if n in FIELD_LABELS)


def access_rows(student: Student) -> list[AccessRow]:
    """Who looked at the student's sensitive data, revealed their ID number or downloaded their evidence, and
    when: the viewer named by role and unit only. The student's own downloads are left out. Three queries."""
    logs = list(
        AccessLog.objects.filter(student=student)
        .exclude(actor_id=student.user_id)
        .select_related("actor__unit")
        .order_by("-at", "-id")[:ACCESS_LOG_ROWS]
    )
    actor_ids = {log.actor_id for log in logs}
    grants: dict[int, list[RoleGrant]] = {}
    for grant in RoleGrant.objects.filter(user_id__in=actor_ids).exclude(role=Role.STUDENT).select_related("unit"):
        grants.setdefault(grant.user_id, []).append(grant)
    helpers = set(
        HelperAssignment.objects.filter(student=student, helper_id__in=actor_ids).values_list("helper_id", flat=True)
    )
    lang = language()
    named = {actor_id: _viewer(student, grants.get(actor_id, []), actor_id in helpers, lang) for actor_id in actor_ids}
    for log in logs:
        if log.actor.is_superuser and not grants.get(log.actor_id):
            named[log.actor_id] = _("System administrator")
    return [
        AccessRow(
            at=log.at,
            action=log.action,
            action_label=str(AccessAction(log.action).label) if log.action in AccessAction.values else log.action,
            what=_fields_text(log.fields),
            viewer=named[log.actor_id],
        )
        for log in logs
    ]


def _viewer(student: Student, grants: list[RoleGrant], is_helper: bool, lang: str) -> str:
    """ "Department leader · 服装工程系": the widest role the viewer holds over the student, with its unit."""
    covering = [g for g in grants if g.unit.covers(student.class_unit)] or grants
    covering.sort(key=lambda g: _ROLE_RANK.index(Role(g.role)) if g.role in _ROLE_RANK else len(_ROLE_RANK))
    if is_helper:
        unit = covering[0].unit.display_name(lang) if covering else ""
        return f"{_('Your helper')} · {unit}" if unit else _("Your helper")
    if covering:
        grant = covering[0]
        return f"{Role(grant.role).label} · {grant.unit.display_name(lang)}"
    return _("Staff member")
