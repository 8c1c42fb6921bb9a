"""A worker killed in the middle of a job: the job runs again exactly once, on another worker, and is neither lost
nor duplicated (bangfu.notifications.workers). The first test kills a real `bangfu db_worker` process with SIGKILL;
the others check the reclaim rules and that our own jobs may run again after being cut short."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from bangfu.notifications.workers import Liveness, is_alive, reclaim_lost_tasks
from bangfu.reports.export_services import job_file, start_export
from bangfu.reports.models import ExportJob, ExportStatus
from bangfu.reports.tasks import run_export
from tests.conftest import World
from tests.resilience.processes import REPO, app_env, database_url
from tests.resilience.slow_tasks import note_and_wait

S = TaskResultStatus


def _worker(worker_id: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "django", "db_worker", "--no-reload", "--no-startup-delay", "--skip-checks",
             "--interval", "0.1", "--reclaim-every", "0.5", "--worker-id", worker_id],
            cwd=REPO, env={**env, "DJANGO_SETTINGS_MODULE": "bangfu.settings"}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_for(condition, what: str, log: Path, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}:\n{log.read_text()}"
        time.sleep(0.05)


@pytest.mark.postgres
def test_a_job_whose_worker_is_killed_runs_again_once_on_another_worker(transactional_db: None, tmp_path: Path) -> None:
    env = app_env(var_dir=tmp_path / "var", database=database_url())
    log, runs = tmp_path / "workers.log", tmp_path / "runs.txt"
    (tmp_path / "hold").touch()
    result = note_and_wait.enqueue(str(tmp_path))
    workers = {name: _worker(name, env, log) for name in ("worker-a", "worker-b", "worker-c")}
    try:
        _wait_for(lambda: runs.exists() and "start" in runs.read_text(), "a worker to start the job", log)
        task = DBTaskResult.objects.get(pk=result.id)
        assert task.status == S.RUNNING and len(task.worker_ids) == 1
        first = task.worker_ids[0]
        killed = workers.pop(first)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        (tmp_path / "hold").unlink()

        # Left alone, django-tasks-db would keep the task RUNNING for ever; the two live workers reclaim it (each
        # every half second, racing), it is queued again once and run by one of them.
        def successful() -> bool:
            task.refresh_from_db()
            return task.status == S.SUCCESSFUL

        _wait_for(successful, "the job to run again", log)
        time.sleep(1.5)  # three more reclaim rounds of each worker: none may run it again
    finally:
        for worker in workers.values():
            worker.terminate()  # a graceful stop
        for worker in workers.values():
            worker.wait(timeout=30)
    task.refresh_from_db()
    assert task.status == S.SUCCESSFUL and task.return_value == 3
    assert task.worker_ids[0] == first and len(task.worker_ids) == 2 and task.worker_ids[1] in workers
    started, finished_by = (
        [line.split()[1] for line in runs.read_text().splitlines() if line.startswith(word)]
        for word in ("start", "done")
    )
    assert started[0] == str(killed.pid) and len(started) == 2
    assert finished_by == [str(workers[task.worker_ids[1]].pid)]  # one finished run, by the second worker
    assert "queued again" in log.read_text()


@pytest.fixture
def lock_files_in_tmp(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path


def _running(worker_ids: list[str]) -> DBTaskResult:
    result = note_and_wait.enqueue("/nonexistent")
    DBTaskResult.objects.filter(pk=result.id).update(status=S.RUNNING, worker_ids=worker_ids, started_at=timezone.now())
    return DBTaskResult.objects.get(pk=result.id)


def test_only_tasks_of_dead_workers_are_queued_again_and_a_third_loss_fails(db: None, lock_files_in_tmp) -> None:
    alive = Liveness("worker-alive")
    alive.hold()
    try:
        busy = _running(["worker-alive"])
        lost = _running(["worker-gone"])
        twice = _running(["worker-gone-1", "worker-gone-2"])
        thrice = _running(["worker-gone-1", "worker-gone-2", "worker-gone-3"])
        assert is_alive("worker-alive") and not is_alive("worker-gone")

        done = reclaim_lost_tasks()
        assert (done.requeued, done.failed) == (2, 1)
        states = {t.pk: (t.status, t.started_at) for t in DBTaskResult.objects.all()}
        assert states[busy.pk][0] == S.RUNNING and states[busy.pk][1] is not None
        assert states[lost.pk] == (S.READY, None) and states[twice.pk] == (S.READY, None)
        thrice.refresh_from_db()
        assert thrice.status == S.FAILED
        assert thrice.exception_class_path == "bangfu.notifications.workers.WorkerLost"
        assert "died 3 times" in thrice.traceback
        # Nothing is reclaimed twice: the requeued tasks wait for a worker, the live worker's task is its own.
        assert (reclaim_lost_tasks().requeued, reclaim_lost_tasks().failed) == (0, 0)
    finally:
        alive.release()
    assert not is_alive("worker-alive")


@pytest.mark.own_sqlite
def test_a_worker_process_that_dies_frees_its_lock(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """With SQLite, workers hold a lock on a file; the kernel drops it when the process is killed."""
    code = (
        "import django, time; django.setup();"
        "from bangfu.notifications.workers import Liveness;"
        "Liveness('worker-sqlite').hold(); print('held', flush=True); time.sleep(60)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(BANGFU_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="bangfu.settings")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, cwd=REPO)
    try:
        assert process.stdout is not None and process.stdout.readline() == b"held\n"
        settings.VAR_DIR = tmp_path
        assert is_alive("worker-sqlite")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert not is_alive("worker-sqlite")
        assert not list((tmp_path / "workers").iterdir())  # the dead worker's file is cleared away
    finally:
        process.kill()
        process.wait()


def test_an_export_cut_short_is_written_again_from_the_start(
    world: World, settings, tmp_path: Path, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")), tick=False)
    settings.EXPORT_DIR = tmp_path / "exports"
    job = start_export(
        actor=world.office, kind="ledger", params={"filters": {}, "sort": "number"}, language="zh-hans",
        total=1, file_name="台账.xlsx", scope=world.school.path,
    )  # fmt: skip
    # What a worker killed while writing leaves: the job marked running and a partial file.
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now())
    job_file(job).with_suffix(".part").write_bytes(b"PK\x03\x04 cut short")

    assert run_export.call(str(job.public_id)) == {"status": "done", "rows": 1}
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (ExportStatus.DONE, 1)
    cells = [c for row in load_workbook(job_file(job)).active.iter_rows(values_only=True) for c in row]
    assert world.own.name in cells and world.classmate.name not in cells  # the ledger: its one student
    assert not job_file(job).with_suffix(".part").exists()
    written = job_file(job).stat().st_mtime_ns
    # The queued task of a finished job does nothing.
    assert run_export.call(str(job.public_id)) == {"status": "done"}
    assert job_file(job).stat().st_mtime_ns == written
