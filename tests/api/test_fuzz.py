"""Fuzzing the whole API with schemathesis: every operation of /api/v1/openapi.json, called in-process on the WSGI
app with a bearer token, must answer without a server error, with a status code it declares, a body valid against
the declared schema and the declared content type.

The data is the authorization matrix's furnished world (every kind of object exists, in and out of scope), built
once for the module inside a transaction; each operation runs in a savepoint of it, so writes roll back. Generated
cases are grounded in that world before they are sent: most path ids become ids that exist, and a valid case often
gets real ids in its body and query, the object's current version and recent dates, so writes get past their 404
and 409 into the services.

Most calls are the school's employment office's, some a department leader's, a counsellor's, a helper's, a
student's or another school's office's, so the refusals (403, 404) are fuzzed too.

The CI run is bounded (a few examples per operation, reproducible); `BANGFU_FUZZ_EXAMPLES=100
BANGFU_FUZZ_COVERAGE=1 pytest tests/api/test_fuzz.py` runs a thorough one, with schemathesis' coverage phase
(boundary values, wrong types, missing fields for every parameter). Requests that no generator sends (a multipart
form without a boundary, a thousand query parameters) are sent to every operation by a test of their own.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from ninja.openapi.schema import OpenAPISchema
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.python.wsgi import get_client
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bangfu.api.api import api
from bangfu.assistance.models import Activity, HelperAssignment, Plan
from bangfu.opportunities.models import (
    Employer,
    Internship,
    OrderClassMembership,
    Position,
    Recommendation,
    RecruitmentEvent,
    WorkStudyAssignment,
)
from bangfu.organisation.models import OrgUnit, Role, User
from bangfu.organisation.services import create_api_token
from bangfu.outcomes.models import Destination
from bangfu.showcase.models import Case, CaseType, Consent
from bangfu.students.models import LedgerEntry, Student
from bangfu.subsidies.models import Application, Budget, Objection, PaymentBatch, SubsidyType
from bangfu.tracks.models import TrackEnrolment, TrackType
from tests.conftest import make_world
from tests.matrix_support import PDF, furnish

# In CI the fuzzing runs in the PostgreSQL pass only: the production database, the one that refuses NUL bytes in
# text, and a minute saved on the SQLite pass. Locally: DATABASE_URL=postgres://… pytest tests/api/test_fuzz.py
pytestmark = pytest.mark.postgres

EXAMPLES = int(os.environ.get("BANGFU_FUZZ_EXAMPLES", "6"))
COVERAGE = os.environ.get("BANGFU_FUZZ_COVERAGE") == "1"

APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    APP,
    config=schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all"},  # valid cases and cases to be refused
            # Undeclared methods answer ninja's 405 before any of our code runs: not worth the requests.
            "phases": {"coverage": {"enabled": COVERAGE, "unexpected-methods": []}},
        }
    ),
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Where ids come from: a path parameter or a body/query field → a key of `REAL_IDS`. A path parameter name that two
# routers use is told apart by the start of its path.
PATH_IDS = {
    "student_id": "student",
    "entry_id": "entry",
    "activity_id": "activity",
    "employer_id": "employer",
    "position_id": "position",
    "event_id": "event",
    "recommendation_id": "recommendation",
    "internship_id": "internship",
    "membership_id": "membership",
    "destination_id": "destination",
    "enrolment_id": "enrolment",
    "application_id": "application",
    "objection_id": "objection",
    "batch_id": "batch",
    "case_id": "case",
    "consent_id": "consent",
}
PATH_IDS_BY_PREFIX = {
    ("/api/v1/helper-assignments/", "assignment_id"): "helper_assignment",
    ("/api/v1/work-study/", "assignment_id"): "work_study",
    ("/api/v1/subsidy-types/", "type_id"): "subsidy_type",
    ("/api/v1/case-types/", "type_id"): "case_type",
}
FIELD_IDS = {
    "student": "student",
    "helper": "staff",
    "school": "school",
    "department": "department",
    "unit": "department",
    "major": "major",
    "majors": "major",
    "class_unit": "class",
    "employer": "employer",
    "employers": "employer",
    "position": "position",
    "event": "event",
    "assignment": "work_study",
    "replaces": "destination",
    "case_type": "case_type",
    "subsidy_type": "subsidy_type",
    "batch": "batch",
    "applications": "application",
    "track": "track",
}
SOURCES: dict[str, Callable[[], Any]] = {
    "student": lambda: Student.objects.all(),
    "entry": lambda: LedgerEntry.objects.all(),
    "activity": lambda: Activity.objects.all(),
    "employer": lambda: Employer.objects.all(),
    "position": lambda: Position.objects.all(),
    "event": lambda: RecruitmentEvent.objects.all(),
    "recommendation": lambda: Recommendation.objects.all(),
    "internship": lambda: Internship.objects.all(),
    "membership": lambda: OrderClassMembership.objects.all(),
    "destination": lambda: Destination.objects.all(),
    "enrolment": lambda: TrackEnrolment.objects.all(),
    "application": lambda: Application.objects.all(),
    "objection": lambda: Objection.objects.all(),
    "batch": lambda: PaymentBatch.objects.all(),
    "case": lambda: Case.objects.all(),
    "consent": lambda: Consent.objects.all(),
    "helper_assignment": lambda: HelperAssignment.objects.all(),
    "work_study": lambda: WorkStudyAssignment.objects.all(),
    "subsidy_type": lambda: SubsidyType.objects.all(),
    "case_type": lambda: CaseType.objects.all(),
    "track": lambda: TrackType.objects.all(),
    "staff": lambda: User.objects.filter(grants__role=Role.TEACHER).distinct(),
    "school": lambda: OrgUnit.objects.filter(kind="school"),
    "department": lambda: OrgUnit.objects.filter(kind="department"),
    "major": lambda: OrgUnit.objects.filter(kind="major"),
    "class": lambda: OrgUnit.objects.filter(kind="class"),
}

# Who calls, by their weight: mostly the school's employment office, who sees all three of the school's students
# and may do nearly everything; also personas whose role or scope refuses (403, 404) much of the API.
CALLERS = ("office",) * 5 + ("leader", "counsellor", "helper", "student_user", "outsider")

# Source → public ids of the furnished world, oldest first (filled by the `tokens` fixture).
REAL_IDS: dict[str, list[str]] = {}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE_FIELDS = {"attachment", "evidence", "file", "photo"}


def _path_source(path: str, name: str) -> str | None:
    for (prefix, param), source in PATH_IDS_BY_PREFIX.items():
        if param == name and path.startswith(prefix):
            return source
    return PATH_IDS.get(name)


def _version_of(case: schemathesis.Case) -> int | None:
    """The current version of what the case writes to (None when there is nothing there)."""
    path, params = case.operation.path, case.path_parameters or {}
    if path.endswith("/plan"):
        found = Plan.objects.filter(student__public_id=params.get("student_id")).first()
    elif path.endswith("/hand-over"):
        found = HelperAssignment.objects.active().filter(student__public_id=params.get("student_id")).first()
    elif "/budgets/" in path:
        found = Budget.objects.filter(subsidy_type__public_id=params.get("type_id"), year=params.get("year")).first()
    else:
        found = None
        for name, value in params.items():
            source = _path_source(path, name)
            if source is not None:
                found = SOURCES[source]().filter(public_id=value).first()
    return getattr(found, "version", None)


def _real(rng: random.Random, source: str, value: Any) -> Any:
    ids = REAL_IDS[source]
    if isinstance(value, list):
        return rng.sample(ids, k=min(len(ids), max(1, len(value))))
    return rng.choice(ids)


def ground(case: schemathesis.Case) -> str:
    """Point the case at the furnished world and pick who calls (the persona's name). The choices are drawn from
    the case itself, so a run is repeatable."""
    body = None if case.body is NOT_SET else case.body  # NOT_SET's repr carries its address
    rng = random.Random(zlib.crc32(repr((case.operation.label, case.path_parameters, case.query, body)).encode()))
    persona = rng.choice(CALLERS)
    for name, value in list((case.path_parameters or {}).items()):
        source = _path_source(case.operation.path, name)
        if source is not None and rng.random() < 0.85:
            case.path_parameters[name] = _real(rng, source, value)
        elif name == "year" and rng.random() < 0.5:
            case.path_parameters[name] = timezone.localdate().year
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return persona  # a negative case keeps its body: it is there to be refused
    for container in (case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name, value in list(container.items()):
            if name in FIELD_IDS and value is not None and rng.random() < 0.7:
                container[name] = _real(rng, FIELD_IDS[name], value)
            elif isinstance(value, str) and DATE.match(value) and rng.random() < 0.6:
                container[name] = (timezone.localdate() - dt.timedelta(days=rng.randint(0, 200))).isoformat()
            elif name in FILE_FIELDS and rng.random() < 0.6:
                container[name] = PDF  # schemathesis names the part after what the bytes are: "evidence.pdf"
    if isinstance(case.body, dict) and rng.random() < 0.8:
        version = _version_of(case)
        if version is not None:
            case.body["version"] = version  # an operation without a version ignores it
    return persona


@pytest.fixture(scope="module")
def tokens(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The furnished world, built once inside a transaction rolled back at the end, and a token for each caller.
    No rate limits: the fuzzer calls fast."""
    media = tmp_path_factory.mktemp("fuzz-media")
    # The WSGI handler would close the connection after each request, and with it the module's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with (
            override_settings(MEDIA_ROOT=media, API_THROTTLE_RATES={}),
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            scene = furnish(make_world())
            for source, rows in SOURCES.items():
                REAL_IDS[source] = [str(pk) for pk in rows().order_by("pk").values_list("public_id", flat=True)]
            yield {persona: create_api_token(user=scene.user(persona), name="fuzz") for persona in set(CALLERS)}
            transaction.set_rollback(True)
    finally:
        REAL_IDS.clear()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_declared(case: schemathesis.Case, tokens: dict[str, str], db: None) -> None:
    persona = ground(case)
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[persona]}"}, checks=CHECKS)


def test_requests_django_cannot_read_answer_400_in_the_error_shape(tokens: dict[str, str], db: None) -> None:
    """A multipart form without a boundary (a body that is no JSON, for a JSON operation) and more query parameters
    than Django reads: every operation that takes a body or a query answers 400 `{detail, errors, code}`, as it
    declares."""
    client = get_client(APP)
    headers = {"Authorization": f"Bearer {tokens['office']}"}
    too_many = "&".join(f"p{i}=1" for i in range(1001))  # DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000
    wrong = []
    for result in schema.get_all_operations():
        operation = result.ok()
        case = operation.Case(
            path_parameters={p.name: _existing(operation.path, p.name) for p in operation.path_parameters}
        )
        method = operation.method.upper()
        sent = []
        if operation.body:
            no_boundary = "multipart/form-data"
            sent.append(
                client.open(case.formatted_path, method=method, headers=headers, data=b"--x", content_type=no_boundary)
            )
        if operation.query:
            sent.append(client.open(f"{case.formatted_path}?{too_many}", method=method, headers=headers))
        for response in sent:
            shape = set(response.json or {}) if response.is_json else set()
            if response.status_code != 400 or shape != {"detail", "errors", "code"}:
                wrong.append(f"{operation.label}: {response.status_code} {response.get_data()[:100]!r}")
            case.validate_response(response, checks=CHECKS)
    assert not wrong


def _existing(path: str, name: str) -> str:
    """A path parameter of an object the office sees (the year of a budget: this year)."""
    source = _path_source(path, name)
    return REAL_IDS[source][0] if source is not None else str(timezone.localdate().year)


def test_no_two_schemas_share_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """ninja files every schema of the document under its class name, the last one winning: two classes of one
    name would leave an operation described by the other's schema (and fuzzed with the wrong bodies)."""
    clashes: set[str] = set()
    add = OpenAPISchema.add_schema_definitions

    def add_checked(self: OpenAPISchema, definitions: dict[str, Any]) -> None:
        clashes.update(
            name for name, definition in definitions.items() if self.schemas.get(name, definition) != definition
        )
        add(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", add_checked)
    api.get_openapi_schema()
    assert not clashes
