"""The student portal (/me/): the student's own pages, phone first, every form working without JavaScript.

Every page reads the student linked to the login (`own_student_record`: 404 for any other user), so an id in a URL
only ever picks among that student's own records (404 for anyone else's). The answers go through the domain's
services with the student as the actor; a refused answer renders the page again with the message, nothing
written. The one staff page here is the helper's résumé revision (`staff_resume`).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.forms import add_service_errors
from bangfu.opportunities.models import PositionKind, Recommendation, RecommendationStatus
from bangfu.opportunities.services import change_recommendation
from bangfu.organisation.models import User
from bangfu.organisation.permissions import SELF, Perm, has_student_perm, require_student_perm, student_roles
from bangfu.outcomes.services import confirm_destination
from bangfu.portal import queries
from bangfu.portal.forms import (
    ANSWER_LABELS,
    AnswerForm,
    ConfirmDestinationForm,
    ResubmitForm,
    ResumeForm,
    RevisionForm,
    WithdrawApplicationForm,
)
from bangfu.portal.services import upload_resume
from bangfu.showcase import services as showcase_services
from bangfu.showcase.forms import WithdrawForm
from bangfu.showcase.models import Consent
from bangfu.showcase.queries import consents_of
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user, own_student_record
from bangfu.subsidies import services as subsidy_services
from bangfu.subsidies.forms import ApplyForm
from bangfu.subsidies.models import Application, ApplicationStatus, SubsidyType

S = ApplicationStatus
# What the applicant may still do with an application (the subsidy services check it again).
RESUBMITTABLE = (S.DRAFT, S.RETURNED)
WITHDRAWABLE = (S.DRAFT, S.SUBMITTED, S.RETURNED, S.DEPARTMENT_APPROVED)


class AuthedRequest(HttpRequest):
    """Every view here runs behind LoginRequiredMiddleware and HtmxMiddleware."""

    user: User
    htmx: HtmxDetails


def _me(request: AuthedRequest) -> Student:
    return own_student_record(request.user)


def _render(request: AuthedRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    add_never_cache_headers(response)  # a shared phone's back button must not show another person's page
    return response


def _file(field: Any) -> FileResponse:
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=os.path.basename(field.name or ""))
    add_never_cache_headers(response)
    return response


# ---------------------------------------------------------------------------------------------------------
# Home


@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    student = _me(request)
    today = timezone.localdate()
    progress = queries.progress_for_student(student)
    context = {
        "tab": "home",
        "student": student,
        "helper": queries.current_helper(student),
        "plan": queries.plan_of(student),
        "steps": queries.next_steps(student, today, progress["progress"]),
        "events": queries.upcoming_events(student, today),
        **progress,
    }
    return _render(request, "portal/home.html", context)


# ---------------------------------------------------------------------------------------------------------
# Recommendations


@dataclass
class Card:
    rec: Recommendation
    reasons: list[str]
    note: str
    answers: list[tuple[str, str]]
    answer_form: AnswerForm | None
    decline_form: AnswerForm | None


def _auto_id(prefix: str, public_id: uuid.UUID) -> str:
    # Several forms of one kind share the page: their ids must differ, their field names need not.
    return f"id_%s_{prefix}{public_id.hex[:8]}"


def _cards(student: Student, bound: dict[str, AnswerForm]) -> list[Card]:
    """Each recommendation with the answers the student may give now; a refused answer's form comes back bound."""
    cards = []
    for rec in queries.recommendations_of(student):
        answers = queries.student_answers(rec)
        buttons = [(s, str(ANSWER_LABELS[s])) for s in answers if s != RecommendationStatus.DECLINED]
        can_decline = RecommendationStatus.DECLINED in answers
        answer_form = decline_form = None
        if buttons:
            answer_form = bound.get(f"answer-{rec.pk}") or AnswerForm(
                auto_id=_auto_id("a", rec.public_id), initial={"version": rec.version}
            )
        if can_decline:
            decline_form = bound.get(f"decline-{rec.pk}") or AnswerForm(
                auto_id=_auto_id("d", rec.public_id),
                initial={"version": rec.version, "to_status": RecommendationStatus.DECLINED},
            )
        cards.append(
            Card(
                rec=rec,
                reasons=queries.reason_texts(rec.fit_reasons),
                note=queries.note_shown(rec),
                answers=buttons,
                answer_form=answer_form,
                decline_form=decline_form,
            )
        )
    return cards


def _recommendations_page(request: AuthedRequest, student: Student, bound: dict[str, AnswerForm]) -> HttpResponse:
    context = {"tab": "recommendations", "student": student, "cards": _cards(student, bound)}
    return _render(request, "portal/recommendations.html", context)


@require_GET
def recommendations(request: AuthedRequest) -> HttpResponse:
    return _recommendations_page(request, _me(request), {})


@require_POST
def answer(request: AuthedRequest, recommendation_id: uuid.UUID) -> HttpResponse:
    student = _me(request)
    rec = queries.get_own_recommendation(student, recommendation_id)
    declining = request.POST.get("to_status") == RecommendationStatus.DECLINED
    form = AnswerForm(request.POST, auto_id=_auto_id("d" if declining else "a", rec.public_id))
    if form.is_valid():
        data, today = form.cleaned_data, timezone.localdate()
        try:
            done = change_recommendation(
                actor=request.user,
                recommendation=rec,
                to_status=data["to_status"],
                on=today,
                today=today,
                expected_version=data["version"],
                reason=data["reason"],
                note=data["note"],
            )
        except ValidationError as e:
            add_service_errors(form, e, {"status": "to_status"})
        else:
            message = _("“%(position)s”: %(status)s.") % {
                "position": rec.position.title,
                "status": RecommendationStatus(done.status).label,
            }
            if done.status == RecommendationStatus.ACCEPTED and rec.position.kind == PositionKind.JOB:
                message += " " + _("Your destination is recorded; please confirm it.")
            messages.success(request, message)
            return redirect(f"{reverse('portal:recommendations')}#rec-{rec.public_id}")
    key = f"{'decline' if declining else 'answer'}-{rec.pk}"
    return _recommendations_page(request, student, {key: form})


# ---------------------------------------------------------------------------------------------------------
# Résumé


@require_http_methods(["GET", "POST"])
def resume(request: AuthedRequest) -> HttpResponse:
    student = _me(request)
    form = ResumeForm(*((request.POST, request.FILES) if request.method == "POST" else ()))
    if request.method == "POST" and form.is_valid():
        try:
            upload_resume(
                actor=request.user,
                student=student,
                file=form.cleaned_data["file"],
                comment=form.cleaned_data["comment"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Your résumé was uploaded."))
            return redirect("portal:resume")
    context = {
        "tab": "resume",
        "student": student,
        "form": form,
        "entries": queries.resume_entries(student),
    }
    return _render(request, "portal/resume.html", context)


@require_GET
def resume_file(request: AuthedRequest, version_id: uuid.UUID) -> FileResponse:
    """A version's file, for the student themself and the staff who see the student."""
    return _file(queries.get_resume_version_for_user(request.user, version_id).file)


@require_http_methods(["GET", "POST"])
def staff_resume(request: AuthedRequest, student_id: uuid.UUID) -> HttpResponse:
    """The helper's page: the student's versions, and a revised version with what was revised (LOG_ACTIVITY)."""
    user = request.user
    student = get_student_for_user(user, student_id)
    if SELF in student_roles(user, student):
        return redirect("portal:resume")
    can_upload = has_student_perm(user, Perm.LOG_ACTIVITY, student)
    if request.method == "POST":
        require_student_perm(user, Perm.LOG_ACTIVITY, student)
    versions = queries.resume_versions(student)
    form = RevisionForm(
        *((request.POST, request.FILES) if request.method == "POST" else ()),
        versions=versions,
        initial={"revises": versions.filter(uploaded_by=student.user_id).first() if student.user_id else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            upload_resume(
                actor=user,
                student=student,
                file=form.cleaned_data["file"],
                comment=form.cleaned_data["comment"],
                revises=form.cleaned_data["revises"],
                today=timezone.localdate(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The revised résumé was uploaded; the revision is in the work ledger."))
            return redirect("portal:staff_resume", student_id=student.public_id)
    context = {
        "student": student,
        "for_staff": True,
        "form": form if can_upload else None,
        "entries": queries.resume_entries(student),
    }
    return _render(request, "portal/staff_resume.html", context)


# ---------------------------------------------------------------------------------------------------------
# Subsidies


@dataclass(frozen=True)
class TypeOption:
    subsidy_type: SubsidyType
    name: str
    reasons: list[str]

    @property
    def eligible(self) -> bool:
        return not self.reasons


@require_GET
def subsidies(request: AuthedRequest) -> HttpResponse:
    student = _me(request)
    today, language = timezone.localdate(), queries.language()
    options = [
        TypeOption(t, t.display(language), subsidy_services.eligibility(student, t, today).reasons)
        for t in SubsidyType.objects.filter(school=student.school_id, is_active=True).order_by("code")
    ]
    context = {
        "tab": "subsidies",
        "student": student,
        "options": options,
        "applications": queries.applications_of(student),
        "language": language,
    }
    return _render(request, "portal/subsidies.html", context)


@require_http_methods(["GET", "POST"])
def apply(request: AuthedRequest, type_id: uuid.UUID) -> HttpResponse:
    user, student, today = request.user, _me(request), timezone.localdate()
    subsidy_type = SubsidyType.objects.filter(school=student.school_id, public_id=type_id).first()
    if subsidy_type is None:
        raise Http404
    form = ApplyForm(
        *((request.POST, request.FILES) if request.method == "POST" else ()),
        subsidy_type=subsidy_type,
        initial={"amount": subsidy_type.amount},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # Saving and submitting is one step for the applicant: a refused submission leaves no draft behind.
            with transaction.atomic():
                application = subsidy_services.create_application(
                    actor=user,
                    student=student,
                    subsidy_type=subsidy_type,
                    amount=data["amount"],
                    reason=data["reason"],
                    today=today,
                    evidence=data.get("evidence") or None,
                )
                if data.get("receipt"):
                    subsidy_services.add_receipt(
                        actor=user,
                        application=application,
                        file=data["receipt"],
                        amount=data["receipt_amount"],
                        description=data.get("receipt_description", ""),
                    )
                if request.POST.get("then") == "submit":
                    application = subsidy_services.submit_application(actor=user, application=application, today=today)
        except ValidationError as e:
            add_service_errors(form, e, aliases={"file": "receipt"})
        else:
            submitted = application.status == S.SUBMITTED
            messages.success(
                request,
                _("Your application was submitted.") if submitted else _("Your application was saved as a draft."),
            )
            return redirect("portal:application", application_id=application.public_id)
    context = {
        "tab": "subsidies",
        "student": student,
        "subsidy_type": subsidy_type,
        "type_name": subsidy_type.display(queries.language()),
        "reasons": subsidy_services.eligibility(student, subsidy_type, today).reasons,
        "form": form,
    }
    return _render(request, "portal/apply.html", context)


def _application_page(
    request: AuthedRequest,
    student: Student,
    application: Application,
    *,
    resubmit: ResubmitForm | None = None,
    withdraw: WithdrawApplicationForm | None = None,
) -> HttpResponse:
    version = {"version": application.version}
    if application.status in RESUBMITTABLE and resubmit is None:
        resubmit = ResubmitForm(initial={**version, "reason": application.reason})
    if application.status in WITHDRAWABLE and withdraw is None:
        withdraw = WithdrawApplicationForm(initial=version)
    context = {
        "tab": "subsidies",
        "student": student,
        "application": application,
        "type_name": application.subsidy_type.display(queries.language()),
        "steps": list(application.steps.all()),
        "resubmit_form": resubmit if application.status in RESUBMITTABLE else None,
        "withdraw_form": withdraw if application.status in WITHDRAWABLE else None,
    }
    return _render(request, "portal/application.html", context)


@require_GET
def application(request: AuthedRequest, application_id: uuid.UUID) -> HttpResponse:
    student = _me(request)
    return _application_page(request, student, queries.get_own_application(student, application_id))


@require_POST
def submit(request: AuthedRequest, application_id: uuid.UUID) -> HttpResponse:
    user, student, today = request.user, _me(request), timezone.localdate()
    found = queries.get_own_application(student, application_id)
    form = ResubmitForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refused submission keeps the application as it was
                changed = subsidy_services.update_application(
                    actor=user,
                    application=found,
                    expected_version=data["version"],
                    today=today,
                    reason=data["reason"],
                    evidence=data.get("evidence") or None,
                )
                subsidy_services.submit_application(actor=user, application=changed, today=today)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Your application was submitted."))
            return redirect("portal:application", application_id=found.public_id)
    return _application_page(request, student, found, resubmit=form)


@require_POST
def withdraw(request: AuthedRequest, application_id: uuid.UUID) -> HttpResponse:
    student = _me(request)
    found = queries.get_own_application(student, application_id)
    form = WithdrawApplicationForm(request.POST)
    if form.is_valid():
        try:
            subsidy_services.withdraw_application(
                actor=request.user,
                application=found,
                today=timezone.localdate(),
                comment=form.cleaned_data["comment"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Your application was withdrawn."))
            return redirect("portal:application", application_id=found.public_id)
    return _application_page(request, student, found, withdraw=form)


# ---------------------------------------------------------------------------------------------------------
# Destination


@require_http_methods(["GET", "POST"])
def destination(request: AuthedRequest) -> HttpResponse:
    student = _me(request)
    current = queries.current_destination(student)
    form = ConfirmDestinationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and current is not None and form.is_valid():
        confirmed = form.cleaned_data["answer"] == "confirm"
        try:
            confirm_destination(
                actor=request.user,
                destination=current,
                confirmed=confirmed,
                today=timezone.localdate(),
                note=form.cleaned_data["note"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("Thank you: your destination is confirmed.")
                if confirmed
                else _("Thank you: your helper will look at what is wrong."),
            )
            return redirect("portal:destination")
    context = {
        "tab": "destination",
        "student": student,
        "current": current,
        "code_shown": current.code.display(queries.language()) if current else "",
        "graduated": student.expected_graduation <= timezone.localdate(),
        "form": form if current is not None else None,
    }
    return _render(request, "portal/destination.html", context)


# ---------------------------------------------------------------------------------------------------------
# My data and consent


@require_GET
def my_data(request: AuthedRequest) -> HttpResponse:
    student = _me(request)
    consents = list(consents_of(student))
    active = next((c for c in consents if c.is_active), None)
    context = {
        "tab": "data",
        "student": student,
        "entry": queries.open_entry(student),
        "consents": consents,
        "active": active,
        "withdraw_form": WithdrawForm(initial={"version": active.version}) if active else None,
        "access_rows": queries.access_rows(student),
    }
    return _render(request, "portal/data.html", context)


@require_POST
def withdraw_consent(request: AuthedRequest, consent_id: uuid.UUID) -> HttpResponse:
    student = _me(request)
    consent = Consent.objects.filter(student=student, public_id=consent_id).select_related("student").first()
    if consent is None:
        raise Http404
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was not complete; nothing was changed."))
        return redirect(f"{reverse('portal:data')}#consents")
    try:
        unpublished = showcase_services.withdraw_consent(
            actor=request.user,
            consent=consent,
            today=timezone.localdate(),
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as e:
        for text in e.messages:
            messages.error(request, text)
    else:
        text = _("Your consent was withdrawn.")
        if unpublished:
            text += " " + _("Your story was taken off the public page.")
        messages.success(request, text)
    return redirect(f"{reverse('portal:data')}#consents")
