"""Pages for one-on-one help: assign, hand over, end, bulk-assign, caseloads, my students."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance import queries
from bangfu.assistance.forms import AssignForm, BulkAssignForm, EndForm, HandOverForm, add_service_errors
from bangfu.assistance.models import HelperAssignment
from bangfu.assistance.services import assign_helper, bulk_assign, end_assignment, hand_over
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, is_staff_member, units_with
from bangfu.students.models import Student


class AuthedRequest(HttpRequest):
    """Every page here needs a login (LoginRequiredMiddleware), so `user` is a real user."""

    user: User
    htmx: HtmxDetails


def _require_assigner(user: User) -> None:
    if not (user.is_superuser or units_with(user, Perm.ASSIGN_HELPER)):
        raise PermissionDenied


def _to_student_page(student: Student) -> HttpResponse:
    return redirect("students:detail", student.public_id)


@require_http_methods(["GET", "POST"])
def assign(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student_to_assign(request.user, student_public_id)
    current = queries.current_assignment(student)
    form = AssignForm(
        request.POST if request.method == "POST" else None,
        helpers=queries.helper_candidates(request.user, student.school),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assign_helper(
                actor=request.user,
                student=student,
                helper=data["helper"],
                start=data["start"],
                planned_end=data["planned_end"],
                reason=data["reason"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request, _("%(helper)s now helps %(student)s.") % {"helper": data["helper"], "student": student.name}
            )
            return _to_student_page(student)
    return render(request, "assistance/assign.html", {"student": student, "current": current, "form": form})


@require_http_methods(["GET", "POST"])
def hand_over_view(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student_to_assign(request.user, student_public_id)
    current = queries.current_assignment(student)
    if current is None:
        messages.info(request, _("%(name)s has no helper yet; assign one.") % {"name": student.name})
        return redirect("assistance:assign", student_public_id=student.public_id)
    form = HandOverForm(
        request.POST if request.method == "POST" else None,
        helpers=queries.helper_candidates(request.user, student.school).exclude(pk=current.helper_id),
        initial={"assignment": current.public_id, "version": current.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        seen = HelperAssignment.objects.filter(student=student, public_id=data["assignment"]).first()
        try:
            if seen is None:
                raise ValidationError(_("This assignment does not belong to this student."))
            hand_over(
                actor=request.user,
                student=student,
                new_helper=data["helper"],
                on=data["on"],
                note=data["note"],
                expected_version=data["version"],
                expected_assignment=seen,
            )
        except ValidationError as e:
            add_service_errors(form, e, {"ended_on": "on", "start": "on"})
        else:
            messages.success(
                request,
                _("%(student)s was handed over to %(helper)s.") % {"student": student.name, "helper": data["helper"]},
            )
            return _to_student_page(student)
    return render(request, "assistance/hand_over.html", {"student": student, "current": current, "form": form})


@require_http_methods(["GET", "POST"])
def end(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student_to_assign(request.user, student_public_id)
    current = queries.current_assignment(student)
    if current is None and request.method == "GET":
        messages.info(request, _("%(name)s has no helper yet; assign one.") % {"name": student.name})
        return redirect("assistance:assign", student_public_id=student.public_id)
    initial = {"assignment": current.public_id, "version": current.version} if current else {}
    form = EndForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        assignment = (
            HelperAssignment.objects.filter(student=student, public_id=data["assignment"])
            .select_related("student", "helper")
            .first()
        )
        if assignment is None:
            form.add_error(None, _("This assignment does not belong to this student."))
        else:
            try:
                end_assignment(
                    actor=request.user,
                    assignment=assignment,
                    ended_on=data["ended_on"],
                    reason=data["reason"],
                    expected_version=data["version"],
                )
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                messages.success(
                    request,
                    _("%(helper)s no longer helps %(student)s.")
                    % {"helper": assignment.helper, "student": student.name},
                )
                return _to_student_page(student)
    return render(request, "assistance/end.html", {"student": student, "current": current, "form": form})


def _back_to_list(request: AuthedRequest, target: str) -> HttpResponse:
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("students:list")
    return redirect(target)


@require_POST
def bulk_assign_view(request: AuthedRequest) -> HttpResponse:
    _require_assigner(request.user)
    form = BulkAssignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back_to_list(request, request.POST.get("next", ""))
    data = form.cleaned_data
    students = queries.students_to_assign(request.user, data["students"])
    helper = queries.staff_in_scope(request.user).filter(public_id=data["helper"]).first()
    if helper is None:
        messages.error(request, _("Choose a helper from the list."))
        return _back_to_list(request, data["next"])
    try:
        done = bulk_assign(
            actor=request.user, students=students, helper=helper, start=data["start"], reason=data["reason"]
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d student is now helped by %(helper)s.",
                "%(count)d students are now helped by %(helper)s.",
                len(done),
            )
            % {"count": len(done), "helper": helper},
        )
    return _back_to_list(request, data["next"])


def caseload(request: AuthedRequest) -> HttpResponse:
    _require_assigner(request.user)
    unassigned = Paginator(queries.unassigned_ledger_students(request.user), 50).get_page(request.GET.get("page"))
    if request.htmx and request.htmx.target == "unassigned":
        return render(request, "assistance/caseload.html#unassigned", {"unassigned": unassigned})
    helpers = queries.caseloads(request.user)
    return render(request, "assistance/caseload.html", {"helpers": helpers, "unassigned": unassigned})


def my_students(request: AuthedRequest) -> HttpResponse:
    if not is_staff_member(request.user):
        raise PermissionDenied
    return render(request, "assistance/my_students.html", {"assignments": queries.my_assignments(request.user)})
