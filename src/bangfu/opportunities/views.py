"""Staff pages for employers, their positions and recruitment events: lists, forms, and the detail pages where a
helper recommends a suggested position to a student or records that a student came to an event with them.

Thin views: fetch through `opportunities.queries` (404 outside the user's schools), check the permission to
manage before showing a form (403), bind a form, call a service, redirect with a message or render.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.opportunities import queries
from bangfu.opportunities.forms import (
    AttendanceForm,
    EmployerFilterForm,
    EmployerForm,
    EventForm,
    PositionFilterForm,
    PositionForm,
    RecommendForm,
    chosen_school,
)
from bangfu.opportunities.models import Employer, Position, PositionStatus, RecruitmentEvent
from bangfu.opportunities.services import (
    create_employer,
    create_position,
    recommend,
    record_attendance,
    save_event,
    update_employer,
    update_position,
)
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, has_perm_in, require_perm_in, staff_schools
from bangfu.students.forms import add_service_errors
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user

PAGE_SIZE = 25
# The conversion figures on an employer's page cover the recommendations of the past year.
CONVERSION_DAYS = 365


class AuthedRequest(HttpRequest):
    """Every page here needs a login (LoginRequiredMiddleware), so `user` is a real user."""

    user: User
    htmx: HtmxDetails


def _posted(request: AuthedRequest) -> Any:
    """Form data for a POST (even an empty one, which must fail validation), nothing for a GET."""
    return request.POST if request.method == "POST" else None


def _require_staff(user: User) -> list[OrgUnit]:
    """The schools whose employers the user sees; a user who works for none (a student) may not list them."""
    schools = staff_schools(user)
    if not schools:
        raise PermissionDenied
    return schools


def _manageable_schools(user: User) -> list[OrgUnit]:
    return [s for s in staff_schools(user) if has_perm_in(user, Perm.MANAGE_EMPLOYERS, s)]


def _majors_of(schools: list[OrgUnit]) -> QuerySet[OrgUnit]:
    q = Q(pk__in=[])
    for school in schools:
        q |= Q(path__startswith=school.path)
    return OrgUnit.objects.filter(q, kind=UnitKind.MAJOR).order_by("path")


def _results_template(request: AuthedRequest, template: str) -> str:
    """An htmx filter request gets only the results part of the list page."""
    return f"{template}#results" if request.htmx and not request.htmx.boosted else template


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_GET
def index(request: AuthedRequest) -> HttpResponse:
    return redirect("opportunities:positions")


# --- Employers --------------------------------------------------------------------------------------------------


@require_GET
def employer_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    schools = _require_staff(user)
    today = timezone.localdate()
    form = EmployerFilterForm(request.GET or None)
    open_now = Q(positions__status=PositionStatus.OPEN) & (
        Q(positions__deadline__isnull=True) | Q(positions__deadline__gte=today)
    )
    employers = (
        form.apply(queries.employers_for(user))
        .select_related("school")
        .annotate(open_positions=Count("positions", filter=open_now))
        .order_by("name", "pk")
    )
    context = {
        "form": form,
        "page": Paginator(employers, PAGE_SIZE).get_page(request.GET.get("page")),
        "can_create": bool(_manageable_schools(user)),
        "several_schools": len(schools) > 1,
    }
    return render(request, _results_template(request, "opportunities/employer_list.html"), context)


@require_GET
def employer_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    employer = queries.get_employer_for_user(user, public_id)
    today = timezone.localdate()
    recent = queries.recommendations_for(user).filter(
        position__employer=employer, recommended_on__gt=today - dt.timedelta(days=CONVERSION_DAYS)
    )
    rows = queries.conversion(recent, by="employer")
    context = {
        "employer": employer,
        "positions": employer.positions.order_by(F("deadline").asc(nulls_last=True), "title"),
        "events": employer.events.order_by("-held_on")[:5],
        "conversion": rows[0] if rows else None,
        "today": today,
        "can_manage": has_perm_in(user, Perm.MANAGE_EMPLOYERS, employer.school),
    }
    return render(request, "opportunities/employer_detail.html", context)


@require_http_methods(["GET", "POST"])
def employer_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    schools = _manageable_schools(user)
    if not schools:
        raise PermissionDenied
    form = EmployerForm(_posted(request), schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            employer = create_employer(actor=user, school=chosen_school(form, schools), **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": employer.name})
            return redirect("opportunities:employer", public_id=employer.public_id)
    return render(request, "opportunities/employer_form.html", {"form": form, "employer": None})


@require_http_methods(["GET", "POST"])
def employer_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    employer = queries.get_employer_for_user(user, public_id)
    require_perm_in(user, Perm.MANAGE_EMPLOYERS, employer.school)
    form = EmployerForm(_posted(request), schools=[], employer=employer)
    if request.method == "POST" and form.is_valid():
        try:
            update_employer(
                actor=user, employer=employer, expected_version=form.cleaned_data["version"], **form.service_kwargs()
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("opportunities:employer", public_id=employer.public_id)
    return render(request, "opportunities/employer_form.html", {"form": form, "employer": employer})


# --- Positions --------------------------------------------------------------------------------------------------


@require_GET
def position_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    schools = _require_staff(user)
    today = timezone.localdate()
    form = PositionFilterForm(
        request.GET or None, employers=queries.employers_for(user).order_by("name"), majors=_majors_of(schools)
    )
    positions = (
        form.apply(queries.positions_for(user), today)
        .prefetch_related("majors")
        .order_by(F("deadline").asc(nulls_last=True), "title", "pk")
    )
    context = {
        "form": form,
        "page": Paginator(positions, PAGE_SIZE).get_page(request.GET.get("page")),
        "today": today,
        "can_create": bool(_manageable_schools(user)),
    }
    return render(request, _results_template(request, "opportunities/position_list.html"), context)


def _is_open(position: Position, today: dt.date) -> bool:
    return position.status == PositionStatus.OPEN and (position.deadline is None or position.deadline >= today)


@require_GET
def position_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    position = queries.get_position_for_user(user, public_id)
    today = timezone.localdate()
    is_open = _is_open(position, today)
    suggestions = queries.suggest_students(user, position, today) if is_open else []
    context = {
        "position": position,
        "employer": position.employer,
        "majors": position.majors.order_by("path"),
        "is_open": is_open,
        "suggestions": [(student, [r.text() for r in fit.reasons], fit.score) for student, fit in suggestions],
        "recommendations": queries.recommendations_for(user).filter(position=position).order_by("student__name"),
        "can_manage": has_perm_in(user, Perm.MANAGE_EMPLOYERS, position.employer.school),
        "today": today,
    }
    return render(request, "opportunities/position_detail.html", context)


@require_http_methods(["GET", "POST"])
def position_create(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    employer = queries.get_employer_for_user(user, public_id)
    require_perm_in(user, Perm.MANAGE_EMPLOYERS, employer.school)
    form = PositionForm(_posted(request), employer=employer, majors=_majors_of([employer.school]))
    if request.method == "POST" and form.is_valid():
        try:
            position = create_position(actor=user, employer=employer, **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The position %(title)s was added.") % {"title": position.title})
            return redirect("opportunities:position", public_id=position.public_id)
    return render(request, "opportunities/position_form.html", {"form": form, "employer": employer, "position": None})


@require_http_methods(["GET", "POST"])
def position_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    position = queries.get_position_for_user(user, public_id)
    employer = position.employer
    require_perm_in(user, Perm.MANAGE_EMPLOYERS, employer.school)
    form = PositionForm(_posted(request), employer=employer, majors=_majors_of([employer.school]), position=position)
    if request.method == "POST" and form.is_valid():
        try:
            update_position(
                actor=user, position=position, expected_version=form.cleaned_data["version"], **form.service_kwargs()
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("opportunities:position", public_id=position.public_id)
    context = {"form": form, "employer": employer, "position": position}
    return render(request, "opportunities/position_form.html", context)


@require_POST
def position_recommend(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    """Recommend the position to one student (a button beside each suggested student)."""
    user = request.user
    position = queries.get_position_for_user(user, public_id)
    form = RecommendForm(request.POST)
    back = redirect("opportunities:position", public_id=position.public_id)
    if not form.is_valid():
        messages.error(request, _("Choose a student to recommend the position to."))
        return back
    student = get_student_for_user(user, form.cleaned_data["student"])  # 404 for a student the user cannot see
    try:
        recommend(
            actor=user, student=student, position=position, today=timezone.localdate(), note=form.cleaned_data["note"]
        )
    except ValidationError as e:
        messages.error(request, _error_text(e))
    else:
        messages.success(
            request,
            _("%(title)s at %(employer)s was recommended to %(name)s.")
            % {"title": position.title, "employer": position.employer.name, "name": student.name},
        )
    return back


# --- Recruitment events -----------------------------------------------------------------------------------------


@require_GET
def event_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    schools = _require_staff(user)
    today = timezone.localdate()
    events = queries.events_for(user).select_related("school").annotate(employer_count=Count("employers"))
    past = events.filter(held_on__lt=today).order_by("-held_on", "title", "pk")
    context = {
        "upcoming": events.filter(held_on__gte=today).order_by("held_on", "title", "pk"),
        "page": Paginator(past, PAGE_SIZE).get_page(request.GET.get("page")),
        "today": today,
        "can_create": bool(_manageable_schools(user)),
        "several_schools": len(schools) > 1,
    }
    return render(request, "opportunities/event_list.html", context)


def _loggable_students(user: User, event: RecruitmentEvent) -> QuerySet[Student]:
    """Students of the event's school for whom the user may log help: usually the helper's own students."""
    return Student.objects.visible_to(user, Perm.LOG_ACTIVITY).filter(school_id=event.school_id)


def _event_page(request: AuthedRequest, event: RecruitmentEvent, form: AttendanceForm | None) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    candidates = _loggable_students(user, event).exclude(event_attendances__event=event).order_by("name", "pk")
    if form is None:
        form = AttendanceForm(None, students=candidates)
    context = {
        "event": event,
        "employers": event.employers.order_by("name"),
        "attendances": event.attendances.filter(student__in=Student.objects.visible_to(user))
        .select_related("student", "helper")
        .order_by("student__name", "pk"),
        "form": form,
        "has_candidates": candidates.exists(),
        "started": event.held_on <= today,
        "can_manage": has_perm_in(user, Perm.MANAGE_EMPLOYERS, event.school),
    }
    return render(request, "opportunities/event_detail.html", context)


@require_GET
def event_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _event_page(request, queries.get_event_for_user(request.user, public_id), None)


@require_POST
def event_attend(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    """Record that one of my students came to the event with me: the "recruitment event together" activity."""
    user = request.user
    event = queries.get_event_for_user(user, public_id)
    students = _loggable_students(user, event)
    if not students.exists():
        raise PermissionDenied  # the user helps no student of this school
    form = AttendanceForm(request.POST, students=students)
    if form.is_valid():
        student = form.cleaned_data["student"]
        try:
            record_attendance(
                actor=user, event=event, student=student, today=timezone.localdate(), notes=form.cleaned_data["notes"]
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("%(name)s's attendance at %(event)s was recorded as a recruitment event together.")
                % {"name": student.name, "event": event.title},
            )
            return redirect("opportunities:event", public_id=event.public_id)
    return _event_page(request, event, form)


@require_http_methods(["GET", "POST"])
def event_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    schools = _manageable_schools(user)
    if not schools:
        raise PermissionDenied
    employers = Employer.objects.filter(school__in=schools).order_by("name")
    form = EventForm(_posted(request), schools=schools, employers=employers)
    if request.method == "POST" and form.is_valid():
        try:
            event = save_event(actor=user, school=chosen_school(form, schools), **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The event %(title)s was added.") % {"title": event.title})
            return redirect("opportunities:event", public_id=event.public_id)
    return render(request, "opportunities/event_form.html", {"form": form, "event": None})


@require_http_methods(["GET", "POST"])
def event_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    event = queries.get_event_for_user(user, public_id)
    require_perm_in(user, Perm.MANAGE_EMPLOYERS, event.school)
    employers = Employer.objects.filter(school=event.school).order_by("name")
    form = EventForm(_posted(request), schools=[], employers=employers, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            save_event(
                actor=user,
                school=event.school,
                event=event,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("opportunities:event", public_id=event.public_id)
    return render(request, "opportunities/event_form.html", {"form": form, "event": event})
