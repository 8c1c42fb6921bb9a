"""Track pages: a student's tracks (progress, join, record the next milestone, leave), the per-track counts of a
department or school with the list behind every count, and the office's track types.

Thin views: fetch through `tracks.queries` or `students.queries` (404 outside the user's scope), check the action
(403 for a role that may look but not act), bind a form, call a service (a refusal is shown on the page with
nothing written), then redirect or render. An htmx request to record or leave gets back only the track's card.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.forms import add_service_errors
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, require_student_perm, require_unit_perm
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user, student_access
from bangfu.tracks import queries, services
from bangfu.tracks.forms import (
    FiguresFilterForm,
    JoinForm,
    LeaveForm,
    MilestoneForm,
    MilestoneFormSet,
    MilestoneRowForm,
    ProgrammeFormSet,
    TrackTypeForm,
    items_of,
)
from bangfu.tracks.models import TrackEnrolment, TrackType


class AuthedRequest(HttpRequest):
    """Every view here runs behind LoginRequiredMiddleware and HtmxMiddleware."""

    user: User
    htmx: HtmxDetails


# ---------------------------------------------------------------------------------------------------------
# A student's tracks


def _card(
    enrolment: TrackEnrolment,
    *,
    can_manage: bool,
    record_form: MilestoneForm | None = None,
    leave_form: LeaveForm | None = None,
) -> dict[str, Any]:
    """One track card: the enrolment's progress with its two forms (fresh, or bound after a refusal)."""
    view = queries.enrolment_view(enrolment)
    version = {"version": enrolment.version}
    return {
        "view": view,
        "enrolment": enrolment,
        "can_manage": can_manage and enrolment.is_open,
        "record_form": record_form
        or MilestoneForm(initial=version, choices=view.next_choices, auto_id=f"id_{enrolment.public_id}_%s"),
        "leave_form": leave_form or LeaveForm(initial=version, auto_id=f"id_{enrolment.public_id}_leave_%s"),
        "open_leave": leave_form is not None,
    }


def _student_page(
    request: AuthedRequest, student: Student, bound: dict[int, dict[str, Any]] | None = None
) -> HttpResponse:
    can_manage = student_access(request.user, student).can(Perm.MANAGE_PLAN)
    lang = queries.language()
    cards = [
        _card(e, can_manage=can_manage, **(bound or {}).get(e.pk, {})) for e in queries.student_enrolments(student)
    ]
    joinable = (
        [(t, t.display(lang)) for t in queries.joinable_tracks(student).only("public_id", "name", "name_en")]
        if can_manage
        else []
    )
    context = {
        "student": student,
        "open_cards": [c for c in cards if c["enrolment"].is_open],
        "closed_cards": [c for c in cards if not c["enrolment"].is_open],
        "can_manage": can_manage,
        "joinable": joinable,
    }
    return render(request, "tracks/student.html", context)


@require_GET
def student_tracks(request: AuthedRequest, student_id: uuid.UUID) -> HttpResponse:
    return _student_page(request, get_student_for_user(request.user, student_id))


@require_http_methods(["GET", "POST"])
def join(request: AuthedRequest, student_id: uuid.UUID, track_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.MANAGE_PLAN, student)
    track = TrackType.objects.filter(school=student.school_id, public_id=track_id).first()
    if track is None:
        raise Http404
    lang = queries.language()
    form = JoinForm(request.POST if request.method == "POST" else None, track=track, language=lang)
    if request.method == "POST" and form.is_valid():
        try:
            services.join_track(
                actor=user,
                student=student,
                track=track,
                joined_on=form.cleaned_data["joined_on"],
                programme=form.cleaned_data.get("programme", ""),
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("%(name)s joined the track %(track)s.") % {"name": student.name, "track": track.display(lang)},
            )
            return redirect("tracks:student", student_id=student.public_id)
    context = {"student": student, "track": track, "track_name": track.display(lang), "form": form}
    return render(request, "tracks/join.html", context)


def _after_step(request: AuthedRequest, enrolment: TrackEnrolment, done: str) -> HttpResponse:
    """Back to the student's page; for htmx, the refreshed card only."""
    if request.htmx:
        fresh = next(e for e in queries.student_enrolments(enrolment.student) if e.pk == enrolment.pk)
        context = {"card": _card(fresh, can_manage=True), "student": enrolment.student, "done": done}
        return render(request, "tracks/student.html#card", context)
    messages.success(request, done)
    return redirect("tracks:student", student_id=enrolment.student.public_id)


def _refused(request: AuthedRequest, enrolment: TrackEnrolment, **forms: Any) -> HttpResponse:
    """The page (or for htmx the card) with the bound form and its errors."""
    if request.htmx:
        fresh = next(e for e in queries.student_enrolments(enrolment.student) if e.pk == enrolment.pk)
        context = {"card": _card(fresh, can_manage=True, **forms), "student": enrolment.student}
        return render(request, "tracks/student.html#card", context)
    return _student_page(request, enrolment.student, {enrolment.pk: forms})


@require_POST
def record(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    enrolment = queries.get_enrolment_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.MANAGE_PLAN, enrolment.student)
    view = queries.enrolment_view(enrolment)
    form = MilestoneForm(request.POST, choices=view.next_choices, auto_id=f"id_{enrolment.public_id}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_milestone(
                actor=request.user,
                enrolment=enrolment,
                milestone=data["milestone"],
                reached_on=data["reached_on"],
                note=data["note"],
                expected_version=data["version"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            label = enrolment.track.milestone_label(data["milestone"], queries.language())
            return _after_step(request, enrolment, _("Recorded: %(milestone)s.") % {"milestone": label})
    return _refused(request, enrolment, record_form=form)


@require_POST
def leave(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    enrolment = queries.get_enrolment_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.MANAGE_PLAN, enrolment.student)
    form = LeaveForm(request.POST, auto_id=f"id_{enrolment.public_id}_leave_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.leave_track(
                actor=request.user,
                enrolment=enrolment,
                left_on=data["left_on"],
                reason=data["reason"],
                expected_version=data["version"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            name = enrolment.track.display(queries.language())
            return _after_step(request, enrolment, _("The student left the track %(track)s.") % {"track": name})
    return _refused(request, enrolment, leave_form=form)


# ---------------------------------------------------------------------------------------------------------
# The department view: counts per track, and the students behind each count


def _scope(request: AuthedRequest) -> tuple[list[OrgUnit], OrgUnit, int | None]:
    """The user's units, the unit asked for (404 outside them; 403 for a user without any) and the cohort."""
    units = queries.figure_units(request.user)
    if not units:
        raise PermissionDenied
    unit = queries.pick_unit(units, request.GET.get("unit"))
    try:
        cohort = int(request.GET.get("cohort") or 0) or None
    except ValueError:
        cohort = None
    return units, unit, cohort


@require_GET
def figures(request: AuthedRequest) -> HttpResponse:
    user = request.user
    units, unit, cohort = _scope(request)
    lang = queries.language()
    school = queries.school_of(unit)
    tracks = list(TrackType.objects.filter(school=school).order_by("position", "code")) if school else []
    students = queries.students_in(user, unit, cohort)
    form = FiguresFilterForm(
        initial={"unit": str(unit.public_id), "cohort": str(cohort or "")},
        units=units,
        cohorts=queries.cohorts_of(user, unit),
        language=lang,
    )
    context = {
        "form": form,
        "unit": unit,
        "unit_name": unit.display_name(lang),
        "cohort": cohort,
        "rows": queries.track_figures(students, tracks, unit=unit, cohort=cohort),
        "school": school,
        "can_configure": school is not None and school in queries.office_schools(user),
    }
    return render(request, "tracks/figures.html", context)


STATUS_TITLES = {
    "open": gettext_lazy("on the track now"),
    "not_started": gettext_lazy("not yet at a milestone"),
    "succeeded": gettext_lazy("succeeded"),
    "failed": gettext_lazy("did not succeed"),
    "left": gettext_lazy("left the track"),
}


@require_GET
def track_students(request: AuthedRequest, track_id: uuid.UUID) -> HttpResponse:
    user = request.user
    _units, unit, cohort = _scope(request)
    track = queries.get_track_type_for_user(user, track_id)
    if queries.school_of(unit) != track.school:
        raise Http404
    lang = queries.language()
    status, milestone = request.GET.get("status") or "", request.GET.get("milestone") or ""
    if milestone and track.milestone(milestone) is None:
        raise Http404
    if not milestone and status and status not in queries.STATUSES:
        raise Http404
    rows = queries.track_enrolments(queries.students_in(user, unit, cohort), track, status=status, milestone=milestone)
    page = Paginator(rows, queries.PAGE_SIZE).get_page(request.GET.get("page"))
    if milestone:
        what = _("at the milestone “%(milestone)s”") % {"milestone": track.milestone_label(milestone, lang)}
    else:
        what = str(STATUS_TITLES.get(status, _("every enrolment")))
    context = {
        "track": track,
        "track_name": track.display(lang),
        "unit": unit,
        "unit_name": unit.display_name(lang),
        "cohort": cohort,
        "what": what,
        "page": page,
        "rows": [(e, queries.enrolment_label(e, track, lang)) for e in page],
        "back_url": reverse("tracks:figures")
        + "?"
        + urlencode({"unit": str(unit.public_id), **({"cohort": str(cohort)} if cohort else {})}),
    }
    return render(request, "tracks/track_students.html", context)


# ---------------------------------------------------------------------------------------------------------
# The office: track types


def _office(request: AuthedRequest) -> list[OrgUnit]:
    schools = queries.office_schools(request.user)
    if not schools:
        raise PermissionDenied
    return schools


def _types_url(school: OrgUnit) -> str:
    return reverse("tracks:types") + "?" + urlencode({"school": str(school.public_id)})


@require_GET
def type_list(request: AuthedRequest) -> HttpResponse:
    schools = _office(request)
    school = queries.pick_school(schools, request.GET.get("school"))
    lang = queries.language()
    types = [
        (
            t,
            t.display(lang),
            [t.milestone_label(m["code"], lang) for m in t.steps],
            [t.milestone_label(m["code"], lang) for m in t.finals],
        )
        for t in queries.types_of(school)
    ]
    context = {"school": school, "schools": schools, "types": types}
    return render(request, "tracks/types.html", context)


@require_POST
def install_defaults(request: AuthedRequest) -> HttpResponse:
    school = queries.pick_school(_office(request), request.POST.get("school"))
    added = services.install_default_tracks(actor=request.user, school=school)
    if added:
        messages.success(
            request,
            ngettext("%(count)d default track was added.", "%(count)d default tracks were added.", len(added))
            % {"count": len(added)},
        )
    else:
        messages.info(request, _("The school has every default track already."))
    return redirect(_types_url(school))


def _type_page(
    request: AuthedRequest, school: OrgUnit, track: TrackType | None, form: Any, milestones: Any, programmes: Any
) -> HttpResponse:
    context = {
        "school": school,
        "track": track,
        "form": form,
        "milestones": milestones,
        "programmes": programmes,
        "in_use": track is not None and track.enrolments.exists(),
    }
    return render(request, "tracks/type_form.html", context)


def _save_type(request: AuthedRequest, school: OrgUnit, track: TrackType | None) -> HttpResponse:
    posted = request.POST if request.method == "POST" else None
    form = TrackTypeForm(posted, initial=TrackTypeForm.initial_for(track) if track else {"is_active": True})
    if posted is None and track is not None:
        milestones = MilestoneFormSet(prefix="m", initial=[MilestoneRowForm.initial_of(m) for m in track.milestones])
        programmes = ProgrammeFormSet(prefix="p", initial=list(track.programmes))
    else:
        # Bound without `initial`: a row is read for what it says, not skipped as "unchanged" from the stored one.
        milestones = MilestoneFormSet(posted, prefix="m")
        programmes = ProgrammeFormSet(posted, prefix="p")
    if posted is not None and form.is_valid() and milestones.is_valid() and programmes.is_valid():
        try:
            saved = services.save_track_type(
                actor=request.user,
                school=school,
                track_type=track,
                expected_version=form.cleaned_data["version"] if track is not None else None,
                milestones=items_of(milestones),
                programmes=items_of(programmes),
                **form.service_kwargs(),
            )
        except ValidationError as e:
            # Errors about the lists are shown above the form, where the lists begin.
            add_service_errors(form, e)
        else:
            messages.success(request, _("The track %(name)s was saved.") % {"name": saved.display(queries.language())})
            return redirect(_types_url(school))
    return _type_page(request, school, track, form, milestones, programmes)


@require_http_methods(["GET", "POST"])
def type_create(request: AuthedRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    school = queries.pick_school(_office(request), source.get("school"))
    return _save_type(request, school, None)


@require_http_methods(["GET", "POST"])
def type_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    track = queries.get_track_type_for_user(request.user, public_id)
    require_unit_perm(request.user, Perm.MANAGE_POLICY, track.school)
    return _save_type(request, track.school, track)
