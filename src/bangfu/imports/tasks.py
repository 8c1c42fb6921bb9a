"""Background imports, run by the worker (`bangfu db_worker`) through the Django Tasks API."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bangfu.imports.models import ImportJob, JobStatus


@task()
def run_import(job_id: str, day: str) -> dict[str, object]:
    """Commit the import job `job_id` as its uploader, judging dates on `day` (YYYY-MM-DD).

    Enqueued by `services.start_commit`; a job cancelled while it waited is left alone. A job found `running` was
    started by a worker that died (`notifications.workers` hands a task to another worker only then): its write was
    one transaction that never committed, so it runs again from the start."""
    from bangfu.imports.services import commit

    job = ImportJob.objects.select_related("created_by", "school").get(public_id=job_id)
    if job.status == JobStatus.RUNNING:
        job.status = JobStatus.QUEUED
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
    if job.status != JobStatus.QUEUED:
        return {"status": job.status}
    job = commit(actor=job.created_by, job=job, today=dt.date.fromisoformat(day))
    return {
        "status": job.status,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "invalid": job.invalid_rows,
    }
