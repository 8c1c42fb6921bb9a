"""Background jobs, run by the worker (`bangfu db_worker`) through the Django Tasks API."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from django.utils import timezone
from django_tasks import task

from bangfu.assistance.progress import rebuild_progress
from bangfu.notifications.services import send_reminders
from bangfu.operations.retention import purge_access_log
from bangfu.opportunities.services import expire_recommendations
from bangfu.outcomes.services import flag_long_unemployed
from bangfu.portal.accounts import send_due_follow_up_links


@task()
def daily_job(day: str) -> dict[str, int]:
    """The daily job for `day` (YYYY-MM-DD): expire recommendations whose position closed, flag graduates
    unemployed long after leaving, move every student's stage and due dates with the calendar, remind helpers and
    department leaders, and e-mail each graduate due a follow-up the one-time link to answer it. Enqueued by
    `bangfu run_daily`; running it twice is harmless (a graduate gets one link per follow-up)."""
    today = dt.date.fromisoformat(day)
    # Before the progress rebuild, so the rebuilt rows see today's expiries and flags.
    expired = expire_recommendations(today=today)
    flagged = flag_long_unemployed(today=today)
    rows = rebuild_progress(today=today)
    run = send_reminders(today=today)
    # After the rebuild, which says whose follow-up after leaving is due today.
    links = send_due_follow_up_links(now=timezone.make_aware(dt.datetime.combine(today, dt.time(8))))
    # Access-log rows past ACCESS_LOG_RETENTION_DAYS go, in batches.
    access_log_deleted = purge_access_log(today=today)
    return {
        "progress_rows": rows,
        "recommendations_expired": expired,
        "long_unemployed_flagged": flagged,
        "follow_up_links_sent": links,
        "access_log_deleted": access_log_deleted,
        **asdict(run),
    }
