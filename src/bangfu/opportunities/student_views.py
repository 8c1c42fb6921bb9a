"""A student's jobs page: suggested positions and their reasons, recommendations with every step, internships,
order classes and work-study posts with their hours. Phone first; every form works without JavaScript.

Anyone who sees the student reads the page. Recommending and moving a recommendation need LOG_ACTIVITY on the
student (their helper, the department leader, the office); internships, order classes and work-study need
RECORD_OUTCOME. A refused POST renders the page again with the form and the service's message; nothing is
written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.forms import add_service_errors
from bangfu.opportunities import queries
from bangfu.opportunities.matching import Reason
from bangfu.opportunities.models import (
    Internship,
    OrderClassMembership,
    PositionKind,
    PositionStatus,
    Recommendation,
    RecommendationStatus,
    RecommendationStep,
    WorkStudyAssignment,
    WorkStudyHours,
)
from bangfu.opportunities.services import (
    MAX_HOURS_MONTH,
    MAX_HOURS_WEEK,
    change_recommendation,
    end_work_study,
    join_order_class,
    leave_order_class,
    log_work_study_hours,
    recommend,
    record_internship,
    start_work_study,
    update_internship,
)
from bangfu.opportunities.student_forms import (
    EndWorkStudyForm,
    EvaluateInternshipForm,
    HoursForm,
    InternshipForm,
    JoinOrderClassForm,
    LeaveOrderClassForm,
    RecommendForm,
    StartWorkStudyForm,
    StepForm,
    SuggestionKindForm,
)
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, require_student_perm
from bangfu.outcomes.models import DestinationCode
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user, student_access

# The destinations a recommended job can become when accepted (the agreement, a contract, other proof of hiring).
JOB_CODES = ("10", "11", "12")


class AuthedRequest(HttpRequest):
    """Every page here needs a login (LoginRequiredMiddleware), so `user` is a real user."""

    user: User
    htmx: HtmxDetails


def _student(request: AuthedRequest, public_id: UUID, perm: Perm | None = None) -> Student:
    """The student if the user sees them (else 404) and, when `perm` is given, holds it on them (else 403)."""
    student = get_student_for_user(request.user, public_id)
    if perm is not None:
        require_student_perm(request.user, perm, student)
    return student


def _page_url(student: Student, anchor: str = "", kind: str = "") -> str:
    url = reverse("jobs:student", args=[student.public_id])
    if kind and kind != PositionKind.JOB:
        url += f"?kind={kind}"
    return url + (f"#{anchor}" if anchor else "")


def _codes(student: Student, today: dt.date) -> list[tuple[str, str]]:
    """The job destination codes the student's school uses today; a school's own row wins over the national one."""

    def rank(row: DestinationCode) -> tuple[bool, dt.date]:
        return (row.school_id is not None, row.valid_from)

    rows: dict[str, DestinationCode] = {}
    for row in DestinationCode.objects.for_school(student.school_id, today).filter(code__in=JOB_CODES):
        if row.code not in rows or rank(row) > rank(rows[row.code]):
            rows[row.code] = row
    language = "en" if (get_language() or "en").startswith("en") else "zh"
    return [(code, rows[code].display(language)) for code in sorted(rows)]


def _errors_of(form: forms.Form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _auto_id(prefix: str, public_id: UUID) -> str:
    # Several forms of one kind share the page: their ids must differ, their field names need not.
    return f"id_%s_{prefix}{public_id.hex[:8]}"


def _posts(request: AuthedRequest, kind: str | None = None) -> QuerySet[Any]:
    """Positions the user may pick for a student (the service checks they are of the student's school)."""
    positions = queries.positions_for(request.user).exclude(status=PositionStatus.CLOSED)
    return positions.filter(kind=kind) if kind else positions


# --- The page ------------------------------------------------------------------------------------------------


@dataclass
class Suggestion:
    position: Any
    score: int
    reasons: list[str]


@dataclass
class RecommendationCard:
    rec: Recommendation
    reasons: list[str]
    steps: list[RecommendationStep]
    buttons: list[tuple[str, str]]
    can_decline: bool
    asks_destination: bool
    step_form: StepForm | None = None
    decline_form: StepForm | None = None


@dataclass
class Held:
    """An internship, order-class place or work-study post, with the forms that act on it."""

    obj: Any
    forms: dict[str, forms.Form] = field(default_factory=dict)


def _suggestions(student: Student, today: dt.date, kind: str) -> list[Suggestion]:
    return [
        Suggestion(position, m.score, [r.text() for r in m.reasons])
        for position, m in queries.suggest_positions(student, today, kinds=(kind,))
    ]


def _reason_texts(stored: list[dict[str, Any]]) -> list[str]:
    return [Reason(r["code"], r.get("points", 0), r.get("params") or {}).text() for r in stored]


def _recommendation_cards(
    student: Student, today: dt.date, can_step: bool, bound: dict[str, forms.Form]
) -> list[RecommendationCard]:
    recs = list(
        Recommendation.objects.filter(student=student)
        .select_related("position__employer", "recommended_by")
        .prefetch_related(Prefetch("steps", queryset=RecommendationStep.objects.select_related("by")))
    )
    asks = [r for r in recs if RecommendationStatus.ACCEPTED in r.next_statuses and r.position.kind == PositionKind.JOB]
    codes = _codes(student, today) if can_step and asks else []
    cards = []
    for rec in recs:
        nxt = rec.next_statuses
        card = RecommendationCard(
            rec=rec,
            reasons=_reason_texts(rec.fit_reasons),
            steps=list(rec.steps.all()),
            buttons=[(s, str(RecommendationStatus(s).label)) for s in nxt if s != RecommendationStatus.DECLINED],
            can_decline=RecommendationStatus.DECLINED in nxt,
            asks_destination=rec in asks,
        )
        if can_step and nxt:
            initial = {"version": rec.version, "on": today, "destination_code": "10"}
            card.step_form = bound.get(f"step-{rec.pk}") or StepForm(  # type: ignore[assignment]
                codes=codes, auto_id=_auto_id("s", rec.public_id), initial=initial
            )
            card.decline_form = bound.get(f"decline-{rec.pk}") or StepForm(  # type: ignore[assignment]
                codes=codes,
                auto_id=_auto_id("d", rec.public_id),
                initial={**initial, "to_status": RecommendationStatus.DECLINED},
            )
        cards.append(card)
    return cards


def _hours_summary(student: Student, today: dt.date) -> dict[str, Any]:
    """Hours this week and this month, whatever the posts: the limits count them together."""
    week_start = today - dt.timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    totals = WorkStudyHours.objects.filter(student=student).aggregate(
        week=Sum("hours", filter=Q(worked_on__range=(week_start, week_start + dt.timedelta(days=6)))),
        month=Sum("hours", filter=Q(worked_on__gte=month_start, worked_on__lte=today)),
    )
    tenth = Decimal("0.1")
    return {
        "week": (totals["week"] or Decimal(0)).quantize(tenth),
        "month": (totals["month"] or Decimal(0)).quantize(tenth),
        "max_week": MAX_HOURS_WEEK,
        "max_month": MAX_HOURS_MONTH,
        "logged": WorkStudyHours.objects.filter(student=student, worked_on__gte=month_start)
        .select_related("assignment__position")
        .order_by("-worked_on", "-id"),
    }


def _held(objs: QuerySet[Any], makers: dict[str, Any], bound: dict[str, forms.Form], active: bool) -> list[Held]:
    """Each held item with its forms (bound after a refused POST) when the user may record."""
    items = []
    for obj in objs:
        item = Held(obj)
        if active:
            for name, make in makers.items():
                form = bound.get(f"{name}-{obj.pk}") or make(obj)
                if form is not None:
                    item.forms[name] = form
        items.append(item)
    return items


def _page(
    request: AuthedRequest,
    student: Student,
    *,
    kind: str = PositionKind.JOB,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    bound = bound or {}
    user = request.user
    today = timezone.localdate()
    access = student_access(user, student)
    can_recommend = access.can(Perm.LOG_ACTIVITY)
    can_record = access.can(Perm.RECORD_OUTCOME)
    kind_form = SuggestionKindForm({"kind": kind})
    context: dict[str, Any] = {
        "student": student,
        "is_student": student.user_id == user.pk,
        "kind": kind,
        "kind_form": kind_form,
        "suggestions": _suggestions(student, today, kind),
        "can_recommend": can_recommend,
        "can_record": can_record,
    }
    if request.htmx and request.htmx.target == "suggestions":
        return render(request, "opportunities/student_jobs.html#suggestions", context)

    def evaluate(i: Internship) -> EvaluateInternshipForm:
        initial = {n: getattr(i, n) for n in ("ended_on", "evaluation", "evaluation_note", "became_job", "version")}
        return EvaluateInternshipForm(auto_id=_auto_id("e", i.public_id), initial=initial)

    def leave(m: OrderClassMembership) -> LeaveOrderClassForm | None:
        if m.left_on:
            return None
        return LeaveOrderClassForm(auto_id=_auto_id("l", m.public_id), initial={"version": m.version, "left_on": today})

    def hours(a: WorkStudyAssignment) -> HoursForm | None:
        return None if a.ended_on else HoursForm(auto_id=_auto_id("h", a.public_id), initial={"worked_on": today})

    def end(a: WorkStudyAssignment) -> EndWorkStudyForm | None:
        if a.ended_on:
            return None
        return EndWorkStudyForm(auto_id=_auto_id("w", a.public_id), initial={"version": a.version, "ended_on": today})

    if can_record:
        positions = _posts(request).order_by("employer__name", "title")
        context.update(
            {
                "internship_form": bound.get("internship")
                or InternshipForm(employers=queries.employers_for(user), auto_id="id_%s_internship"),
                "join_form": bound.get("join")
                or JoinOrderClassForm(positions=positions.filter(kind=PositionKind.ORDER_CLASS), auto_id="id_%s_join"),
                "work_study_form": bound.get("work_study")
                or StartWorkStudyForm(positions=positions.filter(kind=PositionKind.WORK_STUDY), auto_id="id_%s_ws"),
            }
        )
    context.update(
        {
            "recommendations": _recommendation_cards(student, today, can_recommend, bound),
            "internships": _held(
                student.internships.select_related("employer"), {"evaluate": evaluate}, bound, can_record
            ),
            "order_classes": _held(
                student.order_classes.select_related("position__employer"), {"leave": leave}, bound, can_record
            ),
            "work_study": _held(
                student.work_study.select_related("position__employer"), {"hours": hours, "end": end}, bound, can_record
            ),
            "hours": _hours_summary(student, today),
            "not_saved": [e for form in bound.values() for e in _errors_of(form)],
        }
    )
    response = render(request, "opportunities/student_jobs.html", context)
    add_never_cache_headers(response)
    return response


@require_GET
def student_jobs(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id)
    kind = SuggestionKindForm(request.GET).kind_or_default()
    return _page(request, student, kind=kind)


# --- Recommendations -----------------------------------------------------------------------------------------


@require_POST
def recommend_view(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.LOG_ACTIVITY)
    form = RecommendForm(request.POST)
    kind = SuggestionKindForm({"kind": request.POST.get("kind", "")}).kind_or_default()
    if form.is_valid():
        position = queries.get_position_for_user(request.user, form.cleaned_data["position"])
        try:
            rec = recommend(actor=request.user, student=student, position=position, today=timezone.localdate())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("“%(position)s” of %(employer)s recommended to %(student)s.")
                % {"position": position.title, "employer": position.employer.name, "student": student.name},
            )
            return redirect(_page_url(student, f"rec-{rec.public_id}", kind))
    return _page(request, student, kind=kind, bound={"recommend": form})


def _get(objs: QuerySet[Any], public_id: UUID, student: Student) -> Any:
    """One of the student's own records (404 for another student's, whatever the user may see)."""
    obj = objs.filter(student=student, public_id=public_id).first()
    if obj is None:
        raise Http404
    obj.student = student  # already fetched and scoped
    return obj


@require_POST
def step(request: AuthedRequest, student_public_id: UUID, recommendation_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.LOG_ACTIVITY)
    rec = _get(Recommendation.objects.select_related("position__employer"), recommendation_public_id, student)
    today = timezone.localdate()
    declining = request.POST.get("to_status") == RecommendationStatus.DECLINED
    form = StepForm(
        request.POST, codes=_codes(student, today), auto_id=_auto_id("d" if declining else "s", rec.public_id)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            done = change_recommendation(
                actor=request.user,
                recommendation=rec,
                to_status=data["to_status"],
                on=data["on"],
                today=today,
                expected_version=data["version"],
                reason=data["reason"],
                note=data["note"],
                destination_code=data["destination_code"] or "10",
            )
        except ValidationError as e:
            add_service_errors(form, e, {"status": "to_status"})
        else:
            message = _("“%(position)s”: %(status)s.") % {
                "position": rec.position.title,
                "status": RecommendationStatus(done.status).label,
            }
            if done.status == RecommendationStatus.ACCEPTED and rec.position.kind == PositionKind.JOB:
                message += " " + _("The destination is recorded (%(code)s).") % {"code": data["destination_code"]}
            messages.success(request, message)
            return redirect(_page_url(student, f"rec-{rec.public_id}"))
    key = f"{'decline' if declining else 'step'}-{rec.pk}"
    return _page(request, student, bound={key: form})


# --- Internships, order classes, work-study --------------------------------------------------------------------


def _saved(request: AuthedRequest, student: Student, anchor: str, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(_page_url(student, anchor))


@require_POST
def internship_new(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.RECORD_OUTCOME)
    form = InternshipForm(request.POST, employers=queries.employers_for(request.user), auto_id="id_%s_internship")
    if form.is_valid():
        data = form.cleaned_data
        try:
            record_internship(
                actor=request.user,
                student=student,
                employer=data["employer"],
                started_on=data["started_on"],
                ended_on=data["ended_on"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return _saved(
                request,
                student,
                "internships",
                _("Internship at %(employer)s recorded.") % {"employer": data["employer"]},
            )
    return _page(request, student, bound={"internship": form})


@require_POST
def internship_evaluate(request: AuthedRequest, student_public_id: UUID, internship_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.RECORD_OUTCOME)
    internship = _get(Internship.objects.select_related("employer"), internship_public_id, student)
    form = EvaluateInternshipForm(request.POST, auto_id=_auto_id("e", internship.public_id))
    if form.is_valid():
        data = form.cleaned_data
        try:
            update_internship(
                actor=request.user,
                internship=internship,
                expected_version=data["version"],
                today=timezone.localdate(),
                ended_on=data["ended_on"],
                evaluation=data["evaluation"],
                evaluation_note=data["evaluation_note"],
                became_job=data["became_job"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return _saved(
                request,
                student,
                "internships",
                _("Internship at %(employer)s updated.") % {"employer": internship.employer.name},
            )
    return _page(request, student, bound={f"evaluate-{internship.pk}": form})


@require_POST
def order_class_join(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.RECORD_OUTCOME)
    form = JoinOrderClassForm(request.POST, positions=_posts(request, PositionKind.ORDER_CLASS), auto_id="id_%s_join")
    if form.is_valid():
        data = form.cleaned_data
        try:
            join_order_class(
                actor=request.user,
                student=student,
                position=data["position"],
                joined_on=data["joined_on"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e, {"started_on": "joined_on"})
        else:
            return _saved(
                request,
                student,
                "order-classes",
                _("%(student)s joined the order class “%(position)s”.")
                % {"student": student.name, "position": data["position"].title},
            )
    return _page(request, student, bound={"join": form})


@require_POST
def order_class_leave(request: AuthedRequest, student_public_id: UUID, membership_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.RECORD_OUTCOME)
    membership = _get(OrderClassMembership.objects.select_related("position"), membership_public_id, student)
    form = LeaveOrderClassForm(request.POST, auto_id=_auto_id("l", membership.public_id))
    if form.is_valid():
        data = form.cleaned_data
        try:
            leave_order_class(
                actor=request.user,
                membership=membership,
                left_on=data["left_on"],
                reason=data["reason"],
                expected_version=data["version"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e, {"left_reason": "reason", "ended_on": "left_on"})
        else:
            return _saved(
                request,
                student,
                "order-classes",
                _("%(student)s left the order class “%(position)s”.")
                % {"student": student.name, "position": membership.position.title},
            )
    return _page(request, student, bound={f"leave-{membership.pk}": form})


@require_POST
def work_study_start(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.RECORD_OUTCOME)
    form = StartWorkStudyForm(request.POST, positions=_posts(request, PositionKind.WORK_STUDY), auto_id="id_%s_ws")
    if form.is_valid():
        data = form.cleaned_data
        try:
            start_work_study(
                actor=request.user,
                student=student,
                position=data["position"],
                started_on=data["started_on"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return _saved(
                request,
                student,
                "work-study",
                _("%(student)s started the work-study post “%(position)s”.")
                % {"student": student.name, "position": data["position"].title},
            )
    return _page(request, student, bound={"work_study": form})


@require_POST
def work_study_end(request: AuthedRequest, student_public_id: UUID, assignment_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.RECORD_OUTCOME)
    assignment = _get(WorkStudyAssignment.objects.select_related("position"), assignment_public_id, student)
    form = EndWorkStudyForm(request.POST, auto_id=_auto_id("w", assignment.public_id))
    if form.is_valid():
        data = form.cleaned_data
        try:
            end_work_study(
                actor=request.user,
                assignment=assignment,
                ended_on=data["ended_on"],
                expected_version=data["version"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return _saved(
                request,
                student,
                "work-study",
                _("The work-study post “%(position)s” ended.") % {"position": assignment.position.title},
            )
    return _page(request, student, bound={f"end-{assignment.pk}": form})


@require_POST
def work_study_hours(request: AuthedRequest, student_public_id: UUID, assignment_public_id: UUID) -> HttpResponse:
    student = _student(request, student_public_id, Perm.RECORD_OUTCOME)
    assignment = _get(WorkStudyAssignment.objects.select_related("position"), assignment_public_id, student)
    form = HoursForm(request.POST, auto_id=_auto_id("h", assignment.public_id))
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = log_work_study_hours(
                actor=request.user,
                assignment=assignment,
                worked_on=data["worked_on"],
                hours=data["hours"],
                note=data["note"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return _saved(
                request,
                student,
                "work-study",
                _("%(hours)s hours on %(date)s logged.")
                % {"hours": Decimal(row.hours).quantize(Decimal("0.1")), "date": row.worked_on.isoformat()},
            )
    return _page(request, student, bound={f"hours-{assignment.pk}": form})
