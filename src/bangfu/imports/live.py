"""Progress and cancel requests of a running import, through two small files beside the uploads.

SQLite lets one connection write at a time: while an import's transaction holds the lock, neither the
worker's progress nor a user's cancel request could be written to the database, and a poll would show
nothing until the end. A JSON file (replaced atomically) carries the progress and an empty marker file the
cancel request; the job row keeps the outcome. The worker checks the marker at every progress report.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from bangfu.imports.models import ImportJob
from bangfu.imports.targets import Cancelled

_INTERVAL = 0.3  # seconds between two progress files (a cancel request is checked at every report)


def _dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports" / "live"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _progress_path(job: ImportJob) -> Path:
    return _dir() / f"{job.public_id}.json"


def _cancel_path(job: ImportJob) -> Path:
    return _dir() / f"{job.public_id}.cancel"


class Live:
    def __init__(self, job: ImportJob) -> None:
        self.progress_path = _progress_path(job)
        self.cancel_path = _cancel_path(job)
        self._written = 0.0

    def tick(self, phase: str, done: int, total: int) -> None:
        if self.cancel_path.exists():
            raise Cancelled
        now = time.monotonic()
        if done < total and now - self._written < _INTERVAL:
            return
        self._written = now
        temporary = self.progress_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"phase": phase, "done": done, "total": total}))
        os.replace(temporary, self.progress_path)

    def cancelled(self) -> bool:
        return self.cancel_path.exists()


def read(job: ImportJob) -> dict[str, Any] | None:
    try:
        return json.loads(_progress_path(job).read_text())
    except (FileNotFoundError, ValueError):
        return None


def request_cancel(job: ImportJob) -> None:
    _cancel_path(job).touch()


def clear(job: ImportJob) -> None:
    for path in (_progress_path(job), _cancel_path(job), _progress_path(job).with_suffix(".tmp")):
        path.unlink(missing_ok=True)
