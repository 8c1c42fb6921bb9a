"""Import pages: upload, columns, preview, commit with progress, the jobs list, templates and error reports.

Thin views over `imports.services`: a job is fetched through `queries.get_job_for_user` (someone else's job does
not exist: 404), the pipeline checks the right to import (403) and each row's scope, and every page after the
upload shows what the job's status allows, sending the user to the right step otherwise. Large files are
committed by the background worker; the job page polls its status partial with htmx and has a link that does
the same without JavaScript.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance.forms import add_service_errors
from bangfu.imports import readers, services
from bangfu.imports.forms import CommitForm, MappingForm, UploadForm
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.imports.normalise import text
from bangfu.imports.queries import get_job_for_user, jobs_of
from bangfu.imports.reports import template_workbook
from bangfu.imports.targets import Target, all_targets, get_target
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import units_with

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 25
PROBLEMS_PAGE_SIZE = 50
SAMPLE_ROWS = 3
# The order the upload form offers the targets in: what a school moving in imports first.
ORDER = ("units", "staff", "students", "activities", "destinations")


class AuthedRequest(HttpRequest):
    """Every view here runs behind LoginRequiredMiddleware and HtmxMiddleware."""

    user: User
    htmx: HtmxDetails


def targets_for(user: User) -> list[Target]:
    """The targets the user may import somewhere (the pipeline checks the school and every row again)."""
    found = [t for t in all_targets() if user.is_superuser or units_with(user, t.perm)]
    return sorted(found, key=lambda t: ORDER.index(t.name) if t.name in ORDER else len(ORDER))


def _schools_for(user: User, targets: list[Target]) -> QuerySet[OrgUnit]:
    """The schools holding (or under) a unit where the user may import something."""
    schools = OrgUnit.objects.filter(kind=UnitKind.SCHOOL).order_by("path")
    if user.is_superuser:
        return schools
    q = Q(pk__in=[])
    for unit in {u.pk: u for t in targets for u in units_with(user, t.perm)}.values():
        parts = unit.path.strip("/").split("/")
        above = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        q |= Q(path__startswith=unit.path) | Q(path__in=above)
    return schools.filter(q)


def _require_importer(user: User) -> list[Target]:
    targets = targets_for(user)
    if not targets:
        raise PermissionDenied
    return targets


def _next_step(job: ImportJob) -> HttpResponse:
    """Where a job stands: its columns, its preview, or its progress and result."""
    if job.status == JobStatus.UPLOADED:
        return redirect("imports:mapping", public_id=job.public_id)
    if job.status == JobStatus.PREVIEWED:
        return redirect("imports:preview", public_id=job.public_id)
    return redirect("imports:job", public_id=job.public_id)


def _download(data: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=file_name)
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------------------------------------
# The jobs list, the upload and the blank templates


@require_GET
def job_list(request: AuthedRequest) -> HttpResponse:
    targets = _require_importer(request.user)
    labels = {t.name: t.label for t in all_targets()}
    page = Paginator(jobs_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for job in page:
        job.target_label = labels.get(job.target, job.target)  # type: ignore[attr-defined]
    return render(request, "imports/list.html", {"page": page, "targets": targets})


@require_http_methods(["GET", "POST"])
def upload(request: AuthedRequest) -> HttpResponse:
    user = request.user
    targets = _require_importer(user)
    schools = _schools_for(user, targets)
    initial = {"target": request.GET.get("target", "")}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial, targets=targets, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.create_job(
                actor=user,
                target=data["target"],
                school=data["school"],
                upload=data["file"],
                name=data["file"].name,
                options=form.options(),
            )
        except PermissionDenied:
            form.add_error(
                None, _("You may not import this kind of file into %(school)s.") % {"school": data["school"].name}
            )
        except ValidationError as e:
            form.add_error("file", e.messages)
        else:
            return redirect("imports:mapping", public_id=job.public_id)
    return render(request, "imports/upload.html", {"form": form, "targets": targets})


@require_GET
def template(request: AuthedRequest, target: str) -> HttpResponse:
    """A blank workbook for a target in the user's language, with an example row."""
    if target not in {t.name for t in all_targets()}:
        raise Http404
    allowed = {t.name: t for t in targets_for(request.user)}
    if target not in allowed:
        raise PermissionDenied
    language = get_language() or "zh-hans"
    return _download(template_workbook(target, language), f"{allowed[target].label}.xlsx")


# ---------------------------------------------------------------------------------------------------------
# Columns


def _sheet_layout(job: ImportJob) -> tuple[list[str], list[list[str]]]:
    """The workbook's sheets, and for each header column the first values under it."""
    with job.file.open("rb") as stream:
        sheets = readers.sheet_names(stream, job.kind)
        head = readers.read_sheet(stream, job.kind, job.sheet_name, limit=job.header_row + SAMPLE_ROWS * 3)
    samples: list[list[str]] = [[] for _ in job.headers]
    for row in head.rows[job.header_row :]:
        if not any(text(c) for c in row):
            continue
        for index in range(len(job.headers)):
            if len(samples[index]) < SAMPLE_ROWS:
                samples[index].append(text(row[index]) if index < len(row) else "")
        if all(len(s) >= SAMPLE_ROWS for s in samples):
            break
    return sheets, samples


@require_http_methods(["GET", "POST"])
def mapping(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    job = get_job_for_user(user, public_id)
    if job.status not in (JobStatus.UPLOADED, JobStatus.PREVIEWED):
        return _next_step(job)
    target = get_target(job.target)
    sheets, samples = _sheet_layout(job)
    form = MappingForm(request.POST or None, job=job, target=target, sheets=sheets, samples=samples)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        options = {"create_units": data["create_units"]} if "create_units" in form.fields else None
        try:
            if form.layout_changed():
                # Another sheet finds its own header row; the number typed applies to the sheet shown.
                other_sheet = form.sheet_changed()
                services.set_mapping(
                    actor=user,
                    job=job,
                    sheet_name=data["sheet_name"] if other_sheet else None,
                    header_row=None if other_sheet else data["header_row"],
                    options=options,
                )
                messages.info(request, _("The columns were mapped again from row %(row)d.") % {"row": job.header_row})
                return redirect("imports:mapping", public_id=job.public_id)
            services.set_mapping(actor=user, job=job, mapping=data["mapping"], options=options)
            if not services.missing_columns(job):
                services.preview(actor=user, job=job, today=timezone.localdate())
                return redirect("imports:preview", public_id=job.public_id)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return redirect("imports:mapping", public_id=job.public_id)
    missing = services.missing_columns(job)
    return render(
        request,
        "imports/mapping.html",
        {"job": job, "target": target, "form": form, "missing": [f.label for f in missing]},
    )


# ---------------------------------------------------------------------------------------------------------
# Preview, error report and commit


def _preview_context(job: ImportJob, request: AuthedRequest, form: CommitForm) -> dict[str, Any]:
    problems = Paginator(job.problems, PROBLEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "job": job,
        "target": get_target(job.target),
        "problems": problems,
        "more_problems": job.problems_total - len(job.problems),
        "form": form,
    }


@require_GET
def preview(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    job = get_job_for_user(request.user, public_id)
    if job.status != JobStatus.PREVIEWED:
        return _next_step(job)
    form = CommitForm(initial={"confirm_skip": bool(job.options.get("skip_invalid"))}, job=job)
    return render(request, "imports/preview.html", _preview_context(job, request, form))


@require_GET
def error_report(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    """The rows with problems as the file has them, with a column saying what is wrong (checked again now)."""
    job = get_job_for_user(request.user, public_id)
    if services.missing_columns(job):
        return redirect("imports:mapping", public_id=job.public_id)
    data = services.error_report(actor=request.user, job=job, today=timezone.localdate())
    stem = os.path.splitext(job.original_name)[0] or "import"
    return _download(data, _("%(file)s - problems.xlsx") % {"file": stem})


@require_POST
def commit(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    job = get_job_for_user(request.user, public_id)
    if job.status != JobStatus.PREVIEWED:
        return _next_step(job)
    form = CommitForm(request.POST, job=job)
    if form.is_valid():
        try:
            job = services.start_commit(
                actor=request.user, job=job, today=timezone.localdate(), skip_invalid=form.skip_invalid
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return redirect("imports:job", public_id=job.public_id)
    return render(request, "imports/preview.html", _preview_context(job, request, form), status=400)


# ---------------------------------------------------------------------------------------------------------
# Progress, result and cancel


@require_GET
def job_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    job = get_job_for_user(request.user, public_id)
    if job.status in (JobStatus.UPLOADED, JobStatus.PREVIEWED):
        return _next_step(job)
    state = services.progress(job)
    context = {"job": job, "target": get_target(job.target), "progress": state}
    template_name = "imports/job.html#status" if request.htmx else "imports/job.html"
    return render(request, template_name, context)


@require_POST
def cancel(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    job = get_job_for_user(request.user, public_id)
    try:
        services.request_cancel(actor=request.user, job=job)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        if job.status == JobStatus.CANCELLED:
            messages.success(request, _("The import was cancelled; nothing was imported."))
        else:
            messages.info(request, _("The import will stop and undo what it wrote."))
    return redirect("imports:job", public_id=job.public_id)
