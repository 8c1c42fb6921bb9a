"""The database goes away for real (a TCP proxy between the app and PostgreSQL is cut): the app, running in
gunicorn, answers 503 with a page in the reader's language (JSON under /api/) and serves again once the
database is back. No mock: the connection the app holds is closed under it and new ones are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation

from bangfu.organisation.services import create_api_token
from tests.conftest import World
from tests.resilience.processes import app_env, app_server, database_url, get
from tests.resilience.proxy import Proxy

pytestmark = pytest.mark.postgres

MESSAGE = "Bangfu cannot reach its database at the moment. Please try again in a minute."


def _in(language: str) -> str:
    with translation.override(language):
        return translation.gettext(MESSAGE)


def _session_cookie(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def test_a_503_while_the_database_is_away_and_pages_again_when_it_is_back(
    transactional_db: None, world: World, tmp_path: Path
) -> None:
    session = _session_cookie(world.helper)
    english = {**session, settings.LANGUAGE_COOKIE_NAME: "en"}
    token = create_api_token(user=world.helper, name="考勤机")
    proxy = Proxy((connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432)))
    env = app_env(var_dir=tmp_path / "var", database=database_url(port=proxy.port))
    try:
        with app_server(env, tmp_path / "gunicorn.log") as port:
            board = get(port, "/help/mine/", cookies=session)
            assert board.status == 200 and world.own.name in board.body
            assert proxy.connections == 1  # the app keeps its connection between requests (CONN_MAX_AGE)

            proxy.cut()
            # The session is read first: the failure comes from the middleware, before any view runs.
            page = get(port, "/help/mine/", cookies=session)
            assert page.status == 503
            assert (page.headers["retry-after"], page.headers["content-language"]) == ("30", "zh-hans")
            assert '<html lang="zh-CN">' in page.body and _in("zh-hans") in page.body
            assert "no-store" in page.headers["cache-control"]
            page = get(port, "/help/mine/", cookies=english)
            assert (page.status, page.headers["content-language"]) == (503, "en")
            assert '<html lang="en">' in page.body and MESSAGE in page.body
            # A token is checked inside the API's view: the failure comes from the view.
            api = get(port, "/api/v1/students", token=token)
            assert api.status == 503 and api.headers["content-type"] == "application/json"
            assert api.json() == {"detail": _in("zh-hans"), "errors": {}, "code": "database_unavailable"}
            api = get(port, "/api/v1/students", cookies=english)
            assert api.json() == {"detail": MESSAGE, "errors": {}, "code": "database_unavailable"}
            assert proxy.connections == 0

            proxy.reopen()
            board = get(port, "/help/mine/", cookies=session)
            assert board.status == 200 and world.own.name in board.body
            api = get(port, "/api/v1/students", token=token)
            assert api.status == 200 and world.own.name in [s["name"] for s in api.json()["items"]]
    finally:
        proxy.close()
