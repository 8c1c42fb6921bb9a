"""Dashboards: the province's (each school at a glance), the school leader's, the department leader's "clearing to
zero" board (动态清零) and the helper's.

Thin views: who may open which board is read from the grants (`compliance.leader_units`, 403 for a role without
one), a department outside the user's scope is 404, and every figure comes from `reports.dashboards`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.compliance import departments_in_scope, get_department, leader_units, single_department
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import is_staff_member
from bangfu.reports import dashboards

PAGE_SIZE = 50  # students of the zero board per page
YEARS_AROUND = 10  # how far from this year a `year=` may ask


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def _year(request: AuthedRequest, today: dt.date) -> int:
    """The graduation year asked for (`year=`), or this year for anything else."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return today.year
    return year if abs(year - today.year) <= YEARS_AROUND else today.year


def _year_choices(user: User, year: int, today: dt.date, schools: list[OrgUnit] | None = None) -> list[int]:
    """The years the boards offer: from the first to the last graduation of the ledger students the user sees."""
    return sorted({*dashboards.ledger_graduation_years(user, schools), year, today.year}, reverse=True)


def _schools(units: list[OrgUnit]) -> list[OrgUnit]:
    return [u for u in units if u.kind == UnitKind.SCHOOL]


@require_GET
def index(request: AuthedRequest) -> HttpResponse:
    """Each role to its board: a provincial grant to the province's, school-wide leaders and the office to the
    school's, department leaders to their department's, every other staff member to their own students'."""
    user = request.user
    units = leader_units(user)
    if dashboards.provinces_of(user, units) and not user.is_superuser:
        return redirect("reports:province")
    if _schools(units):
        return redirect("reports:school")
    if units:
        return redirect("reports:department")
    if is_staff_member(user):
        return redirect("reports:helper")
    raise PermissionDenied


@require_GET
def province(request: AuthedRequest) -> HttpResponse:
    """Every school under the user's provincial grant; 403 without one."""
    user = request.user
    provinces = dashboards.provinces_of(user, leader_units(user))
    if not provinces:
        raise PermissionDenied
    today = timezone.localdate()
    year = _year(request, today)
    board = dashboards.province_board(user, provinces, year=year)
    context: dict[str, Any] = {
        "board": board,
        "year": year,
        "years": _year_choices(user, year, today, [row.school for row in board.schools]),
        "today": today,
        "tabs": _tabs(user, "province"),
    }
    return render(request, "reports/dashboard_province.html", context)


@require_GET
def school(request: AuthedRequest) -> HttpResponse:
    user = request.user
    units = leader_units(user)
    if not _schools(units):
        raise PermissionDenied
    today = timezone.localdate()
    year = _year(request, today)
    context: dict[str, Any] = {
        "board": dashboards.school_board(user, units, year=year, today=today),
        "year": year,
        "years": _year_choices(user, year, today),
        "today": today,
        "tabs": _tabs(user, "school"),
    }
    return render(request, "reports/dashboard_school.html", context)


@require_GET
def department(request: AuthedRequest) -> HttpResponse:
    user = request.user
    units = leader_units(user)
    if not units:
        raise PermissionDenied
    asked = request.GET.get("department")
    departments = list(departments_in_scope(units))
    chosen = get_department(units, asked) if asked else single_department(units)
    if chosen is None:
        if not departments:
            raise Http404
        chosen = departments[0]
    today = timezone.localdate()
    year = _year(request, today)
    page = Paginator(dashboards.unplaced_students(user, chosen, year), PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "board": dashboards.department_board(user, chosen, year=year, today=today),
        "page": page,
        "rows": dashboards.zero_rows(page, today),
        "departments": departments if len(departments) > 1 else [],
        "year": year,
        "years": _year_choices(user, year, today),
        "today": today,
        "tabs": _tabs(user, "department"),
    }
    return render(request, "reports/dashboard_department.html", context)


@require_GET
def helper(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not is_staff_member(user):
        raise PermissionDenied
    context = {"board": dashboards.helper_board(user), "tabs": _tabs(user, "helper"), "today": timezone.localdate()}
    return render(request, "reports/dashboard_helper.html", context)


def _tabs(user: User, current: str) -> list[tuple[str, str, bool]]:
    """The boards this user may open (name, url name, current); shown when there is more than one."""
    units = leader_units(user)
    names = []
    if dashboards.provinces_of(user, units):
        names.append("province")
    if _schools(units):
        names.append("school")
    if units:
        names.append("department")
    names.append("helper")
    return [(name, f"reports:{name}", name == current) for name in names] if len(names) > 1 else []
