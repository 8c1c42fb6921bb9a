"""Export jobs: a large export is written by the background worker, with its progress, for its requester to
download from the export directory; files are kept `EXPORT_KEEP_HOURS` hours.

Settings (read with defaults, so none is required): `EXPORT_INLINE_ROWS` (exports up to this many rows are
written in the request, default 5,000), `EXPORT_DIR` (default `var/exports`), `EXPORT_KEEP_HOURS` (default 24).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bangfu.organisation.models import User
from bangfu.reports import exports, xlsx
from bangfu.reports.models import ExportJob, ExportStatus

PROGRESS_EVERY = 0.5  # seconds between two progress writes


def inline_rows() -> int:
    """Exports up to this many rows are written in the request; larger ones by the background worker."""
    return int(getattr(settings, "EXPORT_INLINE_ROWS", 5000))


def export_dir() -> Path:
    path = Path(getattr(settings, "EXPORT_DIR", Path(settings.VAR_DIR) / "exports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_for() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "EXPORT_KEEP_HOURS", 24)))


def job_file(job: ExportJob) -> Path:
    return export_dir() / f"{job.public_id}.xlsx"


@transaction.atomic
def start_export(
    *, actor: User, kind: str, params: dict[str, Any], language: str, total: int, file_name: str, scope: str
) -> ExportJob:
    """Queue an export for the worker (`run_export`), once this transaction has committed."""
    from bangfu.reports.tasks import run_export

    if kind not in exports.BUILDERS:
        raise ValueError(f"unknown export: {kind}")
    job = ExportJob.objects.create(
        created_by=actor,
        kind=kind,
        params=params,
        language=language,
        total_rows=total,
        file_name=file_name,
        scope=scope[:300],
    )

    def enqueue() -> None:
        result = run_export.enqueue(str(job.public_id))
        ExportJob.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)
    return job


def run_job(*, job: ExportJob) -> ExportJob:
    """Write the job's workbook now, as its requester and in their language (the scope is read at run time, so a
    grant withdrawn meanwhile narrows it). Progress goes to the job row about twice a second."""
    purge_expired(now=timezone.now())
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now())
    target = job_file(job)
    partial = target.with_suffix(".part")
    last = 0.0

    def progress(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY:
            last = now
            ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

    try:
        with translation.override(job.language):
            export = exports.build(job.kind, user=job.created_by, params=job.params)
            written = xlsx.write_workbook(partial, export.sheets, on_rows=progress)
        partial.replace(target)
    except Exception:
        partial.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED,
            message=_("The export could not be written. Please try again, or ask the administrator."),
            finished_at=timezone.now(),
        )
        raise  # the worker records the error itself
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        rows_done=written,
        total_rows=written,
        file_name=export.file_name,
        scope=export.scope[:300],
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def purge_expired(*, now: dt.datetime) -> int:
    """Delete the files of finished jobs older than `keep_for()` and mark the jobs expired. Returns the count."""
    old = ExportJob.objects.filter(status=ExportStatus.DONE, finished_at__lt=now - keep_for())
    count = 0
    for job in old.only("pk", "public_id"):
        job_file(job).unlink(missing_ok=True)
        count += 1
    old.update(status=ExportStatus.EXPIRED)
    return count
