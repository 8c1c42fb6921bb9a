"""A task for the worker tests only: it notes each run in a file and waits while a `hold` file exists, so a test
can kill its worker in the middle of it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import task


@task()
def note_and_wait(folder: str) -> int:
    """Append "start PID" to runs.txt, wait while `hold` exists (60 s at most), append "done PID"."""
    runs = Path(folder) / "runs.txt"
    with runs.open("a") as out:
        out.write(f"start {os.getpid()}\n")
    deadline = time.monotonic() + 60
    while (Path(folder) / "hold").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with runs.open("a") as out:
        out.write(f"done {os.getpid()}\n")
    return len(runs.read_text().splitlines())
