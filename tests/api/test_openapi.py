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
    "/api/v1/employers": {"get", "post"},
    "/api/v1/employers/{employer_id}": {"get", "patch"},
    "/api/v1/positions": {"get", "post"},
    "/api/v1/positions/{position_id}": {"get", "patch"},
    "/api/v1/positions/{position_id}/suggested-students": {"get"},
    "/api/v1/students/{student_id}/suggested-positions": {"get"},
    "/api/v1/events": {"get", "post"},
    "/api/v1/events/{event_id}": {"get", "patch"},
    "/api/v1/students/{student_id}/event-attendances": {"get", "post"},
    "/api/v1/students/{student_id}/recommendations": {"get", "post"},
    "/api/v1/recommendations/{recommendation_id}": {"get"},
    "/api/v1/recommendations/{recommendation_id}/status": {"post"},
    "/api/v1/recommendation-conversion": {"get"},
    "/api/v1/students/{student_id}/internships": {"get", "post"},
    "/api/v1/internships/{internship_id}": {"get", "patch"},
    "/api/v1/students/{student_id}/order-classes": {"get", "post"},
    "/api/v1/order-classes/{membership_id}/leave": {"post"},
    "/api/v1/students/{student_id}/work-study": {"get", "post"},
    "/api/v1/work-study/{assignment_id}/end": {"post"},
    "/api/v1/work-study/{assignment_id}/hours": {"post"},
    "/api/v1/students/{student_id}/destinations": {"get", "post"},
    "/api/v1/destinations/{destination_id}": {"get"},
    "/api/v1/destinations/{destination_id}/evidence": {"get", "post"},
    "/api/v1/destinations/{destination_id}/verify": {"post"},
    "/api/v1/students/{student_id}/follow-ups": {"get", "post"},
    "/api/v1/placement": {"get"},
    "/api/v1/subsidy-types": {"get", "post"},
    "/api/v1/subsidy-types/install-defaults": {"post"},
    "/api/v1/subsidy-types/{type_id}": {"get", "patch"},
    "/api/v1/subsidy-budgets": {"get"},
    "/api/v1/subsidy-types/{type_id}/budgets/{year}": {"put"},
    "/api/v1/students/{student_id}/subsidy-eligibility": {"get"},
    "/api/v1/subsidy-applications": {"get"},
    "/api/v1/students/{student_id}/subsidy-applications": {"post"},
    "/api/v1/subsidy-applications/start-notice": {"post"},
    "/api/v1/subsidy-applications/{application_id}": {"get", "patch"},
    "/api/v1/subsidy-applications/{application_id}/evidence": {"post"},
    "/api/v1/subsidy-applications/{application_id}/receipts": {"post"},
    "/api/v1/subsidy-applications/{application_id}/submit": {"post"},
    "/api/v1/subsidy-applications/{application_id}/withdraw": {"post"},
    "/api/v1/subsidy-applications/{application_id}/approve-department": {"post"},
    "/api/v1/subsidy-applications/{application_id}/approve-school": {"post"},
    "/api/v1/subsidy-applications/{application_id}/approve-final": {"post"},
    "/api/v1/subsidy-applications/{application_id}/return": {"post"},
    "/api/v1/subsidy-applications/{application_id}/reject": {"post"},
    "/api/v1/subsidy-applications/{application_id}/objections": {"post"},
    "/api/v1/subsidy-objections/{objection_id}/resolve": {"post"},
    "/api/v1/payment-batches": {"get", "post"},
    "/api/v1/payment-batches/{batch_id}": {"get"},
    "/api/v1/payment-batches/{batch_id}/mark-paid": {"post"},
    "/api/v1/tracks/types": {"get"},
    "/api/v1/students/{student_id}/tracks": {"get", "post"},
    "/api/v1/tracks/enrolments/{enrolment_id}/milestones": {"post"},
    "/api/v1/tracks/enrolments/{enrolment_id}/leave": {"post"},
    "/api/v1/tracks/counts": {"get"},
    "/api/v1/case-types": {"get", "post"},
    "/api/v1/case-types/install-defaults": {"post"},
    "/api/v1/case-types/{type_id}": {"patch"},
    "/api/v1/cases": {"get"},
    "/api/v1/students/{student_id}/cases": {"post"},
    "/api/v1/cases/{case_id}": {"get", "patch"},
    "/api/v1/cases/{case_id}/approve": {"post"},
    "/api/v1/cases/{case_id}/reject": {"post"},
    "/api/v1/cases/{case_id}/publish": {"post"},
    "/api/v1/cases/{case_id}/unpublish": {"post"},
    "/api/v1/students/{student_id}/consents": {"get", "post"},
    "/api/v1/consents/{consent_id}/withdraw": {"post"},
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
