"""The API describes itself: /api/v1/openapi.json and the docs page, readable without logging in."""

import json

from django.test import Client

from tests.api.conftest import API

PATHS = {
    "/api/v1/students": {"get", "post"},
    "/api/v1/students/{student_id}": {"get", "patch"},
    "/api/v1/students/{student_id}/ledger-entries": {"get", "post"},
    "/api/v1/ledger-entries/{entry_id}": {"get", "patch"},
    "/api/v1/ledger-entries/{entry_id}/leave": {"post"},
    "/api/v1/helper-assignments": {"get"},
    "/api/v1/helper-assignments/{assignment_id}": {"get"},
    "/api/v1/helper-assignments/{assignment_id}/end": {"post"},
    "/api/v1/students/{student_id}/helper-assignments": {"get", "post"},
    "/api/v1/students/{student_id}/helper-assignments/hand-over": {"post"},
    "/api/v1/students/{student_id}/plan": {"get", "put"},
    "/api/v1/students/{student_id}/plan/reviews": {"post"},
    "/api/v1/students/{student_id}/activities": {"get", "post"},
    "/api/v1/activities/{activity_id}": {"get", "patch"},
    "/api/v1/activities/{activity_id}/correct": {"post"},
    "/api/v1/activities/{activity_id}/attachment": {"get"},
    "/api/v1/students/{student_id}/progress": {"get"},
    "/api/v1/due": {"get"},
}


def _schema(client: Client) -> dict:  # type: ignore[type-arg]
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_openapi_json_is_public_valid_json_and_lists_every_path(db: None) -> None:
    schema = _schema(Client())

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Bangfu API"
    assert {path: set(ops) for path, ops in schema["paths"].items()} == PATHS
    assert len({op["operationId"] for ops in schema["paths"].values() for op in ops.values()}) == sum(
        len(ops) for ops in PATHS.values()
    )


def test_both_ways_of_authenticating_are_described(db: None) -> None:
    schemes = _schema(Client())["components"]["securitySchemes"]

    assert {(s["type"], s.get("scheme") or s.get("in")) for s in schemes.values()} == {
        ("http", "bearer"),
        ("apiKey", "cookie"),
    }


def test_no_schema_offers_secret_or_internal_fields(db: None) -> None:
    text = json.dumps(_schema(Client())["components"]["schemas"])

    for secret in ("id_number_cipher", "id_number_hash", '"pk"', "password", "digest"):
        assert secret not in text
    student_out = _schema(Client())["components"]["schemas"]["StudentOut"]["properties"]
    assert "id_number" not in student_out
    assert "id_number_masked" in student_out


def test_the_docs_page_is_public_and_served_without_a_cdn(db: None) -> None:
    response = Client().get(f"{API}/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page
