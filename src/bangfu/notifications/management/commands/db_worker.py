"""`bangfu db_worker`: django-tasks-db's worker, which also runs again the tasks of workers that died.

This app comes before django_tasks_db in INSTALLED_APPS, so this command replaces theirs under the same name and
with the same options (see bangfu.notifications.workers), plus `--reclaim-every`.
"""

from argparse import ArgumentParser
from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from bangfu.notifications.workers import RECLAIM_EVERY, Liveness, Reclaimer, reclaim_lost_tasks


class Command(DatabaseWorkerCommand):
    help = "Run a database background worker; tasks whose worker died are queued again (at most 3 attempts)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--reclaim-every",
            type=float,
            default=RECLAIM_EVERY,
            help="Seconds between two looks for tasks of dead workers (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        liveness = Liveness(options["worker_id"])
        liveness.hold()  # before the first claim, so no task of this worker ever looks lost
        reclaim_lost_tasks()
        reclaimer = Reclaimer(options.pop("reclaim_every"))
        reclaimer.start()
        try:
            super().handle(*args, **options)
        finally:
            reclaimer.stop()
            liveness.release()
