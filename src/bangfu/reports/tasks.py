"""Background exports, run by the worker (`bangfu db_worker`) through the Django Tasks API."""

from __future__ import annotations

from django_tasks import task

from bangfu.reports.models import ExportJob, ExportStatus


@task()
def run_export(job_id: str) -> dict[str, object]:
    """Write the export job `job_id` (enqueued by `export_services.start_export`); a finished job is left alone, so
    running it twice is harmless. A job still marked running was cut short (its worker died and the task was queued
    again, see notifications/workers.py): it is written again from the start, over its partial file."""
    from bangfu.reports.export_services import run_job

    job = ExportJob.objects.select_related("created_by").get(public_id=job_id)
    if job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return {"status": job.status}
    job = run_job(job=job)
    return {"status": job.status, "rows": job.rows_done}
