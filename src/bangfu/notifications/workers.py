"""A task whose worker died mid-job (SIGKILL, out of memory, a lost machine) runs again, once.

django-tasks-db marks a task RUNNING when a worker claims it, and nothing ever looks at it again if that worker
dies: the job would be lost. So every `bangfu db_worker` holds a lock for as long as its process lives, one that
the database server or the kernel drops when the process dies: a PostgreSQL session advisory lock on a
connection of its own (workers may run on several machines), or an flock on a file in the var directory (SQLite
means one machine). A RUNNING task whose last worker's lock is free has lost its worker; `reclaim_lost_tasks`
queues it again, re-checking the row under a lock, so of several workers reclaiming at once only one does. A
task that lost its worker `MAX_ATTEMPTS` times fails instead of killing worker after worker.

Workers reclaim when they start and then every `RECLAIM_EVERY` seconds (the `db_worker` command of this app
replaces django-tasks-db's). Liveness is not guessed from a heartbeat, so a long job is never taken from a live
worker. Behind PgBouncer, workers must connect in session mode: the advisory lock belongs to the session.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RECLAIM_EVERY = 30.0  # seconds


class WorkerLost(Exception):
    """Recorded as the error of a task whose worker died `MAX_ATTEMPTS` times while running it."""


def _advisory_key(worker_id: str) -> int:
    digest = hashlib.sha256(f"bangfu-worker:{worker_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_file(worker_id: str) -> Path:
    folder = Path(settings.VAR_DIR) / "workers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{hashlib.sha256(worker_id.encode()).hexdigest()[:32]}.lock"


class Liveness:
    """The lock a worker process holds from its start to its end (or death)."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._connection: Any = None
        self._fd: int | None = None

    def hold(self) -> None:
        if connection.vendor == "postgresql":
            # A connection of its own: the worker's own is closed and reopened between tasks.
            self._connection = connections.create_connection(DEFAULT_DB_ALIAS)
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [_advisory_key(self.worker_id)])
        else:
            self._fd = os.open(_lock_file(self.worker_id), os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._connection is not None:
            # Unlocked now: the server ends a closed session's locks a moment after the connection goes.
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_advisory_key(self.worker_id)])
            self._connection.close()
            self._connection = None
        if self._fd is not None:
            _lock_file(self.worker_id).unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def is_alive(worker_id: str) -> bool:
    """Whether the worker `worker_id` still holds its lock (a process that never took one counts as dead)."""
    if connection.vendor == "postgresql":
        key = _advisory_key(worker_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if not cursor.fetchone()[0]:
                return True
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return False
    path = _lock_file(worker_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        path.unlink(missing_ok=True)  # the dead worker's file
        return False
    finally:
        os.close(fd)


@dataclass
class Reclaimed:
    requeued: int = 0
    failed: int = 0


def reclaim_lost_tasks() -> Reclaimed:
    """Queue again each RUNNING task whose worker died; fail it after `MAX_ATTEMPTS` lost workers."""
    done = Reclaimed()
    running = DBTaskResult.objects.running().values_list("id", "worker_ids")
    for task_id, worker_ids in list(running):
        if worker_ids and is_alive(worker_ids[-1]):
            continue
        with transaction.atomic():
            task = DBTaskResult.objects.select_for_update().filter(pk=task_id, status=TaskResultStatus.RUNNING).first()
            if task is None or task.worker_ids != worker_ids:
                continue  # finished, or reclaimed and claimed again, meanwhile
            if len(worker_ids) >= MAX_ATTEMPTS:
                task.set_failed(
                    WorkerLost(f"The worker running this task died {len(worker_ids)} times; it is not run again.")
                )
                done.failed += 1
                logger.error("Task %s (%s) lost its worker %d times: failed", task_id, task.task_path, len(worker_ids))
                continue
            task.status = TaskResultStatus.READY
            task.started_at = None
            task.save(update_fields=["status", "started_at"])
            done.requeued += 1
            logger.warning(
                "Task %s (%s) lost its worker %s: queued again", task_id, task.task_path, worker_ids[-1:] or "?"
            )
    return done


class Reclaimer(threading.Thread):
    """Reclaims every `every` seconds in the background of a worker, on a database connection of its own."""

    def __init__(self, every: float) -> None:
        super().__init__(name="bangfu-reclaimer", daemon=True)
        self.every = every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                reclaim_lost_tasks()
            except DatabaseError:
                logger.exception("Could not reclaim the tasks of dead workers; trying again in %s s", self.every)
            finally:
                connections.close_all()  # this thread's connections only

    def stop(self) -> None:
        self.stopped.set()
