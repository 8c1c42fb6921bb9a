"""Fixtures for the security tests: a cache of their own, and a real Redis for the shared counters."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.core.cache import caches

from tests.conftest import IN_CI

REDIS_URL = "redis://127.0.0.1:6379/15"  # db 15 only: the tests flush it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def own_cache(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """An empty in-memory cache of these tests' own, so counters left by other tests cannot leak in."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bangfu-security"}
    }
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Redis at 127.0.0.1:6379 (db 15), else a private redis-server started for the session."""
    if _answers(6379):
        yield REDIS_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("No Redis at 127.0.0.1:6379 and no redis-server: CI must install Debian's redis-server")
        pytest.skip("No Redis at 127.0.0.1:6379 and no redis-server to start")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if _answers(port):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/15"
    finally:
        server.terminate()
        server.wait(timeout=10)
