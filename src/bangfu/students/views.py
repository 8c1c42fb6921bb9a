"""Student pages: the list, the student page, record and ledger forms, the department ledger, "my record".

Thin views: fetch through `students.queries` (404 outside the user's scope), bind a form, call a service
(which raises PermissionDenied → 403 for a role that may not act), then redirect or render.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.queries import staff_in_scope
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, is_student_user, require_student_perm, units_with
from bangfu.paging import CountedPaginator
from bangfu.students import queries
from bangfu.students.forms import (
    EvidenceForm,
    LedgerEditForm,
    LedgerFilterForm,
    LedgerJoinForm,
    LedgerLeaveForm,
    StudentFilterForm,
    StudentForm,
    add_service_errors,
)
from bangfu.students.models import Category, LedgerCategory, LedgerEntry, Student
from bangfu.students.services import (
    attach_category_evidence,
    create_student,
    join_ledger,
    leave_ledger,
    reveal_id_number,
    update_ledger_entry,
    update_student,
)


class AuthedRequest(HttpRequest):
    """Every view here runs behind LoginRequiredMiddleware and HtmxMiddleware."""

    user: User
    htmx: HtmxDetails


# The sensitive fields of a ledger entry: showing any of them is written to the access log.
SENSITIVE_FIELDS = ("family_situation", "disability_level")


def _posted(request: AuthedRequest, *, files: bool = False) -> tuple[Any, ...]:
    """Form data for a POST (even an empty one, which must fail validation), nothing for a GET."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def _ip(request: AuthedRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _log_sensitive_view(request: AuthedRequest, student: Student, entry: LedgerEntry | None) -> None:
    """One access-log row for a page that shows a student's family situation or disability level."""
    shown = [f for f in SENSITIVE_FIELDS if entry is not None and getattr(entry, f)]
    if shown:
        log_access(
            actor=request.user,
            action=AccessAction.VIEW_SENSITIVE,
            student=student,
            fields=",".join(shown),
            detail=request.path,
            ip_address=_ip(request),
        )


def _open_entry(student: Student) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(student=student, left_on__isnull=True).prefetch_related("categories").first()


def _can_assign_helpers(request: AuthedRequest) -> bool:
    return request.user.is_superuser or bool(units_with(request.user, Perm.ASSIGN_HELPER))


# ---------------------------------------------------------------------------------------------------------
# The list


@require_GET
def student_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if is_student_user(user):
        return redirect("students:me")
    form = StudentFilterForm(request.GET or None, user=user)
    if form.is_bound:
        form.is_valid()  # invalid fields are shown with their error and left out of the filter
    filters = form.filters()
    students = queries.apply_student_filters(queries.student_list_queryset(user), **filters)
    students = queries.sort_students(students, form.sort_key())
    page = Paginator(students, queries.PAGE_SIZE).get_page(request.GET.get("page"))
    can_assign = _can_assign_helpers(request)
    context = {
        "form": form,
        "filtering": any(v for k, v in filters.items() if k != "q") or form.sort_key() != "number" or bool(form.errors),
        "page": page,
        "sort": form.sort_key(),
        "can_assign": can_assign,
        "assignable_helpers": staff_in_scope(user) if can_assign else [],
        "today": timezone.localdate(),
        "can_create": user.is_superuser or bool(units_with(user, Perm.CREATE_STUDENT)),
    }
    template = "students/list.html#results" if request.htmx and not request.htmx.boosted else "students/list.html"
    return render(request, template, context)


# ---------------------------------------------------------------------------------------------------------
# The student page


@require_GET
def student_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = queries.get_student_for_user(user, public_id)
    if student.user_id == user.pk and is_student_user(user):
        return redirect("students:me")
    access = queries.student_access(user, student)
    entries = list(queries.ledger_history(student))
    open_entry = next((e for e in entries if e.left_on is None), None)
    assignments = list(queries.assignment_history(student))
    for a in assignments:
        # A hand-over note is for the helper it was written for, and for the leaders who assign helpers.
        a.note_visible = bool(a.handover_note) and (access.is_leader or a.helper_id == user.pk)  # type: ignore[attr-defined]
    current = next((a for a in assignments if a.ended_on is None and a.is_primary), None)
    show_sensitive = access.can(Perm.VIEW_SENSITIVE)
    if show_sensitive:
        _log_sensitive_view(request, student, open_entry)
    context = {
        "student": student,
        "open_entry": open_entry,
        "entries": entries,
        "assignments": assignments,
        "current_assignment": current,
        "profile_changes": queries.profile_changes(student),
        "show_sensitive": show_sensitive,
        "can_reveal": access.can(Perm.REVEAL_ID) and bool(student.id_number_cipher),
        "can_edit": access.can(Perm.EDIT_STUDENT),
        "can_manage_ledger": access.can(Perm.MANAGE_LEDGER),
        "can_assign": access.can(Perm.ASSIGN_HELPER),
    }
    response = render(request, "students/detail.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
def reveal_id(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    student = queries.get_student_for_user(request.user, public_id)
    if not student.id_number_cipher:
        require_student_perm(request.user, Perm.REVEAL_ID, student)
        messages.info(request, _("No ID number is recorded for this student."))
        return redirect("students:detail", public_id=student.public_id)
    number = reveal_id_number(actor=request.user, student=student, ip_address=_ip(request))
    context = {"student": student, "revealed_id": number, "can_reveal": True}
    template = "students/detail.html#id-number" if request.htmx else "students/reveal_id.html"
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


def _category_of(student: Student, category_id: int, *, open_only: bool) -> LedgerCategory:
    rows = LedgerCategory.objects.select_related("entry").filter(pk=category_id, entry__student=student)
    if open_only:
        rows = rows.filter(entry__left_on__isnull=True)
    row = rows.first()
    if row is None:
        raise Http404
    return row


@require_GET
def evidence(request: AuthedRequest, public_id: uuid.UUID, category_id: int) -> FileResponse:
    student = queries.get_student_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.VIEW_SENSITIVE, student)
    row = _category_of(student, category_id, open_only=False)
    if not row.evidence:
        raise Http404
    try:
        handle = row.evidence.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = row.evidence.name or ""
    log_access(
        actor=request.user,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        student=student,
        fields=row.category,
        detail=name,
        ip_address=_ip(request),
    )
    response = FileResponse(handle, as_attachment=True, filename=os.path.basename(name))
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def evidence_upload(request: AuthedRequest, public_id: uuid.UUID, category_id: int) -> HttpResponse:
    student = queries.get_student_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.MANAGE_LEDGER, student)
    row = _category_of(student, category_id, open_only=True)
    form = EvidenceForm(*_posted(request, files=True))
    if request.method == "POST" and form.is_valid():
        try:
            attach_category_evidence(
                actor=request.user,
                entry=row.entry,
                category=row.category,
                evidence=form.cleaned_data["evidence"],
                verified_on=form.cleaned_data["verified_on"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The evidence was saved."))
            return redirect("students:detail", public_id=student.public_id)
    return render(request, "students/evidence_form.html", {"student": student, "row": row, "form": form})


# ---------------------------------------------------------------------------------------------------------
# Creating and editing student records


@require_http_methods(["GET", "POST"])
def student_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or units_with(user, Perm.CREATE_STUDENT)):
        raise PermissionDenied
    form = StudentForm(*_posted(request), classes=queries.class_choices(user, Perm.CREATE_STUDENT))
    if request.method == "POST" and form.is_valid():
        try:
            student = create_student(actor=user, **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": student.name})
            return redirect("students:detail", public_id=student.public_id)
    return render(request, "students/student_form.html", {"form": form, "student": None})


EDITABLE = (
    "student_number",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "home_province",
    "home_city",
    "home_county",
    "address",
    "phone",
    "level",
    "program_years",
    "cohort",
    "enrolled_on",
    "expected_graduation",
    "status",
    "version",
)


@require_http_methods(["GET", "POST"])
def student_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = queries.get_student_for_user(user, public_id)
    require_student_perm(user, Perm.EDIT_STUDENT, student)
    classes = queries.class_choices(user, Perm.EDIT_STUDENT) | OrgUnit.objects.filter(pk=student.class_unit_id)
    initial: dict[str, Any] = {f: getattr(student, f) for f in EDITABLE}
    initial["class_unit"] = student.class_unit
    form = StudentForm(*_posted(request), initial=initial, classes=classes, editing=True)
    if request.method == "POST" and form.is_valid():
        changes = form.service_kwargs()
        id_number = changes.pop("id_number", "") or None  # blank keeps the number on file
        try:
            update_student(
                actor=user,
                student=student,
                expected_version=form.cleaned_data["version"],
                id_number=id_number,
                **changes,
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("students:detail", public_id=student.public_id)
    return render(request, "students/student_form.html", {"form": form, "student": student})


# ---------------------------------------------------------------------------------------------------------
# Joining, editing and leaving the ledger


def _entry_fields(form: LedgerJoinForm | LedgerEditForm) -> dict[str, Any]:
    d = form.cleaned_data
    return {
        "categories": d["categories"],
        "hardship_level": d["hardship_level"],
        "disability_level": d["disability_level"],
        "family_situation": d["family_situation"],
        "intends_to_work": d["intends_to_work"],
        # A blank source keeps the recorded one (or the service's default when joining).
        **({"source": d["source"]} if d["source"] else {}),
    }


def _ledger_form_page(
    request: AuthedRequest, student: Student, form: Any, action: str, entry: Any = None
) -> HttpResponse:
    return render(
        request, "students/ledger_form.html", {"student": student, "form": form, "action": action, "entry": entry}
    )


@require_http_methods(["GET", "POST"])
def ledger_join(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    student = queries.get_student_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.MANAGE_LEDGER, student)
    form = LedgerJoinForm(*_posted(request), initial={"joined_on": timezone.localdate(), "intends_to_work": True})
    if request.method == "POST" and form.is_valid():
        try:
            join_ledger(
                actor=request.user,
                student=student,
                joined_on=form.cleaned_data["joined_on"],
                reason=form.cleaned_data["reason"],
                **_entry_fields(form),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(name)s joined the ledger.") % {"name": student.name})
            return redirect("students:detail", public_id=student.public_id)
    return _ledger_form_page(request, student, form, "join")


def _require_open_entry(request: AuthedRequest, student: Student) -> LedgerEntry | None:
    entry = _open_entry(student)
    if entry is None:
        messages.error(request, _("%(name)s is not in the ledger.") % {"name": student.name})
    return entry


@require_http_methods(["GET", "POST"])
def ledger_edit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    student = queries.get_student_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.MANAGE_LEDGER, student)
    entry = _require_open_entry(request, student)
    if entry is None:
        return redirect("students:detail", public_id=student.public_id)
    initial = {
        "categories": [c.category for c in entry.categories.all()],
        "version": entry.version,
        **{f: getattr(entry, f) for f in ("hardship_level", "disability_level", "family_situation", "intends_to_work")},
        "source": entry.source,
    }
    form = LedgerEditForm(*_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_ledger_entry(
                actor=request.user,
                entry=entry,
                expected_version=form.cleaned_data["version"],
                **_entry_fields(form),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The ledger entry was saved."))
            return redirect("students:detail", public_id=student.public_id)
    if request.method == "GET":
        _log_sensitive_view(request, student, entry)  # the form shows the recorded values
    return _ledger_form_page(request, student, form, "edit", entry)


@require_http_methods(["GET", "POST"])
def ledger_leave(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    student = queries.get_student_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.MANAGE_LEDGER, student)
    entry = _require_open_entry(request, student)
    if entry is None:
        return redirect("students:detail", public_id=student.public_id)
    form = LedgerLeaveForm(*_posted(request), initial={"left_on": timezone.localdate(), "version": entry.version})
    if request.method == "POST" and form.is_valid():
        try:
            leave_ledger(
                actor=request.user,
                entry=entry,
                left_on=form.cleaned_data["left_on"],
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(name)s left the ledger.") % {"name": student.name})
            return redirect("students:detail", public_id=student.public_id)
    return _ledger_form_page(request, student, form, "leave", entry)


# ---------------------------------------------------------------------------------------------------------
# The department ledger page and "my record"

MOVEMENTS_SHOWN = 100


@require_GET
def ledger(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if is_student_user(user):
        return redirect("students:me")
    form = LedgerFilterForm(request.GET or None, user=user)
    department = form.cleaned_data.get("department") if form.is_bound and form.is_valid() else None
    semester = queries.semester_of(timezone.localdate())
    entries = queries.ledger_entries_in_scope(user, department)
    figures = queries.ledger_figures(entries, semester)
    movements = queries.semester_movements(entries, semester)
    students = queries.in_class_order(
        queries.apply_student_filters(queries.student_list_queryset(user), department=department, in_ledger=True)
    )
    context = {
        "form": form,
        "department": department or "",
        "semester": semester,
        "figures": figures,
        "by_category": [
            (code, label, figures["by_category"][code])
            for code, label in Category.choices
            if figures["by_category"].get(code)
        ],
        "joined": movements["joined"][:MOVEMENTS_SHOWN],
        "left": movements["left"][:MOVEMENTS_SHOWN],
        "movements_shown": MOVEMENTS_SHOWN,
        # The students in the ledger are its open entries (one each, a database constraint): counted above.
        "page": CountedPaginator(students, queries.PAGE_SIZE, count=figures["in_ledger"]).get_page(
            request.GET.get("page")
        ),
    }
    return render(request, "students/ledger.html", context)


@require_GET
def me(request: AuthedRequest) -> HttpResponse:
    """ "My record" is the student portal's home now; the old address keeps working (404 for non-students)."""
    queries.own_student_record(request.user)
    return redirect("portal:home")
