"""The production settings, loaded in a process of their own with the environment `make deploy-check` sets: HTTPS
only (redirect, HSTS, secure cookies) and `bangfu check --deploy` clean at warning level."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
HOST = "bangfu.example.edu.cn"

# Asks the production app over the test client, as nginx would pass requests on, and prints what it answered.
# (Pages need the static files collected: tests/security/test_serve.py asks a real server for one.)
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="bangfu.example.edu.cn")
secure = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
plain = client.get("/accounts/login/")
health = client.get("/healthz")
print(json.dumps({
    "debug": settings.DEBUG,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_age": settings.SESSION_COOKIE_AGE,
    "static_storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "secure": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "plain": [plain.status_code, plain.get("Location")],
    "health": [health.status_code, health.get("Location")],
}))
"""


def production_env(var_dir: Path) -> dict[str, str]:
    """`make deploy-check`'s environment (fresh secrets, the example host), with a temporary var directory."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECURE_SSL_REDIRECT", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        BANGFU_ENV="production",
        SECRET_KEY=base64.b64encode(os.urandom(48)).decode(),
        ALLOWED_HOSTS=HOST,
        BANGFU_DATA_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        BANGFU_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="bangfu.settings",
    )
    return env


def test_production_answers_only_over_https_with_secure_cookies(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=production_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["debug"] is False
    assert seen["session_cookie_secure"] is True
    assert seen["csrf_cookie_secure"] is True
    assert seen["session_cookie_age"] == 7200
    assert seen["static_storage"] == "bangfu.staticfiles.HashedStaticFilesStorage"
    assert seen["secure"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    # Plain HTTP is sent to HTTPS; the load balancer's health probe is not.
    assert seen["plain"] == [301, f"https://{HOST}/accounts/login/"]
    assert seen["health"] == [200, None]


def test_the_deploy_check_is_clean_in_production(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "bangfu"), "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
