"""The import pipeline: upload, mapping, preview, commit (all or nothing, or the valid rows only), cancel.

A job moves uploaded → previewed → (queued →) running → done | failed | cancelled. Every step reads the file
again (python-calamine reads 100,000 rows in about a second), so a preview or a commit always sees the mapping
as it is now and the database as it is now. A commit parses and checks the rows outside any transaction, then
plans and writes in ONE transaction: either every row asked for is written, or nothing is.

The web flow calls: `create_job` (from an upload), `job.headers` / `job.mapping` / `missing_columns`,
`set_mapping`, `preview`, `job.problems`, `error_report`, `start_commit` (inline for small files, else a
background task), `progress` (for polling) and `request_cancel`. The command line calls the same functions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bangfu import bulk
from bangfu.imports import headers as header_rows
from bangfu.imports import live, readers
from bangfu.imports.headers import Field
from bangfu.imports.models import FINISHED, ImportJob, JobStatus
from bangfu.imports.normalise import blank, text
from bangfu.imports.targets import Cancelled, Problem, Row, Run, Target, get_target
from bangfu.organisation.models import OrgUnit, UnitKind, User

OPTIONS = ("create_units", "skip_invalid")
# Rows at the start of a data row's only cell that mark a footer or a note, not a record.
_NOTE_WORDS = ("制表", "填表", "审核", "备注", "说明", "注：", "注:", "合计", "总计", "签字", "盖章", "Note")


def max_problems() -> int:
    return int(getattr(settings, "IMPORT_MAX_PROBLEMS", 1000))


def inline_rows() -> int:
    """Files up to this many rows are committed in the request; larger ones by the background worker."""
    return int(getattr(settings, "IMPORT_INLINE_ROWS", 2000))


def _require_may_import(actor: User, target: Target, school: OrgUnit) -> None:
    run = Run(actor=actor, school=school, today=timezone.localdate(), source="")
    if not run.holds_anywhere(target.perm):
        raise PermissionDenied


def _require_owner(actor: User, job: ImportJob) -> None:
    if not (actor.is_superuser or job.created_by_id == actor.pk):
        raise PermissionDenied


def _require_open(job: ImportJob) -> None:
    if job.status in FINISHED or job.status in (JobStatus.RUNNING, JobStatus.QUEUED):
        raise ValidationError(_("This import has already run; upload the file again to start over."), code="closed")


def _clean_options(options: Mapping[str, Any] | None) -> dict[str, bool]:
    options = options or {}
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(f"unknown import options: {sorted(unknown)}")
    return {name: bool(options.get(name, False)) for name in OPTIONS}


# --- upload and mapping ---------------------------------------------------------------------------------------


@transaction.atomic
def create_job(
    *,
    actor: User,
    target: str,
    school: OrgUnit,
    upload: IO[bytes] | File,
    name: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Check the upload (size, real type, zip bomb, damage), keep it, find its header row and map its columns."""
    found = get_target(target)
    if school.kind != UnitKind.SCHOOL:
        raise ValidationError(_("An import goes into a school."))
    _require_may_import(actor, found, school)
    file_name = os.path.basename(name or getattr(upload, "name", "") or "")
    kind = readers.check_file(upload, file_name, getattr(upload, "size", None))  # type: ignore[arg-type]
    job = ImportJob(
        created_by=actor,
        target=found.name,
        school=school,
        original_name=file_name[:255],
        kind=kind,
        options=_clean_options(options),
    )
    upload.seek(0)
    job.file.save(file_name, upload if isinstance(upload, File) else File(upload), save=False)
    _detect(job, found)
    job.save()
    return job


def _detect(job: ImportJob, target: Target, sheet_name: str | None = None) -> None:
    """Pick the sheet and the header row that map the most columns, and map them."""
    best: tuple[int, str, header_rows.Detection] | None = None
    with job.file.open("rb") as stream:
        names = [sheet_name] if sheet_name else readers.sheet_names(stream, job.kind)
        for name in names:
            # python-calamine parses a whole sheet to give its first rows: keep a lone sheet for the commit.
            whole = len(names) == 1
            sheet = readers.read_sheet(stream, job.kind, name, limit=None if whole else readers.HEAD_ROWS)
            if whole:
                job._sheet = sheet  # type: ignore[attr-defined]
            found = header_rows.detect(sheet, target.fields)
            if best is None or len(found.mapping) > best[0]:
                best = (len(found.mapping), name, found)
    if best is None:
        raise ValidationError(_("The workbook has no sheet to import."), code="empty")
    _score, job.sheet_name, detection = best
    job.header_row = detection.header_row
    job.headers = detection.headers
    job.mapping = detection.mapping


def missing_columns(job: ImportJob) -> list[Field]:
    return header_rows.missing(job.mapping, get_target(job.target).fields)


@transaction.atomic
def set_mapping(
    *,
    actor: User,
    job: ImportJob,
    mapping: Mapping[str, int | None] | None = None,
    header_row: int | None = None,
    sheet_name: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Correct what was detected: another sheet or header row (columns are mapped again), or the mapping itself
    (field key → column index, None to leave a field unmapped), or the options."""
    _require_owner(actor, job)
    _require_open(job)
    target = get_target(job.target)
    if sheet_name is not None and sheet_name != job.sheet_name:
        with job.file.open("rb") as stream:
            if sheet_name not in readers.sheet_names(stream, job.kind):
                raise ValidationError(
                    {"sheet_name": _("The workbook has no sheet called %(name)s.") % {"name": sheet_name}}
                )
        _detect(job, target, sheet_name)
    if header_row is not None and header_row != job.header_row:
        with job.file.open("rb") as stream:
            head = readers.read_sheet(stream, job.kind, job.sheet_name, limit=max(header_row, readers.HEAD_ROWS))
        if header_row < 1 or header_row > len(head.rows):
            raise ValidationError({"header_row": _("The sheet has no row %(row)d.") % {"row": header_row}})
        job.header_row = header_row
        job.headers = header_rows.headers_of(head, header_row)
        job.mapping = header_rows.match(job.headers, target.fields)
    if mapping is not None:
        keys = {f.key for f in target.fields}
        cleaned: dict[str, int] = {}
        used: dict[int, str] = {}
        for key, column in mapping.items():
            if key not in keys:
                raise ValidationError({"mapping": _("Unknown field: %(key)s") % {"key": key}})
            if column is None or column == "":
                continue
            column = int(column)
            if not 0 <= column < len(job.headers):
                raise ValidationError({"mapping": _("The sheet has no column %(n)d.") % {"n": column + 1}})
            if column in used:
                raise ValidationError(
                    {
                        "mapping": _("Column “%(header)s” is chosen for both %(a)s and %(b)s.")
                        % {
                            "header": job.headers[column] or column + 1,
                            "a": target.field(used[column]).label,
                            "b": target.field(key).label,
                        }
                    }
                )
            used[column] = key
            cleaned[key] = column
        job.mapping = cleaned
    if options is not None:
        job.options = _clean_options({**job.options, **options})
    job.status = JobStatus.UPLOADED
    job.problems, job.problems_total = [], 0
    job.save()
    return job


# --- reading the rows -----------------------------------------------------------------------------------------


def _filled_up_to_two(values: Any) -> int:
    """How many cells are not blank, counting no further than two (most rows stop at their second cell)."""
    filled = 0
    for value in values:
        if value is not None and value != "" and not (value.__class__ is str and value.isspace()):
            filled += 1
            if filled == 2:
                break
    return filled


def _is_note(cells: list[Any]) -> bool:
    filled = [c for c in cells if not blank(c)]
    return len(filled) == 1 and text(filled[0]).startswith(_NOTE_WORDS)


def _sheet(job: ImportJob) -> readers.Sheet:
    kept = getattr(job, "_sheet", None)  # read by `create_job` in this process (the command line)
    job._sheet = None  # type: ignore[attr-defined]  # used once: the rows are read from it
    if kept is not None and kept.name == job.sheet_name:
        return kept
    with job.file.open("rb") as stream:
        return readers.read_sheet(stream, job.kind, job.sheet_name)


def _rows(job: ImportJob) -> list[Row]:
    """The data rows below the header row: blank lines, footer notes and repeated header rows left out."""
    sheet = _sheet(job)
    items = [(k, c) for k, c in job.mapping.items()]
    header_words = {k: header_rows.header_key(job.headers[c]) for k, c in items if c < len(job.headers)}
    first_key, first_column = items[0] if items else ("", 0)
    first_header = job.headers[first_column] if items and first_column < len(job.headers) else None
    rows: list[Row] = []
    for index in range(job.header_row, len(sheet.rows)):
        raw = sheet.rows[index]
        width = len(raw)
        cells = {k: (raw[c] if c < width else None) for k, c in items}
        filled = _filled_up_to_two(cells.values())
        if filled == 0 or (filled == 1 and _is_note(raw)):
            continue
        if (
            first_header is not None
            and text(cells[first_key]) == first_header
            and all(header_rows.header_key(cells[k]) == w for k, w in header_words.items())
        ):
            continue  # the header repeated further down (sheets pasted one under another)
        rows.append(Row(number=index + 1, cells=cells))
    return rows


def _column_name(job: ImportJob, target: Target, key: str) -> str:
    """The column as the file's header names it; a field the file lacks by its label; "" for the whole row."""
    fields = {f.key: f for f in target.fields}
    if key in job.mapping and job.mapping[key] < len(job.headers):
        return job.headers[job.mapping[key]] or str(fields[key].label)
    return str(fields[key].label) if key in fields else ""


def _problem_dicts(job: ImportJob, target: Target, problems: list[Problem]) -> list[dict[str, Any]]:
    ordered = sorted(problems, key=lambda p: p.row)
    return [{"row": p.row, "column": _column_name(job, target, p.field), "message": p.message} for p in ordered]


def _check_mapping(job: ImportJob) -> None:
    missing = missing_columns(job)
    if missing:
        raise ValidationError(
            _("These columns are required but not found in the file: %(columns)s.")
            % {"columns": ", ".join(str(f.label) for f in missing)},
            code="unmapped",
        )


def _new_run(job: ImportJob, actor: User, today: dt.date, tick: Any = None) -> Run:
    run = Run(
        actor=actor,
        school=job.school,
        today=today,
        source=job.original_name,
        create_units=bool(job.options.get("create_units")),
    )
    if tick is not None:
        run.tick = tick
    return run


def _record(job: ImportJob, target: Target, run: Run, total: int) -> None:
    problems = _problem_dicts(job, target, run.problems)
    job.total_rows = total
    job.invalid_rows = len(run.bad_rows)
    job.valid_rows = total - job.invalid_rows
    job.created_count = run.counts.created
    job.updated_count = run.counts.updated
    job.unchanged_count = run.counts.unchanged
    job.problems = problems[: max_problems()]
    job.problems_total = len(problems)


# --- preview and commit ---------------------------------------------------------------------------------------


def check_rows(*, actor: User, job: ImportJob, today: dt.date) -> tuple[Run, list[Row]]:
    """Parse and plan every row without writing: the problems, and what a commit would create or change."""
    _check_mapping(job)
    target = get_target(job.target)
    rows = _rows(job)
    run = _new_run(job, actor, today)
    parsed = target.parse(run, rows)
    target.plan(run, parsed)
    return run, rows


def preview(*, actor: User, job: ImportJob, today: dt.date) -> ImportJob:
    """Check every row against the rules and the database; nothing is written but the job's findings."""
    _require_owner(actor, job)
    _require_open(job)
    target = get_target(job.target)
    run, rows = check_rows(actor=actor, job=job, today=today)
    _record(job, target, run, len(rows))
    job.status = JobStatus.PREVIEWED
    job.save()
    return job


def commit(*, actor: User, job: ImportJob, today: dt.date, skip_invalid: bool | None = None) -> ImportJob:
    """Import the file now, in this process. All or nothing unless `skip_invalid` (default: the job's option)."""
    _require_owner(actor, job)
    if job.status != JobStatus.QUEUED:
        _require_open(job)
    _check_mapping(job)
    if skip_invalid is not None:
        job.options = {**job.options, "skip_invalid": skip_invalid}
    return _execute(job, actor, today)


def start_commit(*, actor: User, job: ImportJob, today: dt.date, skip_invalid: bool | None = None) -> ImportJob:
    """Commit a small file now; queue a large one for the background worker (poll `progress`)."""
    from bangfu.imports.tasks import run_import

    _require_owner(actor, job)
    _require_open(job)
    _check_mapping(job)
    if skip_invalid is not None:
        job.options = {**job.options, "skip_invalid": skip_invalid}
    if job.total_rows and job.total_rows <= inline_rows():
        return _execute(job, actor, today)
    job.status = JobStatus.QUEUED
    job.save(update_fields=["status", "options"])
    result = run_import.enqueue(str(job.public_id), today.isoformat())
    ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.task_id = str(result.id)
    return job


def _execute(job: ImportJob, actor: User, today: dt.date) -> ImportJob:
    target = get_target(job.target)
    channel = live.Live(job)
    if channel.cancelled():
        return _finish(job, JobStatus.CANCELLED, _("The import was cancelled; nothing was imported."))
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at", "options"])
    run = _new_run(job, actor, today, tick=channel.tick)
    skip_invalid = bool(job.options.get("skip_invalid"))
    try:
        channel.tick("reading", 0, 1)
        rows = _rows(job)
        total = len(rows)
        parsed = target.parse(run, rows)
        del rows  # the records hold what is needed: a 100,000-row file's cells are a few hundred MB
        if run.problems and not skip_invalid:
            target.plan(run, parsed)  # so the job lists the database's objections too
            _record(job, target, run, total)
            return _refused(job)
        with transaction.atomic(), bulk.large_cache():
            plan = target.plan(run, parsed)
            _record(job, target, run, total)
            if run.problems and not skip_invalid:
                raise _Refused
            target.write(run, plan)
            channel.tick("writing", 1, 1)  # a cancel request that came during the write still rolls it back
    except _Refused:
        return _refused(job)
    except Cancelled:
        job.cancel_requested = True
        _reset_counts(job)
        return _finish(job, JobStatus.CANCELLED, _("The import was cancelled; nothing was imported."))
    except IntegrityError:
        _reset_counts(job)
        return _finish(
            job,
            JobStatus.FAILED,
            _("Someone changed the same records while the file was being imported; nothing was imported. Try again."),
        )
    job.rows_done = job.valid_rows
    if target.touches_progress and run.progress_students:
        channel.tick("progress", 0, len(run.progress_students))
        _rebuild_progress(run)
    skipped = job.invalid_rows
    message = ngettext(
        "Imported %(rows)d row: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
        "Imported %(rows)d rows: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
        job.valid_rows,
    ) % {
        "rows": job.valid_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
    }
    if skipped:
        message += " " + ngettext(
            "%(n)d row with problems was left out.", "%(n)d rows with problems were left out.", skipped
        ) % {"n": skipped}
    return _finish(job, JobStatus.DONE, message)


class _Refused(Exception):
    """Some row has a problem and the import is all or nothing."""


def _refused(job: ImportJob) -> ImportJob:
    rows = job.invalid_rows
    _reset_counts(job)
    return _finish(
        job,
        JobStatus.FAILED,
        ngettext(
            "%(n)d row has problems, so nothing was imported. Correct it, or import only the valid rows.",
            "%(n)d rows have problems, so nothing was imported. Correct them, or import only the valid rows.",
            rows,
        )
        % {"n": rows},
    )


def _reset_counts(job: ImportJob) -> None:
    job.created_count = job.updated_count = job.unchanged_count = job.rows_done = 0


def _finish(job: ImportJob, status: str, message: str) -> ImportJob:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save()
    live.clear(job)
    return job


def _rebuild_progress(run: Run) -> None:
    """Progress rows of the ledger students the import touched, after the commit, a few thousand at a time."""
    from bangfu.assistance.progress import rebuild_progress
    from bangfu.students.models import Student

    ids = sorted(run.progress_students)
    step = 5000
    for start in range(0, len(ids), step):
        rebuild_progress(today=run.today, students=Student.objects.filter(pk__in=ids[start : start + step]))
        run.tick("progress", min(start + step, len(ids)), len(ids))


# --- while it runs --------------------------------------------------------------------------------------------


def progress(job: ImportJob) -> dict[str, Any]:
    """What a progress bar shows: the status, the phase (reading, checking, planning, writing, progress),
    rows done of total and a percentage."""
    job.refresh_from_db(fields=["status", "rows_done", "total_rows", "message"])
    state = live.read(job) if job.status == JobStatus.RUNNING else None
    phases = ("reading", "checking", "planning", "writing", "progress")
    if state is None:
        percent = 100 if job.is_finished else 0
        return {"status": job.status, "phase": "", "done": job.rows_done, "total": job.total_rows, "percent": percent}
    # Each phase is a fifth of the bar; within a phase, the rows done.
    phase = state.get("phase", "reading")
    index = phases.index(phase) if phase in phases else 0
    share = state["done"] / state["total"] if state.get("total") else 0
    return {
        "status": job.status,
        "phase": phase,
        "done": state.get("done", 0),
        "total": state.get("total", 0),
        "percent": min(99, int(100 * (index + share) / len(phases))),
    }


def request_cancel(*, actor: User, job: ImportJob) -> ImportJob:
    """Ask a queued or running import to stop; a running one rolls back everything it wrote."""
    _require_owner(actor, job)
    if job.is_finished:
        raise ValidationError(_("This import has already finished."), code="finished")
    live.request_cancel(job)  # a running job holds the database's write lock on SQLite: tell it through a file
    if job.status != JobStatus.RUNNING:
        job.cancel_requested = True
        _finish(job, JobStatus.CANCELLED, _("The import was cancelled; nothing was imported."))
    return job


def error_report(*, actor: User, job: ImportJob, today: dt.date) -> bytes:
    """An .xlsx of the rows with problems, as they are in the file, with a column saying what is wrong."""
    from bangfu.imports.reports import problem_workbook

    _require_owner(actor, job)
    run, _rows_checked = check_rows(actor=actor, job=job, today=today)
    target = get_target(job.target)
    sheet = _sheet(job)
    return problem_workbook(job=job, sheet=sheet, problems=_problem_dicts(job, target, run.problems))
