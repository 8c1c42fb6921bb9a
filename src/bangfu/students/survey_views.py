"""Pages of the enrolment survey: the list in scope, fill or edit one, confirm or dismiss a candidate."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, require_student_perm, scope_unit, units_with
from bangfu.paging import CountedPaginator
from bangfu.students import survey as surveys
from bangfu.students.models import EnrolmentSurvey, Student, SurveyStatus
from bangfu.students.queries import in_class_order
from bangfu.students.survey_forms import DecisionForm, SurveyFilterForm, SurveyForm, add_service_errors


class AuthedRequest(HttpRequest):
    """Every page here needs a login (LoginRequiredMiddleware), so `user` is a real user."""

    user: User
    htmx: HtmxDetails


def _student_for_survey(user: User, public_id: UUID) -> Student:
    """The student, if `user` sees them (else 404) and may fill their survey (else 403)."""
    student = (
        Student.objects.visible_to(user)
        .select_related("school", "class_unit", "survey", "survey__filled_by", "survey__decided_by")
        .filter(public_id=public_id)
        .first()
    )
    if student is None:
        raise Http404
    require_student_perm(user, Perm.MANAGE_SURVEY, student)
    return student


def _survey_of(student: Student) -> EnrolmentSurvey | None:
    try:
        return student.survey
    except EnrolmentSurvey.DoesNotExist:
        return None


def survey_list(request: AuthedRequest) -> HttpResponse:
    if not (request.user.is_superuser or units_with(request.user, Perm.MANAGE_SURVEY)):
        raise PermissionDenied
    students = surveys.survey_students(request.user)
    cohorts = sorted(students.order_by().values_list("cohort", flat=True).distinct(), reverse=True)
    form = SurveyFilterForm(request.GET, cohorts=cohorts)
    status, cohort = "", None
    if form.is_valid():
        status, cohort = form.cleaned_data["status"], form.cleaned_data["cohort"]
    if cohort is not None:
        students = students.filter(cohort=cohort)
    counts = surveys.status_counts(students)
    within = scope_unit(request.user, Perm.MANAGE_SURVEY)
    rows = in_class_order(surveys.filter_by_status(students, status), within=within)
    # The figures above already count the rows: no COUNT over them (held to the unit's classes, it would join them).
    shown = counts[status] if status in counts else sum(counts.values())
    page = CountedPaginator(rows, 50, count=shown).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "counts": counts, "status": status, "query": query.urlencode()}
    if request.htmx:
        return render(request, "students/survey_list.html#results", context)
    return render(request, "students/survey_list.html", context)


@require_http_methods(["GET", "POST"])
def survey_fill(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = _student_for_survey(request.user, student_public_id)
    survey = _survey_of(student)
    if request.method == "POST":
        form = SurveyForm(request.POST, instance=survey)
        if form.is_valid():
            try:
                saved = surveys.save_survey(
                    actor=request.user,
                    student=student,
                    answers=form.answers(),
                    expected_version=form.cleaned_data["version"] or 0,
                )
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                if saved.status == SurveyStatus.CANDIDATE:
                    messages.warning(
                        request,
                        _("Saved. The answers suggest these categories: %(categories)s. Confirm or dismiss below.")
                        % {"categories": ", ".join(saved.flagged_category_labels())},
                    )
                else:
                    messages.success(request, _("Saved. The answers suggest no ledger category."))
                return redirect("students:survey:fill", student_public_id=student.public_id)
    else:
        form = SurveyForm(instance=survey, initial={"version": survey.version if survey else 0})
        if survey is not None:
            # The answers include disability and family details: sensitive data, so the view is logged.
            log_access(
                actor=request.user,
                action=AccessAction.VIEW_SENSITIVE,
                student=student,
                fields="enrolment_survey",
                ip_address=request.META.get("REMOTE_ADDR"),
            )
    if survey is not None and survey.status == SurveyStatus.CONFIRMED:
        for field in form.fields.values():
            field.disabled = True
    decision = None
    if survey is not None and survey.status == SurveyStatus.CANDIDATE:
        decision = DecisionForm(flagged=survey.flagged_categories, initial={"version": survey.version})
    return render(
        request,
        "students/survey_fill.html",
        {"student": student, "survey": survey, "form": form, "decision": decision},
    )


@require_POST
def survey_decide(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = _student_for_survey(request.user, student_public_id)
    survey = _survey_of(student)
    if survey is None:
        raise Http404
    form = DecisionForm(request.POST, flagged=survey.flagged_categories)
    choice = request.POST.get("decision", "")
    if form.is_valid() and choice in ("confirm", "dismiss"):
        data = form.cleaned_data
        try:
            if choice == "confirm":
                surveys.confirm_survey(
                    actor=request.user,
                    survey=survey,
                    expected_version=data["version"],
                    reason=data["reason"],
                    categories=data["categories"],
                )
                messages.success(request, _("%(name)s joined the ledger.") % {"name": student.name})
            else:
                surveys.dismiss_survey(
                    actor=request.user, survey=survey, expected_version=data["version"], reason=data["reason"]
                )
                messages.success(request, _("The candidate was dismissed."))
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return redirect("students:survey:fill", student_public_id=student.public_id)
    elif form.is_valid():
        form.add_error(None, _("Choose to confirm or to dismiss."))
    survey_form = SurveyForm(instance=survey, initial={"version": survey.version})
    return render(
        request,
        "students/survey_fill.html",
        {"student": student, "survey": survey, "form": survey_form, "decision": form},
    )
