"""`bangfu run_daily [--date YYYY-MM-DD] [--inline]`: enqueue the daily job (for cron or a systemd timer)."""

import datetime as dt
from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.notifications.tasks import daily_job


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise ArgumentTypeError(_("Give the date as YYYY-MM-DD.")) from e


class Command(BaseCommand):
    help = (
        "Enqueue the daily job: refresh every student's progress, then remind helpers and department leaders. "
        "The worker (bangfu db_worker) runs it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=_day, default=None, help="The day to run for (default: today).")
        parser.add_argument(
            "--inline", action="store_true", help="Run the job in this process now instead of enqueueing it."
        )

    def handle(self, *args: Any, date: dt.date | None = None, inline: bool = False, **options: Any) -> None:
        day = (date or timezone.localdate()).isoformat()
        if inline:
            result = daily_job.call(day)
            self.stdout.write(
                _(
                    "Daily job for %(day)s: %(rows)d progress rows, %(notifications)d notifications, "
                    "%(reminders)d reminders, %(mails)d e-mails."
                )
                % {
                    "day": day,
                    "rows": result["progress_rows"],
                    "notifications": result["notifications"],
                    "reminders": result["reminders"],
                    "mails": result["mails"],
                }
            )
            return
        enqueued = daily_job.enqueue(day)
        self.stdout.write(
            _("Enqueued the daily job for %(day)s (task %(id)s); the worker (bangfu db_worker) will run it.")
            % {"day": day, "id": enqueued.id}
        )
