"""API test helpers: a client that calls the API as a user, by bearer token or by session."""

import json
from typing import Any

import pytest
from django.test import Client

from bangfu.organisation.models import User
from bangfu.organisation.services import create_api_token
from tests.conftest import login

API = "/api/v1"


class ApiClient:
    """JSON calls to /api/v1 with a bearer token (or a session, when `session=True`)."""

    def __init__(self, user: User | None, *, session: bool = False) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None and session:
            login(self.client, user)
        elif user is not None:
            self.headers["Authorization"] = f"Bearer {create_api_token(user=user, name='tests')}"

    def _call(self, method: str, path: str, data: Any = None, **params: Any) -> Any:
        url = f"{API}{path}"
        send = getattr(self.client, method)
        if method in ("get", "delete"):
            return send(url, params or None, headers=self.headers)
        return send(url, json.dumps(data or {}), content_type="application/json", headers=self.headers)

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, data: Any = None) -> Any:
        return self._call("post", path, data)

    def patch(self, path: str, data: Any = None) -> Any:
        return self._call("patch", path, data)


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    """`api(world.helper).get("/students")` → the response."""
    return lambda user, session=False: ApiClient(user, session=session)
