"""docs/deploy.md's steps, run for real: `bangfu collectstatic`, then `make serve` (gunicorn with
deploy/gunicorn.conf.py, production settings) on a free port, asked for /healthz, a page and a hashed static file
the way nginx passes them on. And nginx's own check of deploy/nginx/bangfu.conf, where nginx is installed."""

import gzip
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.security.conftest import free_port
from tests.security.test_production import HOST, production_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def fetch(url: str, headers: dict[str, str] | None = None) -> Answer:
    """One GET that does not follow redirects (a 3xx is an answer here)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.headers, e.read())


@pytest.fixture
def migrated_var_dir(tmp_path: Path, django_db_setup: None, django_db_blocker: Any) -> Path:
    """A var directory whose SQLite database is a copy of the test database that `migrate` built (running
    migrate again would take a minute)."""
    if connection.vendor != "sqlite":
        pytest.skip("copies the SQLite test database")
    with django_db_blocker.unblock():
        connection.ensure_connection()
        with sqlite3.connect(tmp_path / "bangfu.sqlite3") as copy:
            connection.connection.backup(copy)
    return tmp_path


def _healthy(base: str) -> bool:
    try:
        return fetch(f"{base}/healthz").status == 200
    except OSError:  # not listening yet
        return False


def _wait_for_group_to_exit(group: int) -> None:
    """make exits at once; gunicorn and its workers (same process group) finish their requests first."""
    for _ in range(300):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(group, signal.SIGKILL)


@pytest.fixture
def server(migrated_var_dir: Path) -> Iterator[str]:
    env = production_env(migrated_var_dir)
    # No shared cache here; and the make that runs this suite must not hand its flags to this one.
    for name in ("REDIS_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    env.update(ALLOWED_HOSTS=f"{HOST},127.0.0.1", BANGFU_NUM_PROXIES="1")
    subprocess.run(
        [str(BIN / "bangfu"), "collectstatic", "--no-input", "-v0"], env=env, check=True, timeout=300, cwd=ROOT
    )
    port = free_port()
    log = open(migrated_var_dir / "serve.log", "wb")  # noqa: SIM115 (closed below, after the server)
    # `-o`: the virtualenv is taken as up to date, so `make serve` does not reinstall it before serving.
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/bin/bangfu", "serve", f"PORT={port}"],
        cwd=ROOT,
        env={**env, "WEB_CONCURRENCY": "2"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while not _healthy(base):
            if process.poll() is not None:
                pytest.fail(f"make serve stopped: {(migrated_var_dir / 'serve.log').read_text()}")
            if time.monotonic() - started > 180:
                pytest.fail("make serve did not answer /healthz")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        _wait_for_group_to_exit(process.pid)
        log.close()


@pytest.mark.own_sqlite
def test_make_serve_answers_health_pages_and_hashed_static_files(server: str) -> None:
    health = fetch(f"{server}/healthz")
    assert health.status == 200
    assert health.body == b'{"status": "ok", "database": "reachable"}'

    # Plain HTTP through nginx is sent to HTTPS.
    plain = fetch(f"{server}/accounts/login/", {"Host": HOST})
    assert (plain.status, plain.headers["Location"]) == (301, f"https://{HOST}/accounts/login/")

    page = fetch(f"{server}/accounts/login/", HTTPS)
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    csrf = next(c for c in page.headers.get_all("Set-Cookie") if c.startswith("csrftoken="))
    assert "; Secure" in csrf

    # The page names the hashed copy that collectstatic wrote; WhiteNoise serves it compressed, cached for good.
    found = re.search(r'href="(/static/bangfu/bangfu\.[0-9a-f]{12}\.css)"', page.body.decode())
    assert found, page.body.decode()[:2000]
    css = fetch(f"{server}{found.group(1)}", {**HTTPS, "Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.headers["Content-Encoding"] == "gzip"
    assert "immutable" in css.headers["Cache-Control"]
    assert b".bf-nav" in gzip.decompress(css.body)


NGINX_WRAPPER = """
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{}}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {site};
}}
"""


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_the_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light): the site file is not checked")
    site = (ROOT / "deploy" / "nginx" / "bangfu.conf").read_text()
    cert, key = _self_signed(tmp_path)
    site = site.replace(f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(cert))
    site = site.replace(f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    assert "/etc/letsencrypt" not in site and "/var/log" not in site
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(NGINX_WRAPPER.format(tmp=tmp_path, site=tmp_path / "site.conf"))
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_the_nginx_site_takes_uploads_as_large_as_an_import(settings) -> None:  # type: ignore[no-untyped-def]
    site = (ROOT / "deploy" / "nginx" / "bangfu.conf").read_text()
    limit = re.search(r"^\s*client_max_body_size (\d+)m;", site, re.MULTILINE)
    assert limit is not None
    # The spreadsheet itself, plus the rest of the multipart form.
    assert settings.IMPORT_MAX_BYTES < int(limit.group(1)) * 2**20 <= settings.IMPORT_MAX_BYTES + 2**20
    # …and the app is told the truth about the scheme and the client.
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
