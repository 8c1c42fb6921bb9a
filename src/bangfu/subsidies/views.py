"""Subsidy pages: applications (list, detail, every workflow step), applying for a student, the office's types,
budgets and payment batches with the payment-list export.

Thin views: fetch through `subsidies.queries` (404 outside the user's scope), bind a form, call a service (which
raises PermissionDenied → 403 for a role that may not act, ValidationError → shown on the page, nothing
written), then redirect or render.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.forms import add_service_errors
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, require_perm_in, require_student_perm, staff_schools
from bangfu.students.queries import get_student_for_user, student_access, units_in_scope
from bangfu.subsidies import exports, queries, services
from bangfu.subsidies.forms import (
    ApplicationEditForm,
    ApplicationFilterForm,
    ApplyForm,
    BatchForm,
    BudgetForm,
    NoticeForm,
    ObjectionForm,
    PaidForm,
    ReceiptForm,
    ResolveForm,
    SchoolApprovalForm,
    StepForm,
    SubsidyTypeForm,
)
from bangfu.subsidies.models import Application, ApplicationStatus, Objection, PaymentBatch, SubsidyType

S = ApplicationStatus


class AuthedRequest(HttpRequest):
    """Every view here runs behind LoginRequiredMiddleware and HtmxMiddleware."""

    user: User
    htmx: HtmxDetails


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def _posted(request: AuthedRequest, *, files: bool = False) -> tuple[Any, ...]:
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def _ip(request: AuthedRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _say(request: AuthedRequest, error: ValidationError) -> None:
    for text in error.messages:
        messages.error(request, text)


def _say_form(request: AuthedRequest, form: Any) -> None:
    for errors in form.errors.values():
        for text in errors:
            messages.error(request, str(text))


def _with_school(name: str, school: OrgUnit, **more: object) -> str:
    return f"{reverse(name)}?{urlencode({'school': str(school.public_id), **{k: str(v) for k, v in more.items()}})}"


def _office(request: AuthedRequest) -> list[OrgUnit]:
    """The schools the user handles as the employment office; 403 for everyone else."""
    schools = queries.office_schools(request.user)
    if not schools:
        raise PermissionDenied
    return schools


def _office_context(request: AuthedRequest, school: OrgUnit | None = None) -> dict[str, Any]:
    schools = queries.office_schools(request.user)
    return {"office_schools": schools, "can_manage": bool(schools), "school": school}


def _next_or(request: AuthedRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


# ---------------------------------------------------------------------------------------------------------
# Applications: the list, "waiting for me", starting a notice for several at once


@require_GET
def application_list(request: AuthedRequest) -> HttpResponse:
    user, today = request.user, timezone.localdate()
    scoped = queries.applications_for(user)
    form = ApplicationFilterForm(
        request.GET or None,
        types=queries.types_of(staff_schools(user)).order_by("school__path", "code"),
        departments=units_in_scope(user, (UnitKind.DEPARTMENT,)).order_by("path"),
        years=queries.years_in(scoped, today),
        language=_language(),
    )
    rows = queries.filter_applications(scoped, user=user, today=today, **form.filters()).order_by("-created_at", "-pk")
    office = queries.office_schools(user)
    context = {
        **_office_context(request),
        "form": form,
        "page": Paginator(rows, queries.PAGE_SIZE).get_page(request.GET.get("page")),
        "waiting_count": scoped.filter(queries.waiting_for(user, today)).count(),
        "can_notice": bool(office),
        "notice_form": NoticeForm(),
        "today": today,
        "language": _language(),
    }
    return render(request, "subsidies/list.html", context)


@require_POST
def start_notice(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _office(request)
    wanted = {u for v in request.POST.getlist("applications") if (u := queries.as_uuid(v)) is not None}
    chosen = list(queries.applications_for(user).filter(public_id__in=wanted).order_by("pk"))
    if len(chosen) != len(wanted):
        raise Http404
    form = NoticeForm(request.POST)
    if not form.is_valid():
        _say_form(request, form)
        return _next_or(request, reverse("subsidies:applications"))
    try:
        noticed = services.start_public_notice(
            actor=user, applications=chosen, starts_on=form.cleaned_data["starts_on"], today=timezone.localdate()
        )
    except ValidationError as e:
        _say(request, e)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d application is on public notice.",
                "%(count)d applications are on public notice.",
                len(noticed),
            )
            % {"count": len(noticed)},
        )
    return _next_or(request, reverse("subsidies:applications"))


# ---------------------------------------------------------------------------------------------------------
# One application and the steps of its workflow


def _detail_page(request: AuthedRequest, application: Application, bound: dict[str, Any] | None = None) -> HttpResponse:
    """The application page with the buttons the user may use now; `bound` replaces a step's form (with its
    errors) after a refused step."""
    user, today, bound = request.user, timezone.localdate(), bound or {}
    student = application.student
    access = student_access(user, student)
    steps = list(application.steps.select_related("by").order_by("at", "pk"))
    objections = list(application.objections.select_related("recorded_by", "resolved_by"))
    status = application.status
    applicant_side = application.applied_by_id == user.pk or access.can(Perm.APPLY_SUBSIDY)
    own = application.applied_by_id == user.pk or (student.user_id is not None and student.user_id == user.pk)
    # The school's approver is not the one who gave this round's department approval (the service's rule).
    department_steps = [s for s in steps if s.to_status == S.DEPARTMENT_APPROVED]
    approved_for_department = bool(department_steps) and department_steps[-1].by_id == user.pk
    by_department, by_school = access.can(Perm.APPROVE_DEPARTMENT), access.can(Perm.APPROVE_SCHOOL)
    can = {
        "edit": applicant_side and status in (S.DRAFT, S.RETURNED),
        "withdraw": applicant_side and status in (S.DRAFT, S.SUBMITTED, S.RETURNED, S.DEPARTMENT_APPROVED),
        "approve_department": status == S.SUBMITTED and by_department and not own,
        "approve_school": status == S.DEPARTMENT_APPROVED and by_school and not own and not approved_for_department,
        "return": (status == S.SUBMITTED and by_department) or (status == S.DEPARTMENT_APPROVED and by_school),
        "reject": (status == S.SUBMITTED and by_department)
        or (status in (S.DEPARTMENT_APPROVED, S.SCHOOL_APPROVED, S.ON_NOTICE) and by_school),
        "notice": status == S.SCHOOL_APPROVED and by_school,
        "objections": status == S.ON_NOTICE and by_school,
        "approve_final": status == S.ON_NOTICE
        and by_school
        and not own
        and application.notice_ends_on is not None
        and today > application.notice_ends_on,
        "download": access.can(Perm.VIEW_SENSITIVE),
    }
    left = queries.left_for(application) if can["approve_school"] else None
    version = {"version": application.version}
    forms: dict[str, Any] = {
        "submit": StepForm(initial=version),
        "withdraw": StepForm(initial=version),
        "approve_department": StepForm(initial=version),
        "approve_school": SchoolApprovalForm(initial=version),
        "return": StepForm(initial=version),
        "reject": StepForm(initial=version),
        "approve_final": StepForm(initial=version),
        "receipt": ReceiptForm(),
        "objection": ObjectionForm(),
        **bound,
    }
    # Why a step was refused, shown at the top: the step's own button may no longer be on the page.
    refused = [e for form in bound.values() if hasattr(form, "errors") for e in _page_errors(form)]
    context = {
        **_office_context(request),
        "application": application,
        "student": student,
        "subsidy_type": application.subsidy_type,
        "type_name": application.subsidy_type.display(_language()),
        "steps": steps,
        "objections": objections,
        "receipts": list(application.receipts.all()),
        "can": can,
        "left": left,
        "over_budget": left is not None and application.amount > left,
        "forms": forms,
        "resolve_form": bound.get("resolve"),
        "resolving": bound.get("resolving"),
        "refused": refused,
        "today": today,
    }
    response = render(request, "subsidies/detail.html", context)
    add_never_cache_headers(response)
    return response


def _page_errors(form: Any) -> list[str]:
    """A form's errors that belong to no field shown on the page (non-field ones and the hidden version's)."""
    shown = [name for name, field in form.fields.items() if not field.widget.is_hidden]
    return [e for name, errors in form.errors.items() if name not in shown for e in errors]


@require_GET
def application_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _detail_page(request, queries.get_application_for_user(request.user, public_id))


def _take_step(
    request: AuthedRequest,
    public_id: uuid.UUID,
    name: str,
    call: Callable[[Application, dict[str, Any]], Any],
    done: str,
    form_class: type[StepForm] = StepForm,
) -> HttpResponse:
    """Bind the step's form, call the service; on success back to the page, on refusal the page with the error."""
    application = queries.get_application_for_user(request.user, public_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(application, form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, done)
            return redirect("subsidies:detail", public_id=application.public_id)
    return _detail_page(request, application, {name: form})


def _common(request: AuthedRequest, application: Application, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "actor": request.user,
        "application": application,
        "today": timezone.localdate(),
        "expected_version": data["version"],
    }


@require_POST
def submit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request,
        public_id,
        "submit",
        lambda a, d: services.submit_application(**_common(request, a, d)),
        _("The application was submitted."),
    )


@require_POST
def withdraw(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request,
        public_id,
        "withdraw",
        lambda a, d: services.withdraw_application(**_common(request, a, d), comment=d["comment"]),
        _("The application was withdrawn."),
    )


@require_POST
def approve_department(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request,
        public_id,
        "approve_department",
        lambda a, d: services.approve_by_department(**_common(request, a, d), comment=d["comment"]),
        _("Approved for the department."),
    )


@require_POST
def approve_school(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request,
        public_id,
        "approve_school",
        lambda a, d: services.approve_by_school(
            **_common(request, a, d), comment=d["comment"], override_budget=d["override_budget"]
        ),
        _("Approved for the school."),
        SchoolApprovalForm,
    )


@require_POST
def approve_final(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request,
        public_id,
        "approve_final",
        lambda a, d: services.approve_after_notice(**_common(request, a, d), comment=d["comment"]),
        _("Approved for payment after the public notice."),
    )


@require_POST
def return_for_revision(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request,
        public_id,
        "return",
        lambda a, d: services.return_for_revision(**_common(request, a, d), comment=d["comment"]),
        _("The application was returned for revision."),
    )


@require_POST
def reject(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request,
        public_id,
        "reject",
        lambda a, d: services.reject_application(**_common(request, a, d), comment=d["comment"]),
        _("The application was rejected."),
    )


@require_POST
def record_objection(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    application = queries.get_application_for_user(request.user, public_id)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.record_objection(actor=request.user, application=application, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The objection was recorded."))
            return redirect("subsidies:detail", public_id=application.public_id)
    return _detail_page(request, application, {"objection": form})


@require_POST
def resolve_objection(request: AuthedRequest, public_id: uuid.UUID, objection_id: uuid.UUID) -> HttpResponse:
    application = queries.get_application_for_user(request.user, public_id)
    objection = Objection.objects.filter(application=application, public_id=objection_id).first()
    if objection is None:
        raise Http404
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.resolve_objection(
                actor=request.user, objection=objection, today=timezone.localdate(), **form.cleaned_data
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The objection was resolved."))
            return redirect("subsidies:detail", public_id=application.public_id)
    return _detail_page(request, application, {"resolve": form, "resolving": objection.pk})


# ---------------------------------------------------------------------------------------------------------
# Editing a draft, receipts, evidence and receipt downloads


@require_http_methods(["GET", "POST"])
def application_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    application = queries.get_application_for_user(request.user, public_id)
    access = student_access(request.user, application.student)
    if application.applied_by_id != request.user.pk and not access.can(Perm.APPLY_SUBSIDY):
        raise PermissionDenied
    form = ApplicationEditForm(*_posted(request, files=True), initial=ApplicationEditForm.initial_for(application))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_application(
                actor=request.user,
                application=application,
                expected_version=data["version"],
                today=timezone.localdate(),
                amount=data["amount"],
                reason=data["reason"],
                evidence=data["evidence"] or None,
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("subsidies:detail", public_id=application.public_id)
    context = {"application": application, "student": application.student, "form": form}
    return render(request, "subsidies/edit.html", context)


@require_POST
def add_receipt(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    application = queries.get_application_for_user(request.user, public_id)
    form = ReceiptForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_receipt(actor=request.user, application=application, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The receipt was added."))
            return redirect("subsidies:detail", public_id=application.public_id)
    return _detail_page(request, application, {"receipt": form})


def _download(request: AuthedRequest, application: Application, file: Any, what: str) -> FileResponse:
    """A file of the application, for those who may see sensitive data; every download is in the access log."""
    require_student_perm(request.user, Perm.VIEW_SENSITIVE, application.student)
    if not file:
        raise Http404
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = file.name or ""
    log_access(
        actor=request.user,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        student=application.student,
        fields=what,
        detail=name,
        ip_address=_ip(request),
    )
    response = FileResponse(handle, as_attachment=True, filename=os.path.basename(name))
    add_never_cache_headers(response)
    return response


@require_GET
def evidence(request: AuthedRequest, public_id: uuid.UUID) -> FileResponse:
    application = queries.get_application_for_user(request.user, public_id)
    return _download(request, application, application.evidence, "subsidy_evidence")


@require_GET
def receipt(request: AuthedRequest, public_id: uuid.UUID, receipt_id: int) -> FileResponse:
    application = queries.get_application_for_user(request.user, public_id)
    found = application.receipts.filter(pk=receipt_id).first()
    if found is None:
        raise Http404
    return _download(request, application, found.file, "subsidy_receipt")


# ---------------------------------------------------------------------------------------------------------
# Applying for a student: the types with their eligibility, then the form for one type


@dataclass(frozen=True)
class TypeOption:
    """A subsidy type on the "apply" page, with whether the student may apply and why not."""

    type: SubsidyType
    name: str
    verdict: services.Eligibility


@require_GET
def apply_choose(request: AuthedRequest, student_id: uuid.UUID) -> HttpResponse:
    student = get_student_for_user(request.user, student_id)
    require_student_perm(request.user, Perm.APPLY_SUBSIDY, student)
    today, language = timezone.localdate(), _language()
    options = [
        TypeOption(t, t.display(language), services.eligibility(student, t, today))
        for t in SubsidyType.objects.filter(school=student.school_id, is_active=True).order_by("code")
    ]
    context = {
        "student": student,
        "eligible": [o for o in options if o.verdict.eligible],
        "not_eligible": [o for o in options if not o.verdict.eligible],
        "applications": queries.student_applications(student),
        "language": language,
    }
    return render(request, "subsidies/apply_choose.html", context)


@require_http_methods(["GET", "POST"])
def apply(request: AuthedRequest, student_id: uuid.UUID, type_id: uuid.UUID) -> HttpResponse:
    user, today = request.user, timezone.localdate()
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.APPLY_SUBSIDY, student)
    subsidy_type = SubsidyType.objects.filter(school=student.school_id, public_id=type_id).first()
    if subsidy_type is None:
        raise Http404
    form = ApplyForm(*_posted(request, files=True), subsidy_type=subsidy_type, initial={"amount": subsidy_type.amount})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # Saving and submitting is one step for the applicant: a refused submission leaves no draft behind.
            with transaction.atomic():
                application = services.create_application(
                    actor=user,
                    student=student,
                    subsidy_type=subsidy_type,
                    amount=data["amount"],
                    reason=data["reason"],
                    today=today,
                    evidence=data.get("evidence") or None,
                )
                if data.get("receipt"):
                    services.add_receipt(
                        actor=user,
                        application=application,
                        file=data["receipt"],
                        amount=data["receipt_amount"],
                        description=data.get("receipt_description", ""),
                    )
                if request.POST.get("then") == "submit":
                    application = services.submit_application(actor=user, application=application, today=today)
        except ValidationError as e:
            add_service_errors(form, e, aliases={"file": "receipt"})
        else:
            submitted = application.status == S.SUBMITTED
            messages.success(
                request,
                _("The application was submitted.") if submitted else _("The application was saved as a draft."),
            )
            return redirect("subsidies:detail", public_id=application.public_id)
    context = {
        "student": student,
        "subsidy_type": subsidy_type,
        "type_name": subsidy_type.display(_language()),
        "verdict": services.eligibility(student, subsidy_type, today),
        "form": form,
    }
    return render(request, "subsidies/apply.html", context)


# ---------------------------------------------------------------------------------------------------------
# The office: subsidy types and budgets


@require_GET
def type_list(request: AuthedRequest) -> HttpResponse:
    school = queries.pick_school(_office(request), request.GET.get("school"))
    context = {
        **_office_context(request, school),
        "types": SubsidyType.objects.filter(school=school).order_by("code"),
        "language": _language(),
    }
    return render(request, "subsidies/types.html", context)


@require_POST
def install_defaults(request: AuthedRequest) -> HttpResponse:
    school = queries.pick_school(_office(request), request.POST.get("school"))
    added = services.install_default_types(actor=request.user, school=school)
    if added:
        messages.success(
            request,
            ngettext("%(count)d default type was added.", "%(count)d default types were added.", len(added))
            % {"count": len(added)},
        )
    else:
        messages.info(request, _("The school has every default type already."))
    return redirect(_with_school("subsidies:types", school))


def _type_form_page(request: AuthedRequest, form: SubsidyTypeForm, school: OrgUnit, subsidy_type: Any) -> HttpResponse:
    context = {**_office_context(request, school), "form": form, "subsidy_type": subsidy_type}
    return render(request, "subsidies/type_form.html", context)


def _back_to_types(school: OrgUnit) -> HttpResponse:
    return redirect(_with_school("subsidies:types", school))


@require_http_methods(["GET", "POST"])
def type_create(request: AuthedRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    school = queries.pick_school(_office(request), source.get("school"))
    form = SubsidyTypeForm(*_posted(request), initial={"public_notice_days": 0, "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.save_subsidy_type(actor=request.user, school=school, **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The subsidy type %(name)s was added.") % {"name": created.name})
            return _back_to_types(school)
    return _type_form_page(request, form, school, None)


@require_http_methods(["GET", "POST"])
def type_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    subsidy_type = queries.get_type_for_user(request.user, public_id)
    require_perm_in(request.user, Perm.APPROVE_SCHOOL, subsidy_type.school)
    form = SubsidyTypeForm(*_posted(request), initial=SubsidyTypeForm.initial_for(subsidy_type))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_subsidy_type(
                actor=request.user,
                school=subsidy_type.school,
                subsidy_type=subsidy_type,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return _back_to_types(subsidy_type.school)
    return _type_form_page(request, form, subsidy_type.school, subsidy_type)


def _year(value: Any, today: dt.date) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return today.year
    return year if 2000 <= year <= 2100 else today.year


@require_http_methods(["GET", "POST"])
def budgets(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    if request.method == "POST":
        return _set_budget(request)
    school = queries.pick_school(_office(request), request.GET.get("school"))
    year = _year(request.GET.get("year"), today)
    rows = list(queries.budget_rows(school, year))
    for row in rows:
        row.name_shown = row.display(_language())  # type: ignore[attr-defined]
        # One small form per type; the ids stay unique on the page, the names stay plain.
        row.form = BudgetForm(  # type: ignore[attr-defined]
            initial={"subsidy_type": row.public_id, "year": year, "amount": row.budget},  # type: ignore[attr-defined]
            auto_id=f"id_{row.code}_%s",
        )
    context = {
        **_office_context(request, school),
        "rows": rows,
        "year": year,
        "years": [today.year + 1, today.year, today.year - 1, today.year - 2],
    }
    return render(request, "subsidies/budgets.html", context)


def _set_budget(request: AuthedRequest) -> HttpResponse:
    form = BudgetForm(request.POST)
    type_id, year = (
        queries.as_uuid(request.POST.get("subsidy_type")),
        _year(request.POST.get("year"), timezone.localdate()),
    )
    if type_id is None:
        raise Http404
    subsidy_type = queries.get_type_for_user(request.user, type_id)
    require_perm_in(request.user, Perm.APPROVE_SCHOOL, subsidy_type.school)
    if not form.is_valid():
        _say_form(request, form)
    else:
        try:
            services.set_budget(
                actor=request.user, subsidy_type=subsidy_type, year=year, amount=form.cleaned_data["amount"]
            )
        except ValidationError as e:
            _say(request, e)
        else:
            messages.success(
                request,
                _("The %(year)s budget for %(type)s was saved.")
                % {"year": year, "type": subsidy_type.display(_language())},
            )
    return redirect(_with_school("subsidies:budgets", subsidy_type.school, year=year))


# ---------------------------------------------------------------------------------------------------------
# The office: payment batches and the payment list


def _batch_url(batch: PaymentBatch) -> str:
    return reverse("subsidies:batch", kwargs={"public_id": batch.public_id})


@require_GET
def batch_list(request: AuthedRequest) -> HttpResponse:
    school = queries.pick_school(_office(request), request.GET.get("school"))
    context = {
        **_office_context(request, school),
        "batches": queries.batches_of([school]),
        "payable_count": queries.payable(school).count(),
    }
    return render(request, "subsidies/batches.html", context)


@require_http_methods(["GET", "POST"])
def batch_create(request: AuthedRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    school = queries.pick_school(_office(request), source.get("school"))
    today = timezone.localdate()
    form = BatchForm(
        *_posted(request),
        applications=Application.objects.filter(student__school=school),
        initial={"name": _("Payment %(date)s") % {"date": f"{today:%Y-%m-%d}"}},
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.create_payment_batch(
                actor=request.user,
                school=school,
                name=form.cleaned_data["name"],
                applications=list(form.cleaned_data["applications"]),
                today=today,
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The batch %(name)s was created.") % {"name": batch.name})
            return redirect(_batch_url(batch))
    chosen = {str(v) for v in request.POST.getlist("applications")} if request.method == "POST" else set()
    context = {
        **_office_context(request, school),
        "form": form,
        "payable": queries.payable(school),
        "chosen": chosen,
        "language": _language(),
    }
    return render(request, "subsidies/batch_form.html", context)


def _office_batch(request: AuthedRequest, public_id: uuid.UUID) -> PaymentBatch:
    batch = queries.get_batch_for_user(request.user, public_id)
    require_perm_in(request.user, Perm.APPROVE_SCHOOL, batch.school)
    return batch


def _batch_page(request: AuthedRequest, batch: PaymentBatch, paid_form: PaidForm | None = None) -> HttpResponse:
    context = {
        **_office_context(request, batch.school),
        "batch": batch,
        "rows": queries.batch_applications(batch),
        "figures": queries.batch_figures(batch),
        "paid_form": paid_form or PaidForm(initial={"version": batch.version}),
        "language": _language(),
    }
    return render(request, "subsidies/batch.html", context)


@require_GET
def batch_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _batch_page(request, _office_batch(request, public_id))


@require_POST
def batch_paid(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    batch = _office_batch(request, public_id)
    form = PaidForm(request.POST)
    if form.is_valid():
        try:
            services.mark_batch_paid(
                actor=request.user,
                batch=batch,
                paid_on=form.cleaned_data["paid_on"],
                today=timezone.localdate(),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The batch was marked paid."))
            return redirect(_batch_url(batch))
    return _batch_page(request, batch, form)


@require_POST
def batch_remove(request: AuthedRequest, public_id: uuid.UUID, application_id: uuid.UUID) -> HttpResponse:
    batch = _office_batch(request, public_id)
    application = batch.applications.filter(public_id=application_id).first()
    if application is None:
        raise Http404
    try:
        services.remove_from_batch(actor=request.user, batch=batch, application=application)
    except ValidationError as e:
        _say(request, e)
    else:
        messages.success(request, _("The application was taken out of the batch."))
    return redirect(_batch_url(batch))


@require_GET
def batch_export(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    batch = _office_batch(request, public_id)
    content, count = exports.payment_list(batch)
    log_access(
        actor=request.user,
        action=AccessAction.EXPORT,
        fields="payment_list",
        detail=f"{batch.name} ({count})",
        ip_address=_ip(request),
    )
    response = HttpResponse(content, content_type=exports.CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, exports.file_name(batch))
    add_never_cache_headers(response)
    return response
