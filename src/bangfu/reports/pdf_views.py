"""PDF downloads: a student's dossier (一人一档) and the yearly employment report of a school or department.

Thin views: fetch with the access helpers (404 outside the user's scope, 403 for a role that may not download),
build the document, write the download to the access log, send it uncached.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, require_student_perm
from bangfu.reports import yearly as yearly_report
from bangfu.reports.dossier import build_dossier, sensitive_shown
from bangfu.reports.pdf import pdf_response
from bangfu.students.queries import get_student_for_user, student_access


class AuthedRequest(HttpRequest):
    """Every view here runs behind LoginRequiredMiddleware."""

    user: User


def _ip(request: AuthedRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@require_GET
def dossier(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    """The dossier for staff who may view the student's sensitive data; the student themself may not download it."""
    student = get_student_for_user(request.user, public_id)
    require_student_perm(request.user, Perm.VIEW_SENSITIVE, student)
    access = student_access(request.user, student)
    today = timezone.localdate()
    content = build_dossier(student=student, access=access, reader=request.user, today=today)
    log_access(
        actor=request.user,
        action=AccessAction.EXPORT,
        student=student,
        fields=",".join(["dossier", *sensitive_shown(student, access)]),
        detail=f"dossier PDF: {student.student_number}",
        ip_address=_ip(request),
    )
    return pdf_response(content, f"dossier-{student.student_number}.pdf")


def _year(raw: str | None, today: dt.date) -> int:
    try:
        year = int(raw or "")
    except ValueError:
        return today.year
    return year if 2000 <= year <= 2100 else today.year


def _as_of(raw: str | None, year: int, today: dt.date) -> dt.date:
    """The date asked for, else the end of the graduation year (or today, while that year lasts)."""
    try:
        day = dt.date.fromisoformat(raw or "")
    except ValueError:
        return min(today, dt.date(year, 12, 31))
    return day if dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31) else min(today, dt.date(year, 12, 31))


@require_GET
def yearly(request: AuthedRequest) -> HttpResponse:
    """`?unit=<public_id>&year=2024&as_of=2024-12-31`: every parameter may be left out (the widest unit, this
    year, today or the year's end)."""
    user = request.user
    units = yearly_report.report_units(user)
    unit = yearly_report.pick_unit(user, units, request.GET.get("unit"))
    if unit is None:
        raise PermissionDenied
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today)
    as_of = _as_of(request.GET.get("as_of"), year, today)
    figures = yearly_report.yearly_figures(
        unit=unit, students=yearly_report.cohort_students(user, unit), year=year, as_of=as_of
    )
    content = yearly_report.build_yearly(figures, reader=user, today=today)
    log_access(
        actor=user,
        action=AccessAction.EXPORT,
        fields="yearly_report",
        detail=f"yearly report PDF: {unit.path} {unit.name}, graduates of {year} as of {as_of.isoformat()} "
        f"({figures.total.graduates} ledger graduates)",
        ip_address=_ip(request),
    )
    return pdf_response(content, f"employment-report-{unit.code}-{year}.pdf")
