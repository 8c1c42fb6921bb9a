"""The app in processes of its own, against the test database: the settings a subprocess needs to share it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def database_url(port: int | None = None) -> str:
    """The test database (PostgreSQL), optionally through another port (a proxy)."""
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{port or db['PORT'] or 5432}/{db['NAME']}"


def app_env(*, var_dir: Path, database: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for a subprocess of the app: the same secrets as this process (sessions and ID numbers made
    here are valid there), its own var directory, production-like DEBUG=0."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BANGFU_VAR_DIR", "DJANGO_SETTINGS_MODULE")}
    env.update(
        SECRET_KEY=settings.SECRET_KEY,
        BANGFU_DATA_KEY=",".join(settings.DATA_KEYS),
        BANGFU_VAR_DIR=str(var_dir),
        DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),  # so a worker can import the test-only tasks under tests/
        **extra,
    )
    if database:
        env["DATABASE_URL"] = database
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def get(port: int, path: str, *, cookies: dict[str, str] | None = None, token: str = "") -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": "127.0.0.1"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode())
    finally:
        conn.close()


@contextlib.contextmanager
def app_server(env: dict[str, str], log: Path) -> Iterator[int]:
    """gunicorn with one worker on 127.0.0.1; yields its port once it answers."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "bangfu.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--timeout", "60", "--error-logfile", "-"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if get(port, "/accounts/login/").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the app server did not start:\n" + log.read_text()
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
