"""Leaders' pages: compliance of helpers with the standards (department and school views), and the school's
policy settings (employment office).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from bangfu.assistance import compliance as figures
from bangfu.assistance import policy_queries
from bangfu.assistance.forms import add_service_errors
from bangfu.assistance.labels import meter_views, risk_reason_text
from bangfu.assistance.policy_forms import PolicyForm, check_together, initial_from, standard_formset
from bangfu.assistance.rules import rules_from_policy
from bangfu.assistance.services import save_policy
from bangfu.dates import add_months, month_start
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, require_unit_perm

LIST_SIZE = 25  # rows of the late and at-risk lists per page


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


# ---------------------------------------------------------------------------------------------------------
# Compliance


def _explained(students: Any) -> list[Any]:
    """Attach the translated meters and risk reasons to each student of one page of a list."""
    rows = list(students)
    for student in rows:
        progress = student.progress
        student.behind = [m for m in meter_views(progress.meters) if not m.met]  # type: ignore[attr-defined]
        student.reasons = [risk_reason_text(r) for r in progress.risk_reasons]  # type: ignore[attr-defined]
    return rows


@require_GET
def compliance(request: AuthedRequest) -> HttpResponse:
    """Department view (each helper of one department) or school view (each department), by the user's scope."""
    user = request.user
    units = figures.leader_units(user)
    if not units:
        raise PermissionDenied
    asked = request.GET.get("department")
    department = figures.get_department(units, asked) if asked else figures.single_department(units)
    if department is None:
        departments = figures.departments_in_scope(units)
        context: dict[str, Any] = {
            "rows": figures.department_rows(user, departments),
            "total": figures.total_row(user, _("All departments")),
        }
        return render(request, "assistance/leader/school.html", context)

    late = Paginator(figures.late_students(user, department), LIST_SIZE).get_page(request.GET.get("late"))
    risky = Paginator(figures.at_risk_students(user, department), LIST_SIZE).get_page(request.GET.get("risky"))
    context = {
        "department": department,
        "rows": figures.helper_rows(user, department),
        "total": figures.total_row(user, _("Whole department"), department=department.public_id),
        "late": late,
        "late_rows": _explained(late),
        "risky": risky,
        "risky_rows": _explained(risky),
        "school_view": figures.single_department(units) is None,
        "here": {"department": str(department.public_id)},
    }
    return render(request, "assistance/leader/department.html", context)


# ---------------------------------------------------------------------------------------------------------
# Policy


def _next_month(today: dt.date) -> dt.date:
    return add_months(month_start(today), 1)


@require_http_methods(["GET", "POST"])
def policy(request: AuthedRequest) -> HttpResponse:
    user = request.user
    schools = list(policy_queries.policy_schools(user))
    if not schools:
        raise PermissionDenied
    school = policy_queries.get_policy_school(schools, request.GET.get("school"))
    require_unit_perm(user, Perm.MANAGE_POLICY, school)
    today = timezone.localdate()
    versions = policy_queries.versions(school, today)
    in_force = next(v for v in versions if v.status == policy_queries.Status.IN_FORCE)
    base = policy_queries.scheduled_version(school, request.GET.get("base"), today)
    if base is not None:
        initial, rows = initial_from(rules_from_policy(base), base.valid_from)
        initial["note"] = base.note
    else:
        initial, rows = initial_from(in_force.rules, _next_month(today))

    posted = request.POST if request.method == "POST" else None
    form = PolicyForm(posted, initial=initial, today=today)
    formset = standard_formset(posted, initial=rows)
    if posted is not None and form.is_valid() and formset.is_valid() and check_together(form, formset):
        try:
            version = save_policy(
                actor=user,
                school=school,
                valid_from=form.cleaned_data["valid_from"],
                standards=formset.standards(),
                **form.settings(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("The new version applies from %(date)s; progress has been recalculated.")
                % {"date": version.valid_from.isoformat()},
            )
            return redirect(reverse("assistance:policy") + "?" + urlencode({"school": str(school.public_id)}))
    context = {
        "school": school,
        "schools": schools,
        "versions": versions,
        "in_force": in_force,
        "base": base,
        "form": form,
        "formset": formset,
        "today": today,
    }
    return render(request, "assistance/leader/policy.html", context)
