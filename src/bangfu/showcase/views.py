"""Exemplary-case pages: the public page (no login), the staff's cases with their workflow, a student's
consents, the student's own consent page, and the office's case types.

Thin views: fetch through `showcase.queries` (404 outside the user's scope), bind a form, call a service (which
raises PermissionDenied → 403 for a role that may not act, ValidationError → shown on the page, nothing
written), then redirect or render.
"""

from __future__ import annotations

import mimetypes
import os
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bangfu.assistance.forms import add_service_errors
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import (
    Perm,
    has_unit_perm,
    is_staff_member,
    require_student_perm,
    require_unit_perm,
    staff_schools,
)
from bangfu.showcase import queries, services
from bangfu.showcase.forms import CaseFilterForm, CaseForm, CaseTypeForm, ConsentForm, StepForm, WithdrawForm
from bangfu.showcase.models import CONSENT_FIELDS, Case, CaseStatus, CaseType
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user, own_student_record, student_access

S = CaseStatus


class AuthedRequest(HttpRequest):
    user: User


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def _posted(request: HttpRequest, *, files: bool = False) -> tuple[Any, ...]:
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _staff(request: AuthedRequest) -> None:
    """The case pages are for staff; a student has their own page (`showcase:my`)."""
    if not is_staff_member(request.user):
        raise PermissionDenied


def _inline(file: FieldFile) -> FileResponse:
    """An image shown on a page (not downloaded), never cached: an unpublished photo must disappear at once."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = os.path.basename(file.name or "")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = "inline"
    add_never_cache_headers(response)
    return response


# ---------------------------------------------------------------------------------------------------------
# The public page: no login, only what each student consented to show


@login_not_required
@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    language = _language()
    cases = queries.public_cases()
    chosen = request.GET.get("type", "")
    if chosen:
        type_id = queries.as_uuid(chosen)
        cases = cases.filter(case_type__public_id=type_id) if type_id else cases.none()
    page = Paginator(cases, queries.PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "cards": [queries.public_card(case, language) for case in page],
        "types": [(str(t.public_id), t.display(language)) for t in queries.public_types()],
        "chosen_type": chosen,
    }
    return render(request, "showcase/public_list.html", context)


@login_not_required
@require_GET
def public_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    card = queries.public_card(queries.get_public_case(public_id), _language())
    response = render(request, "showcase/public_detail.html", {"card": card})
    add_never_cache_headers(response)  # a withdrawal takes the page down at once, caches included
    return response


@login_not_required
@require_GET
def public_photo(request: HttpRequest, public_id: uuid.UUID) -> FileResponse:
    case = queries.get_public_case(public_id)
    if not queries.public_card(case, "zh-hans").has_photo:
        raise Http404
    return _inline(case.photo)


# ---------------------------------------------------------------------------------------------------------
# Staff: the cases in scope, one case and its workflow


@require_GET
def case_list(request: AuthedRequest) -> HttpResponse:
    _staff(request)
    user, language = request.user, _language()
    scoped = queries.cases_for(user)
    form = CaseFilterForm(
        request.GET or None,
        types=queries.types_of(staff_schools(user)).order_by("school__path", "code"),
        language=language,
    )
    rows = queries.filter_cases(scoped, **form.filters()).order_by("-created_at", "-pk")
    office = queries.office_schools(user)
    context = {
        "form": form,
        "page": Paginator(rows, queries.PAGE_SIZE).get_page(request.GET.get("page")),
        "counts": queries.status_counts(scoped),
        "office": bool(office),
        "school": office[0] if office else None,
        "language": language,
    }
    return render(request, "showcase/list.html", context)


def _detail_page(request: AuthedRequest, case: Case, bound: dict[str, Any] | None = None) -> HttpResponse:
    """The case page with the buttons the user may use now; `bound` replaces a step's form (with its errors)."""
    user = request.user
    student = case.student
    access = student_access(user, student)
    office = has_unit_perm(user, Perm.MANAGE_POLICY, student.school)
    own = case.nominated_by_id == user.pk or (student.user_id is not None and student.user_id == user.pk)
    consent = services.active_consent(student)
    status = case.status
    can = {
        "edit": access.can(Perm.MANAGE_PLAN) and status in (S.NOMINATED, S.APPROVED, S.UNPUBLISHED),
        "approve": office and status == S.NOMINATED and not own,
        "reject": office and status in (S.NOMINATED, S.APPROVED, S.UNPUBLISHED),
        "publish": office and status in (S.APPROVED, S.UNPUBLISHED) and not own,
        "unpublish": office and status == S.PUBLISHED,
        "consent": access.can(Perm.MANAGE_PLAN),
    }
    version = {"version": case.version}
    forms: dict[str, Any] = {name: StepForm(initial=version) for name in ("approve", "reject", "publish", "unpublish")}
    forms.update(bound or {})
    context = {
        "case": case,
        "student": student,
        "type_name": case.case_type.display(_language()),
        "consent": consent,
        "consent_fields": consent.shown_fields() if consent else [],
        "steps": list(case.steps.select_related("by").order_by("at", "pk")),
        "can": can,
        "forms": forms,
    }
    response = render(request, "showcase/detail.html", context)
    add_never_cache_headers(response)
    return response


@require_GET
def case_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    _staff(request)
    return _detail_page(request, queries.get_case_for_user(request.user, public_id))


def _take_step(
    request: AuthedRequest, public_id: uuid.UUID, name: str, call: Callable[..., Any], done: str
) -> HttpResponse:
    """Bind the step's form, call the service; on success back to the page, on refusal the page with the error."""
    _staff(request)
    case = queries.get_case_for_user(request.user, public_id)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            call(
                actor=request.user,
                case=case,
                today=timezone.localdate(),
                comment=form.cleaned_data["comment"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, done)
            return redirect("showcase:detail", public_id=case.public_id)
    return _detail_page(request, case, {name: form})


@require_POST
def approve(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(request, public_id, "approve", services.approve_case, _("The case was approved."))


@require_POST
def reject(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(request, public_id, "reject", services.reject_case, _("The case was rejected."))


@require_POST
def publish(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(request, public_id, "publish", services.publish_case, _("The case is on the public page."))


@require_POST
def unpublish(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    return _take_step(
        request, public_id, "unpublish", services.unpublish_case, _("The case was taken off the public page.")
    )


def _types_for(student: Student, case: Case | None = None) -> Any:
    """The types a case may be given: those in use, and the one it has (a retired type stays on its cases)."""
    in_use = Q(school=student.school_id, is_active=True)
    return CaseType.objects.filter(in_use | Q(pk=case.case_type_id) if case else in_use).order_by("code")


@require_http_methods(["GET", "POST"])
def case_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    _staff(request)
    case = queries.get_case_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.MANAGE_PLAN, case.student)
    initial = {name: getattr(case, name) for name in CaseForm.TEXTS}
    initial.update(case_type=case.case_type.public_id, version=case.version)
    form = CaseForm(
        *_posted(request, files=True),
        types=_types_for(case.student, case),
        language=_language(),
        editing=True,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_case(
                actor=request.user,
                case=case,
                today=timezone.localdate(),
                expected_version=data["version"],
                case_type=data["case_type"],
                photo=data["photo"],
                remove_photo=data["remove_photo"],
                **form.texts(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("showcase:detail", public_id=case.public_id)
    context = {"form": form, "student": case.student, "case": case}
    return render(request, "showcase/case_form.html", context)


@require_GET
def case_photo(request: AuthedRequest, public_id: uuid.UUID) -> FileResponse:
    _staff(request)
    case = queries.get_case_for_user(request.user, public_id)
    if not case.photo:
        raise Http404
    return _inline(case.photo)


# ---------------------------------------------------------------------------------------------------------
# One student: their cases and consents, nominating, recording and withdrawing consent


@require_GET
def student_page(request: AuthedRequest, student_id: uuid.UUID) -> HttpResponse:
    _staff(request)
    student = get_student_for_user(request.user, student_id)
    access = student_access(request.user, student)
    consents = list(queries.consents_of(student))
    active = next((c for c in consents if c.is_active), None)
    context = {
        "student": student,
        "cases": list(queries.student_cases(student)),
        "consents": consents,
        "active": active,
        "can_manage": access.can(Perm.MANAGE_PLAN),
        "can_download": access.can(Perm.VIEW_SENSITIVE),
        "withdraw_form": WithdrawForm(initial={"version": active.version}) if active else None,
        "language": _language(),
    }
    return render(request, "showcase/student.html", context)


@require_http_methods(["GET", "POST"])
def nominate(request: AuthedRequest, student_id: uuid.UUID) -> HttpResponse:
    _staff(request)
    student = get_student_for_user(request.user, student_id)
    require_student_perm(request.user, Perm.MANAGE_PLAN, student)
    form = CaseForm(*_posted(request, files=True), types=_types_for(student), language=_language())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.nominate_case(
                actor=request.user,
                student=student,
                case_type=data["case_type"],
                today=timezone.localdate(),
                photo=data["photo"],
                comment=data["comment"],
                **form.texts(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The case was nominated; the employment office approves it."))
            return redirect("showcase:detail", public_id=case.public_id)
    return render(request, "showcase/case_form.html", {"form": form, "student": student, "case": None})


@require_http_methods(["GET", "POST"])
def record_consent(request: AuthedRequest, student_id: uuid.UUID) -> HttpResponse:
    _staff(request)
    student = get_student_for_user(request.user, student_id)
    require_student_perm(request.user, Perm.MANAGE_PLAN, student)
    active = services.active_consent(student)
    initial: dict[str, Any] = {}
    if active is not None:
        initial = {
            "name_shown": active.name_shown,
            "shown": [name for name in CONSENT_FIELDS if getattr(active, name)],
        }
    form = ConsentForm(*_posted(request, files=True), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_consent(
                actor=request.user,
                student=student,
                given_on=data["given_on"],
                name_shown=data["name_shown"],
                today=timezone.localdate(),
                evidence=data["evidence"],
                note=data["note"],
                **form.flags(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The consent was recorded."))
            return redirect("showcase:student", student_id=student.public_id)
    return render(request, "showcase/consent_form.html", {"form": form, "student": student, "active": active})


@require_POST
def withdraw_consent(request: AuthedRequest, consent_id: uuid.UUID) -> HttpResponse:
    consent = queries.get_consent_for_user(request.user, consent_id)
    student = consent.student
    is_self = student.user_id is not None and student.user_id == request.user.pk
    back = reverse("showcase:my") if is_self else reverse("showcase:student", args=[student.public_id])
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was not complete; nothing was changed."))
        return redirect(back)
    try:
        unpublished = services.withdraw_consent(
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
        text = _("The consent was withdrawn.")
        if unpublished:
            text += " " + ngettext(
                "%(count)d case was taken off the public page.",
                "%(count)d cases were taken off the public page.",
                len(unpublished),
            ) % {"count": len(unpublished)}
        messages.success(request, text)
    return redirect(back)


@require_GET
def consent_evidence(request: AuthedRequest, consent_id: uuid.UUID) -> FileResponse:
    """The signed consent form, for those who may see sensitive data; every download is in the access log."""
    consent = queries.get_consent_for_user(request.user, consent_id)
    require_student_perm(request.user, Perm.VIEW_SENSITIVE, consent.student)
    if not consent.evidence:
        raise Http404
    try:
        handle = consent.evidence.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = consent.evidence.name or ""
    log_access(
        actor=request.user,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        student=consent.student,
        fields="case_consent",
        detail=name,
        ip_address=_ip(request),
    )
    response = FileResponse(handle, as_attachment=True, filename=os.path.basename(name))
    add_never_cache_headers(response)
    return response


@require_GET
def my_consent(request: AuthedRequest) -> HttpResponse:
    """The student's own page: what they agreed to show, their cases, and the button to withdraw."""
    student = own_student_record(request.user)
    consents = list(queries.consents_of(student))
    active = next((c for c in consents if c.is_active), None)
    context = {
        "student": student,
        "consents": consents,
        "active": active,
        "cases": list(queries.student_cases(student)),
        "withdraw_form": WithdrawForm(initial={"version": active.version}) if active else None,
        "language": _language(),
    }
    return render(request, "showcase/my.html", context)


# ---------------------------------------------------------------------------------------------------------
# The office: case types


def _office(request: AuthedRequest) -> list[OrgUnit]:
    schools = queries.office_schools(request.user)
    if not schools:
        raise PermissionDenied
    return schools


def _back_to_types(school: OrgUnit) -> HttpResponse:
    return redirect(f"{reverse('showcase:types')}?{urlencode({'school': str(school.public_id)})}")


@require_GET
def type_list(request: AuthedRequest) -> HttpResponse:
    schools = _office(request)
    school = queries.pick_school(schools, request.GET.get("school"))
    context = {
        "school": school,
        "schools": schools,
        "types": queries.types_of([school]).order_by("code"),
        "language": _language(),
    }
    return render(request, "showcase/types.html", context)


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
    return _back_to_types(school)


@require_http_methods(["GET", "POST"])
def type_create(request: AuthedRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    school = queries.pick_school(_office(request), source.get("school"))
    form = CaseTypeForm(*_posted(request), initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.save_case_type(actor=request.user, school=school, **form.fields_for_service())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The case type %(name)s was added.") % {"name": created.name})
            return _back_to_types(school)
    return render(request, "showcase/type_form.html", {"form": form, "school": school, "case_type": None})


@require_http_methods(["GET", "POST"])
def type_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    case_type = queries.get_type_for_user(request.user, public_id)
    require_unit_perm(request.user, Perm.MANAGE_POLICY, case_type.school)
    initial = {name: getattr(case_type, name) for name in services.TYPE_FIELDS}
    form = CaseTypeForm(*_posted(request), initial={**initial, "version": case_type.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_case_type(
                actor=request.user,
                school=case_type.school,
                case_type=case_type,
                expected_version=form.cleaned_data["version"],
                **form.fields_for_service(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return _back_to_types(case_type.school)
    context = {"form": form, "school": case_type.school, "case_type": case_type}
    return render(request, "showcase/type_form.html", context)
