"""Background jobs, run by the worker (`bangfu db_worker`) through the Django Tasks API."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from django_tasks import task

from bangfu.assistance.progress import rebuild_progress
from bangfu.notifications.services import send_reminders


@task()
def daily_job(day: str) -> dict[str, int]:
    """The daily job for `day` (YYYY-MM-DD): move every student's stage and due dates with the calendar, then
    remind helpers and department leaders. Enqueued by `bangfu run_daily`; running it twice is harmless."""
    today = dt.date.fromisoformat(day)
    rows = rebuild_progress(today=today)
    run = send_reminders(today=today)
    return {"progress_rows": rows, **asdict(run)}
