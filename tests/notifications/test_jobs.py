"""The commands: `run_daily` enqueues, the real worker (`db_worker`) runs the job on the test database;
`rebuild_progress` reports rows and time."""

import datetime as dt
import io
import re
import signal

import pytest
from django.core.management import CommandError, call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from bangfu.assistance.models import StudentProgress
from bangfu.notifications.models import Notification
from tests.notifications.conftest import MONDAY, Reminders


def command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def keep_signal_handlers():  # type: ignore[no-untyped-def]
    """The worker installs its own SIGINT/SIGTERM handlers; give pytest its own back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


@pytest.mark.django_db(transaction=True)
def test_run_daily_enqueues_and_the_worker_runs_the_job(reminders: Reminders, mailoutbox, keep_signal_handlers) -> None:
    out = command("run_daily", "--date", MONDAY.isoformat())
    assert "2024-03-25" in out
    task = DBTaskResult.objects.get()
    assert task.status == TaskResultStatus.READY
    assert task.task_path == "bangfu.notifications.tasks.daily_job"
    assert not Notification.objects.exists()  # nothing happens until the worker runs

    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", verbosity=0)

    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL, task.exception_class_path
    assert task.return_value["progress_rows"] == 4
    assert task.return_value["notifications"] == 3
    assert Notification.objects.filter(user=reminders.helper, day=MONDAY).exists()
    assert len(mailoutbox) == 3


def test_run_daily_uses_todays_date_by_default(reminders: Reminders, time_machine) -> None:
    time_machine.move_to(dt.datetime(2024, 3, 24, 22, 30, tzinfo=dt.UTC))  # already 06:30 on the 25th in Shanghai
    command("run_daily")
    assert DBTaskResult.objects.get().args_kwargs["args"] == ["2024-03-25"]


def test_run_daily_inline_runs_in_the_process(reminders: Reminders, mailoutbox) -> None:
    out = command("run_daily", "--date", MONDAY.isoformat(), "--inline")
    assert not DBTaskResult.objects.exists()
    assert "4" in out and Notification.objects.count() == 3


def test_run_daily_refuses_a_bad_date(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError):
        call_command("run_daily", "--date", "25/03/2024")


def test_rebuild_progress_prints_rows_and_time(reminders: Reminders) -> None:
    StudentProgress.objects.all().delete()
    out = command("rebuild_progress", "--date", "2024-03-25")
    assert re.search(r"\b4\b.*2024-03-25.*\d+\.\d\d", out), out
    assert StudentProgress.objects.filter(computed_on=MONDAY).count() == 4


def test_rebuild_progress_for_one_school(reminders: Reminders) -> None:
    out = command("rebuild_progress", "--date", "2024-03-25", "--school", "HEBUST")
    assert re.search(r"\b4\b", out)
    out = command("rebuild_progress", "--date", "2024-03-25", "--school", "OTHER")
    assert re.search(r"\b0\b", out)
    with pytest.raises(CommandError, match="NOPE"):
        call_command("rebuild_progress", "--school", "NOPE")
