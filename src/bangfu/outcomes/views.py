"""Destination pages: a graduate's destination with its history, evidence, verification and follow-ups; the
unplaced list that counts down to zero (动态清零); the placement figures.

Thin views: fetch through the access helpers (404 outside the user's scope), bind a form, call a service (which
raises PermissionDenied → 403 for a role that may not act), then redirect or render. The unplaced list and the
figures are for unit-level viewers (leaders, the employment office, counsellors): their grants' students only.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.compliance import standing_q
from bangfu.assistance.forms import add_service_errors
from bangfu.assistance.models import HelperAssignment, StudentProgress
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.concurrency import StaleEdit
from bangfu.opportunities.queries import conversion, employers_for, recommendations_for
from bangfu.organisation.models import OrgUnit, UnitKind, User, unit_display_name
from bangfu.organisation.permissions import Perm, is_student_user, require_student_perm, unit_q, units_with
from bangfu.outcomes.forms import (
    DestinationForm,
    EvidenceForm,
    FiguresForm,
    FollowUpForm,
    UnplacedFilterForm,
    VerifyForm,
)
from bangfu.outcomes.models import Destination, DestinationCode, EvidenceKind, FollowUp
from bangfu.outcomes.queries import figures_and_total, graduates_of, snapshot_dates, struck_off, unplaced
from bangfu.outcomes.services import (
    attach_evidence,
    current_destination,
    record_destination,
    record_follow_up,
    verify_destination,
)
from bangfu.paging import CountedPaginator
from bangfu.students.models import Category, Student
from bangfu.students.queries import get_student_for_user, graduation_years, in_class_order, student_access

PAGE_SIZE = 50
# NACE: a rate is published only when at least this share of the graduates' outcomes is known.
KNOWLEDGE_THRESHOLD = 65
CONVERSION_ROWS = 50


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


def _back(student: Student) -> HttpResponse:
    return redirect("outcomes:student", public_id=student.public_id)


# ---------------------------------------------------------------------------------------------------------
# Scope of the unplaced list and the figures: students under the user's unit grants (not students helped).


def _scope(user: User) -> QuerySet[Student]:
    if user.is_superuser:
        return Student.objects.all()
    units = units_with(user, Perm.VIEW_STUDENT)
    if not units:
        raise PermissionDenied
    return Student.objects.filter(unit_q(units))


def _standing(user: User) -> QuerySet[StudentProgress]:
    """The progress rows of the ledger students in `_scope(user)`: each one's graduation year and destination
    group, kept by the services that change them, as the boards count them."""
    rows = StudentProgress.objects.all()
    return rows if user.is_superuser else rows.filter(unit_q(units_with(user, Perm.VIEW_STUDENT)))


def _among(students: QuerySet[Student], standing: QuerySet[StudentProgress]) -> QuerySet[Student]:
    """The `students` that these progress rows stand for. A list of the few ledger graduates of a school who are
    (or are not) placed finds them on the index the boards read, and the rows are then confirmed on the students'
    own records (a school's 482 unplaced of its 12,123 graduates of the year: 75 → 20 ms, docs/benchmarks.md)."""
    return students.filter(pk__in=standing.values("student_id"))


def _departments(user: User) -> QuerySet[OrgUnit]:
    """Departments in the user's scope: those under a grant, and the department holding a class or major grant."""
    departments = OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT).order_by("path")
    if user.is_superuser:
        return departments
    q = Q(pk__in=[])
    for unit in units_with(user, Perm.VIEW_STUDENT):
        q |= Q(path__startswith=unit.path)
        parts = unit.path.strip("/").split("/")
        q |= Q(path__in=["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))])
    return departments.filter(q)


def _years(students: QuerySet[Student], today: dt.date) -> list[int]:
    return sorted({*graduation_years(students), today.year}, reverse=True)


def _unit_label(name: str, name_en: str) -> str:
    return unit_display_name(name, name_en, _language())


def _url(name: str, **params: Any) -> str:
    """A page's address with its query (empty values left out)."""
    query = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return reverse(name) + ("?" + urlencode(query) if query else "")


def _students_url(**filters: Any) -> str:
    return _url("students:list", **filters)


def _with_helper(students: QuerySet[Student]) -> QuerySet[Student]:
    """Each row with its active primary helper's name and the date of the last contact."""
    helper = (
        HelperAssignment.objects.active()
        .filter(student=OuterRef("pk"))
        .annotate(shown=Coalesce(NullIf(F("helper__full_name"), Value("")), F("helper__username")))
    )
    current = Destination.objects.filter(student=OuterRef("pk"), superseded_on__isnull=True)
    return students.select_related("class_unit", "department").annotate(
        helper_name=Subquery(helper.values("shown")[:1]),
        last_contact_on=F("progress__last_contact_on"),
        code_value=Subquery(current.values("code__code")[:1]),
        code_label=Subquery(current.values("code__label")[:1]),
        code_label_en=Subquery(current.values("code__label_en")[:1]),
    )


def _label_codes(rows: Any) -> list[Student]:
    """The current destination's code in the user's language, on one page of rows."""
    rows = list(rows)
    english = _language() == "en"
    for row in rows:
        label = row.code_label_en if english else row.code_label
        row.code_shown = f"{row.code_value} {label}" if row.code_value else ""  # type: ignore[attr-defined]
    return rows


# ---------------------------------------------------------------------------------------------------------
# The unplaced list


@require_GET
def unplaced_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    students = _scope(user)
    today = timezone.localdate()
    departments = _departments(user)
    year, department = today.year, None
    form = UnplacedFilterForm(
        request.GET or None, initial={"year": year}, years=_years(students, today), departments=departments
    )
    if form.is_bound:
        form.is_valid()  # an invalid filter is shown with its error and left out
        year = form.cleaned_data.get("year") or today.year
        department = form.cleaned_data.get("department")
    cohort = graduates_of(students, year).in_ledger()  # type: ignore[attr-defined]
    standing = _standing(user).filter(graduates_in=year)
    if department is not None:
        cohort = cohort.filter(department=department)
        standing = standing.filter(department=department)
    figures = list(
        standing.values("department__public_id", "department__name", "department__name_en", "department__path")
        .annotate(graduates=Count("department"), unplaced=Count("department", filter=standing_q(placed=False)))
        .order_by("department__path")
    )
    waiting = in_class_order(_with_helper(unplaced(_among(cohort, standing.filter(standing_q(placed=False))))))
    done = _with_helper(struck_off(_among(cohort, standing.filter(standing_q(placed=True)))))
    done = done.order_by("-struck_off_on", "student_number")  # type: ignore[misc]
    unplaced_count = sum(r["unplaced"] for r in figures)
    waiting_page = CountedPaginator(waiting, PAGE_SIZE, count=unplaced_count).get_page(request.GET.get("page"))
    done_count = sum(r["graduates"] for r in figures) - unplaced_count
    done_page = CountedPaginator(done, PAGE_SIZE, count=done_count).get_page(request.GET.get("done"))
    by_department = [
        {
            "label": _unit_label(r["department__name"], r["department__name_en"]),
            "graduates": r["graduates"],
            "unplaced": r["unplaced"],
            "struck_off": r["graduates"] - r["unplaced"],
            "url": _url("outcomes:unplaced", year=year, department=r["department__public_id"]),
        }
        for r in figures
    ]
    context = {
        "form": form,
        "year": year,
        "department": department,
        "waiting": waiting_page,
        "waiting_rows": _label_codes(waiting_page),
        "done": done_page,
        "done_rows": _label_codes(done_page),
        "by_department": by_department if department is None and len(by_department) > 1 else [],
        "figures_url": _url("outcomes:figures", year=year),
    }
    return render(request, "outcomes/unplaced.html", context)


# ---------------------------------------------------------------------------------------------------------
# A graduate's destination


def _codes_for(student: Student, today: dt.date) -> list[DestinationCode]:
    """One row per code value the school uses today: its own addition wins over the national list."""
    rows = DestinationCode.objects.for_school(student.school_id, today).order_by("code", "-valid_from")
    chosen: dict[str, DestinationCode] = {}
    for row in rows:
        held = chosen.get(row.code)
        if held is None or (held.school_id is None and row.school_id is not None):
            chosen[row.code] = row
    return sorted(chosen.values(), key=lambda c: (len(c.code), c.code))


def _kinds_text(code: DestinationCode) -> str:
    return ", ".join(str(EvidenceKind(k).label) for k in code.evidence_kinds if k in EvidenceKind.values)


@require_GET
def student_outcome(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = get_student_for_user(user, public_id)
    if student.user_id == user.pk and is_student_user(user):
        return redirect("students:me")
    access = student_access(user, student)
    today = timezone.localdate()
    destinations = list(
        Destination.objects.filter(student=student)
        .select_related("code", "employer", "recorded_by", "verified_by")
        .order_by("-recorded_on", "-id")
    )
    current = next((d for d in destinations if d.superseded_on is None), None)
    language = _language()
    for d in destinations:
        d.code_shown = d.code.display(language)  # type: ignore[attr-defined]
    can_record = access.can(Perm.RECORD_OUTCOME)
    version = current.version if current else None
    needs_evidence = current is not None and bool(current.code.evidence_kinds)
    graduated = today > student.expected_graduation
    can_follow_up = access.can(Perm.LOG_ACTIVITY) and graduated
    context = {
        "student": student,
        "current": current,
        "history": [d for d in destinations if d.superseded_on is not None],
        "follow_ups": FollowUp.objects.filter(student=student).select_related("recorded_by"),
        "accepted_kinds": _kinds_text(current.code) if needs_evidence and current else "",
        "needs_evidence": needs_evidence,
        "graduated": graduated,
        "can_record": can_record,
        "can_download": access.can(Perm.VIEW_SENSITIVE),
        "can_verify": access.can(Perm.VERIFY_DESTINATION)
        and current is not None
        and bool(current.evidence)
        and not current.is_verified,
        "can_follow_up": can_follow_up,
        "evidence_form": EvidenceForm(initial={"version": version}) if can_record and needs_evidence else None,
        "verify_form": VerifyForm(initial={"version": version}),
        "follow_up_form": FollowUpForm(initial={"done_on": today}) if can_follow_up else None,
    }
    response = render(request, "outcomes/student.html", context)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def record(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = get_student_for_user(user, public_id)
    require_student_perm(user, Perm.RECORD_OUTCOME, student)
    today = timezone.localdate()
    current = current_destination(student)
    employers = employers_for(user).filter(school_id=student.school_id).order_by("name")
    form = DestinationForm(
        *_posted(request),
        # A change starts blank: the new destination shares nothing with the one it replaces.
        initial={"replaces": str(current.public_id) if current else ""},
        codes=_codes_for(student, today),
        employers=employers,
        language=_language(),
    )
    if request.method == "POST" and form.is_valid():
        in_force = str(current.public_id) if current else ""
        if form.cleaned_data["replaces"] != in_force:
            form.add_error(None, StaleEdit().messages)
        else:
            try:
                record_destination(actor=user, student=student, today=today, **form.service_kwargs())
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                messages.success(request, _("The destination was recorded."))
                return _back(student)
    context = {"student": student, "form": form, "current": current}
    return render(request, "outcomes/record.html", context)


@require_http_methods(["GET", "POST"])
def evidence_upload(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = get_student_for_user(user, public_id)
    require_student_perm(user, Perm.RECORD_OUTCOME, student)
    current = current_destination(student)
    if current is None:
        messages.error(request, _("Record the destination before attaching its evidence."))
        return _back(student)
    form = EvidenceForm(*_posted(request, files=True), initial={"version": current.version})
    if request.method == "POST" and form.is_valid():
        try:
            attach_evidence(
                actor=user,
                destination=current,
                evidence=form.cleaned_data["evidence"],
                kind=form.cleaned_data["evidence_kind"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The evidence was saved; the destination awaits verification."))
            return _back(student)
    context = {
        "student": student,
        "current": current,
        "code_shown": current.code.display(_language()),
        "accepted_kinds": _kinds_text(current.code),
        "form": form,
    }
    return render(request, "outcomes/evidence_form.html", context)


@require_POST
def verify(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = get_student_for_user(user, public_id)
    require_student_perm(user, Perm.VERIFY_DESTINATION, student)
    current = current_destination(student)
    form = VerifyForm(request.POST)
    if current is None:
        messages.error(request, _("There is no destination to verify."))
    elif not form.is_valid():
        messages.error(request, _("The form was incomplete; reload the page and try again."))
    else:
        try:
            verify_destination(
                actor=user,
                destination=current,
                today=timezone.localdate(),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as e:
            for message in e.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The destination is verified."))
    return _back(student)


@require_GET
def evidence(request: AuthedRequest, public_id: uuid.UUID, destination_id: uuid.UUID) -> FileResponse:
    user = request.user
    student = get_student_for_user(user, public_id)
    require_student_perm(user, Perm.VIEW_SENSITIVE, student)
    destination = Destination.objects.filter(student=student, public_id=destination_id).first()
    if destination is None or not destination.evidence:
        raise Http404
    try:
        handle = destination.evidence.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = destination.evidence.name or ""
    log_access(
        actor=user,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        student=student,
        fields=f"destination:{destination.evidence_kind}",
        detail=name,
        ip_address=_ip(request),
    )
    response = FileResponse(handle, as_attachment=True, filename=os.path.basename(name))
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def follow_up(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    student = get_student_for_user(user, public_id)
    require_student_perm(user, Perm.LOG_ACTIVITY, student)
    today = timezone.localdate()
    form = FollowUpForm(*_posted(request), initial={"done_on": today})
    if request.method == "POST" and form.is_valid():
        try:
            record_follow_up(
                actor=user,
                student=student,
                done_on=form.cleaned_data["done_on"],
                status=form.cleaned_data["status"],
                notes=form.cleaned_data["notes"],
                today=today,
            )
        except ValidationError as e:
            add_service_errors(form, e, aliases={"occurred_on": "done_on"})
        else:
            messages.success(request, _("The follow-up was recorded."))
            return _back(student)
    return render(request, "outcomes/follow_up_form.html", {"student": student, "form": form})


# ---------------------------------------------------------------------------------------------------------
# Placement figures


def _group_rows(by: str, figures: list[Any], year: int) -> list[dict[str, Any]]:
    """Each group's figures with its label and the student list of the group (where the list has a filter)."""
    rows = []
    if by in ("department", "major"):
        units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=[f.key for f in figures])}
        for f in figures:
            unit = units.get(f.key)
            label: str = unit.display_name(_language()) if unit else "—"
            url = _students_url(**{by: unit.public_id}) if unit else ""
            extra = {}
            if by == "department" and unit:
                extra["unplaced_url"] = _url("outcomes:unplaced", year=year, department=unit.public_id)
            rows.append({"label": label, "url": url, "figures": f, **extra})
    elif by == "category":
        for f in figures:
            label = str(Category(f.key).label) if f.key in Category.values else str(f.key)
            rows.append({"label": label, "url": _students_url(category=f.key, in_ledger="yes"), "figures": f})
    elif by == "ledger":
        for f in sorted(figures, key=lambda f: not f.key):
            label = _("Ledger students") if f.key else _("Other students")
            rows.append({"label": label, "url": _students_url(in_ledger="yes" if f.key else "no"), "figures": f})
    return rows


@require_GET
def figures(request: AuthedRequest) -> HttpResponse:
    user = request.user
    students = _scope(user)
    today = timezone.localdate()
    year, as_of, by = today.year, today, "department"
    initial = {"year": year, "as_of": as_of, "by": by}
    form = FiguresForm(request.GET or None, initial=initial, years=_years(students, today))
    if form.is_bound:
        form.is_valid()  # an invalid field is shown with its error and its default used
        year = form.cleaned_data.get("year") or today.year
        as_of = form.cleaned_data.get("as_of") or today
        by = form.cleaned_data.get("by") or ""
    cohort = graduates_of(students, year)
    grouped, total = figures_and_total(students=cohort, as_of=as_of, by=by)
    rows = _group_rows(by, grouped, year) if by else []
    recs = recommendations_for(user, cohort)
    by_helper = conversion(recs, by="helper")
    by_employer = conversion(recs, by="employer")

    def link(day: dt.date) -> str:
        return _url("outcomes:figures", year=year, as_of=day.isoformat(), by=by)

    august, december = snapshot_dates(year)
    context = {
        "form": form,
        "year": year,
        "as_of": as_of,
        "by": by,
        "total": total,
        "not_placed": total.graduates - total.placed,
        "rows": rows,
        "low_knowledge": total.graduates > 0 and (total.knowledge_rate or 0) < KNOWLEDGE_THRESHOLD,
        "threshold": KNOWLEDGE_THRESHOLD,
        "snapshots": [(august, link(august)), (december, link(december))],
        "today_url": link(today),
        "unplaced_url": _url("outcomes:unplaced", year=year),
        "by_helper": by_helper[:CONVERSION_ROWS],
        "by_employer": by_employer[:CONVERSION_ROWS],
        "conversion_cut": max(len(by_helper), len(by_employer)) > CONVERSION_ROWS,
        "conversion_rows": CONVERSION_ROWS,
    }
    return render(request, "outcomes/figures.html", context)
