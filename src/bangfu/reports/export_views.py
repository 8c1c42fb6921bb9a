"""Export pages: the two ledgers from the student list (its filters applied), the placement report, subsidy and
follow-up lists, and the progress page and download of an export written in the background.

Thin views: a small export is written in the request and streamed; one of more than `inline_rows()` rows becomes
a job for the worker and the user is sent to its progress page. Every file handed out is written to the access
log (action "export", with the scope and the row count). A job is its requester's alone: anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, is_staff_member, staff_schools, units_with
from bangfu.reports import exports, xlsx
from bangfu.reports.export_forms import FollowUpExportForm, PlacementExportForm, SubsidyExportForm
from bangfu.reports.export_services import inline_rows, job_file, start_export
from bangfu.reports.models import ExportJob, ExportStatus
from bangfu.students.forms import StudentFilterForm
from bangfu.students.models import Student
from bangfu.subsidies.models import Application
from bangfu.subsidies.queries import types_of

RECENT_JOBS = 10


class AuthedRequest(HttpRequest):
    """Every view here runs behind LoginRequiredMiddleware and HtmxMiddleware."""

    user: User
    htmx: HtmxDetails


def _ip(request: AuthedRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def _log(request: AuthedRequest, kind: str, scope: str, rows: int) -> None:
    log_access(
        actor=request.user,
        action=AccessAction.EXPORT,
        fields=kind,
        detail=f"{scope}; rows={rows}",
        ip_address=_ip(request),
    )


def _deliver(request: AuthedRequest, kind: str, params: dict[str, Any]) -> HttpResponse | FileResponse:
    """Stream a small export now; queue a large one and show its progress page."""
    export = exports.build(kind, user=request.user, params=params)
    if export.count > inline_rows():
        job = start_export(
            actor=request.user,
            kind=kind,
            params=params,
            language=_language(),
            total=export.count,
            file_name=export.file_name,
            scope=export.scope,
        )
        messages.info(
            request,
            ngettext(
                "The export has %(count)d row: it is being written in the background.",
                "The export has %(count)d rows: it is being written in the background.",
                export.count,
            )
            % {"count": export.count},
        )
        return redirect("exports:job", public_id=job.public_id)
    response, rows = xlsx.stream(export.sheets, export.file_name)
    _log(request, kind, export.scope, rows)
    return response


# ---------------------------------------------------------------------------------------------------------
# The two ledgers, from the student list: the form posts to these with the list's query string.


def _list_export(request: AuthedRequest, kind: str) -> HttpResponse | FileResponse:
    exports.require_staff(request.user)
    form = StudentFilterForm(request.GET or None, user=request.user)
    if form.is_bound:
        form.is_valid()  # invalid filters are left out, as on the list page
    return _deliver(request, kind, exports.list_params(form.filters(), form.sort_key()))


@require_POST
def ledger(request: AuthedRequest) -> HttpResponse | FileResponse:
    return _list_export(request, exports.LEDGER)


@require_POST
def work_ledger(request: AuthedRequest) -> HttpResponse | FileResponse:
    return _list_export(request, exports.WORK_LEDGER)


# ---------------------------------------------------------------------------------------------------------
# The export page: the reports' forms and the user's recent exports


def _years(students: QuerySet[Student], today: dt.date) -> list[int]:
    years = {d.year for d in students.dates("expected_graduation", "year")} | {today.year}
    return sorted(years, reverse=True)


def _last_class(today: dt.date) -> int:
    """The class that left most recently: this year's from July on."""
    return today.year if today.month >= 7 else today.year - 1


def _may_report_placement(user: User) -> bool:
    return user.is_superuser or bool(units_with(user, Perm.VIEW_STUDENT))


def _forms(request: AuthedRequest, bound: str = "") -> dict[str, Any]:
    """The three report forms, the one named `bound` bound to the POST."""
    user, today = request.user, timezone.localdate()
    data = request.POST if request.method == "POST" else None
    visible = Student.objects.visible_to(user)
    context: dict[str, Any] = {"placement_form": None}
    if _may_report_placement(user):
        context["placement_form"] = PlacementExportForm(
            data if bound == exports.PLACEMENT else None,
            years=_years(exports.unit_scope(user), today),
            initial={"year": today.year, "as_of": today, "ledger_only": True},
            prefix="placement",
        )
    application_years = set(
        Application.objects.filter(student__in=visible.values("pk")).order_by().values_list("year", flat=True)
    )
    context["subsidy_form"] = SubsidyExportForm(
        data if bound == exports.SUBSIDIES else None,
        years=sorted(application_years | {today.year}, reverse=True),
        types=types_of(staff_schools(user)).order_by("school__path", "code"),
        language=_language(),
        initial={"status": exports.SUBSIDY_PAID, "year": today.year},
        prefix="subsidies",
    )
    context["follow_up_form"] = FollowUpExportForm(
        data if bound == exports.FOLLOW_UPS else None,
        years=_years(visible, today),
        initial={"year": _last_class(today), "state": exports.FOLLOW_UPS_DUE},
        prefix="follow_ups",
    )
    return context


def _page(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    context["jobs"] = ExportJob.objects.filter(created_by=request.user)[:RECENT_JOBS]
    context["inline_rows"] = inline_rows()
    return render(request, "reports/export_index.html", context)


@require_GET
def index(request: AuthedRequest) -> HttpResponse:
    exports.require_staff(request.user)
    return _page(request, _forms(request))


def _report(request: AuthedRequest, kind: str) -> HttpResponse | FileResponse:
    exports.require_staff(request.user)
    if kind == exports.PLACEMENT and not _may_report_placement(request.user):
        raise PermissionDenied
    context = _forms(request, bound=kind)
    form = context[{"placement": "placement_form", "subsidies": "subsidy_form"}.get(kind, "follow_up_form")]
    if not form.is_valid():
        return _page(request, context)
    params = form.params(timezone.localdate()) if kind == exports.FOLLOW_UPS else form.params()
    return _deliver(request, kind, params)


@require_POST
def placement(request: AuthedRequest) -> HttpResponse | FileResponse:
    return _report(request, exports.PLACEMENT)


@require_POST
def subsidies(request: AuthedRequest) -> HttpResponse | FileResponse:
    return _report(request, exports.SUBSIDIES)


@require_POST
def follow_ups(request: AuthedRequest) -> HttpResponse | FileResponse:
    return _report(request, exports.FOLLOW_UPS)


# ---------------------------------------------------------------------------------------------------------
# A background export: progress and download


def _get_job_for_user(user: User, public_id: uuid.UUID) -> ExportJob:
    """The user's own export job; anyone else's does not exist for them (404)."""
    job = ExportJob.objects.filter(created_by=user, public_id=public_id).first() if is_staff_member(user) else None
    if job is None:
        raise Http404
    return job


@require_GET
def job(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    found = _get_job_for_user(request.user, public_id)
    template = "reports/export_job.html#status" if request.htmx else "reports/export_job.html"
    return render(request, template, {"job": found})


@require_GET
def download(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse | FileResponse:
    found = _get_job_for_user(request.user, public_id)
    if found.status != ExportStatus.DONE:
        return redirect("exports:job", public_id=found.public_id)
    path = job_file(found)
    if not path.exists():
        raise Http404
    response = xlsx.download(path, found.file_name or f"{found.kind}.xlsx")
    _log(request, found.kind, found.scope, found.rows_done)
    return response
