"""Logging in and out, lock-out, language choice, health check, production settings."""

import json
import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.factories import PASSWORD


def test_login_page_is_chinese_by_default_whatever_the_browser_says(client, db, chinese_default):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_pages_need_a_login(client, db):
    response = client.get("/students/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_helper_logs_in_with_password_and_is_sent_home(client, world):
    response = client.post(reverse("login"), {"username": "helper", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/healthz").status_code == 200


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, world):
    for _ in range(5):
        client.post(reverse("login"), {"username": "helper", "password": "wrong-password"})
    response = client.post(reverse("login"), {"username": "helper", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_passwords_are_hashed_with_argon2(world):
    assert world.helper.password.startswith("argon2")


def test_language_choice_is_kept_on_the_user(client, world, as_user):
    as_user(world.helper).post(reverse("switch_language"), {"language": "en", "next": "/students/"})
    world.helper.refresh_from_db()
    assert world.helper.language == "en"
    page = client.get(reverse("password_change")).content.decode()
    assert "Change password" in page


def test_language_switch_does_not_redirect_off_site(client, db):
    response = client.post(reverse("switch_language"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_healthz_reports_a_reachable_database_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=60)


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    # A real PostgreSQL URL on a port where nothing listens.
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='bangfu.settings'; django.setup();"
        "from django.test import Client; r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    result = _run_python(code, DATABASE_URL="postgres://postgres@127.0.0.1:9/none", BANGFU_VAR_DIR=str(tmp_path))
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503", result.stderr
    assert json.loads(body)["database"] == "unreachable"


@pytest.mark.parametrize(
    ("missing", "message"),
    [("SECRET_KEY", "SECRET_KEY must be set"), ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set")],
)
def test_production_refuses_to_start_without_secret_or_hosts(tmp_path, missing, message):
    env = {
        "BANGFU_ENV": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "bangfu.example.edu.cn",
        "BANGFU_DATA_KEY": "Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmE=",
        "BANGFU_VAR_DIR": str(tmp_path),
    }
    del env[missing]
    result = _run_python("import bangfu.settings", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_development_makes_a_secret_key_once_and_keeps_it(tmp_path):
    code = "import bangfu.settings as s; print(s.SECRET_KEY)"
    first = _run_python(code, BANGFU_VAR_DIR=str(tmp_path)).stdout
    second = _run_python(code, BANGFU_VAR_DIR=str(tmp_path)).stdout
    assert first == second and len(first.strip()) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
