"""Security headers on every page, and the two-hour sliding session."""

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import PASSWORD, World, login

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# Left out of the walk: routes that answer only POST, and the API schema (JSON, slow to build).
SKIPPED = {"logout", "switch_language", "admin:logout", "api:openapi-json"}


def directives(header: str | None) -> dict[str, list[str]]:
    """A policy header as {directive: sources} (django-csp does not keep the order of the setting)."""
    parts = [part.split() for part in (header or "").split(";") if part.strip()]
    return {name: sources for name, *sources in parts}


def _plain_routes(patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = "") -> Iterator[str]:
    """Every route without a parameter (a list, a form, a dashboard), as a path."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.pattern.regex.groups:
                continue
            space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _plain_routes(pattern.url_patterns, prefix + str(pattern.pattern), space)
        elif not pattern.pattern.regex.groups and f"{namespace}{pattern.name}" not in SKIPPED:
            route = str(pattern.pattern).lstrip("^").rstrip("$")
            if "\\" not in route and "(" not in route:
                yield "/" + prefix.lstrip("^") + route


def test_every_html_page_carries_the_content_security_policy(world: World, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    routes = sorted(set(_plain_routes(get_resolver().url_patterns)))
    assert {"/students/", "/reports/school/", "/me/", "/api/v1/docs", "/accounts/login/"} <= set(routes)
    html = 0
    for who in (None, world.office, world.student_user):
        client = Client() if who is None else login(Client(), who)
        for path in [*routes, "/no-such-page/"]:
            response = client.get(path)
            if response.get("Content-Type", "").startswith("text/html"):
                html += 1
                header = response.get("Content-Security-Policy")
                assert directives(header) == POLICY, f"{path} as {who}: {response.status_code}"
    assert html > 3 * 25  # the walk did reach the pages


def test_the_api_docs_run_swagger_ui_from_static_files_under_the_policy(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.office).get("/api/v1/docs")
    page = response.content.decode()
    assert directives(response["Content-Security-Policy"]) == POLICY
    assert '<script src="/static/ninja/swagger-ui-init.js">' in page
    # Its settings are a data block, not a script the browser runs.
    assert '<script type="application/json" id="swagger-settings">' in page
    assert "<script>" not in page


def test_every_page_asks_htmx_not_to_inject_style_or_eval(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.helper).get("/students/").content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false}'>""" in page


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_session_idle_for_more_than_two_hours_is_logged_out(world: World) -> None:
    client = Client()
    with time_machine.travel(dt.datetime(2024, 3, 18, 8, 0, tzinfo=SHANGHAI), tick=False) as clock:
        response = client.post("/accounts/login/", {"username": "helper", "password": PASSWORD})
        assert response.status_code == 302
        assert response.cookies["sessionid"]["max-age"] == 7200

        # Each request slides the two hours on: a working morning stays logged in.
        for _ in range(3):
            clock.shift(dt.timedelta(hours=1, minutes=59))
            assert client.get("/help/mine/").status_code == 200

        clock.shift(dt.timedelta(hours=2, seconds=1))
        response = client.get("/help/mine/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/help/mine/"


@pytest.mark.parametrize("path", ["/healthz", "/accounts/login/"])
def test_the_development_settings_neither_redirect_nor_pin_https(client, db, path: str) -> None:  # type: ignore[no-untyped-def]
    """HSTS and the HTTPS redirect belong to production (tests/security/test_production.py); here they would lock
    a developer's browser out of http://127.0.0.1:8000."""
    response = client.get(path)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
