"""Machinery for the authorization matrix (tests/test_authorization_matrix.py): the routes the resolver knows,
a world in which every target student has everything a route can point at, and how an answer is read.

The table itself, and the rules that compute what each persona should get, live in the test module.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from bangfu.assistance.models import Activity, ActivityKind, HelperAssignment, Plan
from bangfu.assistance.services import assign_helper, record_activity, save_plan
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.notifications.models import Notification
from bangfu.opportunities.models import Internship, OrderClassMembership, Recommendation, WorkStudyAssignment
from bangfu.opportunities.services import (
    join_order_class,
    recommend,
    record_internship,
    save_event,
    start_work_study,
)
from bangfu.organisation.models import OrgUnit, Role, User
from bangfu.outcomes.models import Destination
from bangfu.outcomes.services import attach_evidence, record_destination
from bangfu.students import idnumbers
from bangfu.students.models import LedgerCategory, LedgerEntry, Student
from bangfu.students.services import attach_category_evidence, join_ledger, leave_ledger
from bangfu.students.survey import save_survey
from tests.conftest import TODAY, World, login
from tests.factories import make_employer, make_position, make_staff, system_user

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# The students a route can point at, and an id nobody has (a guess).
STUDENTS = ("own", "classmate", "dept2_student", "other_school_student")
GUESSED = "guessed"
TARGETS = (*STUDENTS, GUESSED)

# Outcomes. A status code stands for itself.
OK = "ok"  # 2xx or 3xx (or 400/422 where the route deliberately sends an empty or refused body)
INVALID = "invalid"  # 400 or 422: refused as input, not as a permission
LOGIN = "login"  # the login page (pages) or 401 (API)


# ---------------------------------------------------------------------------------------------------------
# The routes the resolver knows


def _walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        else:
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route


def resolver_routes() -> dict[str, str]:
    """Every URL pattern of the project: its name with namespaces ("students:detail", "api:students_list"),
    or its route when it has no name, mapped to its route."""
    return dict(_walk(get_resolver().url_patterns, "", ""))


def api_operations() -> dict[str, tuple[str, str]]:
    """Every operation of the ninja API: operationId (the URL name) → (method, path), from its OpenAPI schema."""
    from bangfu.api.api import api

    schema = api.get_openapi_schema()
    return {
        operation["operationId"]: (method, path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


# ---------------------------------------------------------------------------------------------------------
# The scene: the `world`, with each target student in the ledger (with evidence), helped, and surveyed


@dataclass
class Scene:
    world: World
    guessed_id: uuid.UUID = field(default_factory=uuid.uuid4)
    spares: dict[int, User] = field(default_factory=dict)  # department pk → a teacher free to be named helper
    # target → what only some of those who see the student may read: {"family_situation": text, ...}
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))
    # school pk → {"employer", "job", "internship", "order_class", "work_study", "event"}
    furniture: dict[int, dict[str, Any]] = field(default_factory=dict)

    def user(self, persona: str) -> User:
        return getattr(self.world, persona)

    def student(self, target: str) -> Student | None:
        if target == GUESSED:
            return None
        return Student.objects.select_related("school", "department", "class_unit").get(
            pk=getattr(self.world, target).pk
        )

    def student_id(self, target: str) -> uuid.UUID:
        student = self.student(target)
        return self.guessed_id if student is None else student.public_id

    def entry(self, target: str) -> LedgerEntry | None:
        student = self.student(target)
        return None if student is None else LedgerEntry.objects.get(student=student, left_on__isnull=True)

    def entry_id(self, target: str) -> uuid.UUID:
        entry = self.entry(target)
        return self.guessed_id if entry is None else entry.public_id

    def assignment(self, target: str) -> HelperAssignment | None:
        student = self.student(target)
        return None if student is None else HelperAssignment.objects.active().get(student=student)

    def assignment_id(self, target: str) -> uuid.UUID:
        assignment = self.assignment(target)
        return self.guessed_id if assignment is None else assignment.public_id

    def category_id(self, target: str) -> int:
        """The target's ledger category that carries evidence (for a guess: one of `own`'s, under a guessed id)."""
        entry = self.entry("own" if target == GUESSED else target)
        return LedgerCategory.objects.filter(entry=entry).exclude(evidence="").values_list("pk", flat=True)[0]

    def activity(self, target: str) -> Activity | None:
        """The target's first activity that no correction replaced."""
        student = self.student(target)
        return None if student is None else Activity.objects.filter(student=student, voided=False).order_by("pk")[0]

    def activity_id(self, target: str) -> uuid.UUID:
        activity = self.activity(target)
        return self.guessed_id if activity is None else activity.public_id

    def plan(self, target: str) -> Plan | None:
        student = self.student(target)
        return None if student is None else Plan.objects.get(student=student)

    def notification_id(self, target: str) -> uuid.UUID:
        """The notification of the target's helper (for `own`: the `helper` persona's)."""
        assignment = self.assignment(target)
        if assignment is None:
            return self.guessed_id
        return Notification.objects.get(user=assignment.helper_id).public_id

    def department_id(self, target: str) -> uuid.UUID:
        student = self.student(target)
        return self.guessed_id if student is None else student.department.public_id

    def school_id(self, target: str) -> uuid.UUID:
        student = self.student(target)
        return self.guessed_id if student is None else student.school.public_id

    def class_id(self, target: str) -> uuid.UUID:
        student = self.student(target)
        return self.guessed_id if student is None else student.class_unit.public_id

    def spare(self, target: str) -> User:
        """A teacher of the target's department whom an assigner there may name (for a guess: one in dept1)."""
        student = self.student("own" if target == GUESSED else target)
        assert student is not None
        return self.spares[student.department_id]

    def next_number(self) -> str:
        return f"2099{next(self.numbers):06d}"

    # --- Opportunities and destinations: those of the target's school, and the target's own records. A guess
    # gets an id nobody has.

    def _school_thing(self, target: str, kind: str) -> uuid.UUID:
        student = self.student(target)
        return self.guessed_id if student is None else self.furniture[student.school_id][kind].public_id

    def employer_id(self, target: str) -> uuid.UUID:
        return self._school_thing(target, "employer")

    def position_id(self, target: str) -> uuid.UUID:
        return self._school_thing(target, "job")

    def event_id(self, target: str) -> uuid.UUID:
        return self._school_thing(target, "event")

    def _own_thing(self, target: str, model: Any) -> Any:
        student = self.student(target)
        return None if student is None else model.objects.filter(student=student).order_by("pk").first()

    def recommendation(self, target: str) -> Recommendation | None:
        return self._own_thing(target, Recommendation)

    def recommendation_id(self, target: str) -> uuid.UUID:
        rec = self.recommendation(target)
        return self.guessed_id if rec is None else rec.public_id

    def destination(self, target: str) -> Destination | None:
        student = self.student(target)
        return None if student is None else Destination.objects.filter(student=student, superseded_on=None).first()

    def destination_id(self, target: str) -> uuid.UUID:
        destination = self.destination(target)
        return self.guessed_id if destination is None else destination.public_id

    def internship_id(self, target: str) -> uuid.UUID:
        row = self._own_thing(target, Internship)
        return self.guessed_id if row is None else row.public_id

    def order_class_id(self, target: str) -> uuid.UUID:
        row = self._own_thing(target, OrderClassMembership)
        return self.guessed_id if row is None else row.public_id

    def work_study_id(self, target: str) -> uuid.UUID:
        row = self._own_thing(target, WorkStudyAssignment)
        return self.guessed_id if row is None else row.public_id


def furnish(world: World) -> Scene:
    """Give every target student what the routes point at: an open ledger entry whose first category carries
    evidence, an active helper (`own` keeps `helper`; the others get a teacher of their own department) who has a
    notification and has viewed the family situation (a row of the access log), an enrolment survey, a plan, an
    internal activity of this month with an attachment, and a spare teacher in each department to hand over to."""
    actor = system_user()
    scene = Scene(world)
    for key in STUDENTS:
        student = getattr(world, key)
        dept: OrgUnit = student.department
        school_code = student.school.code
        if dept.pk not in scene.spares:
            scene.spares[dept.pk] = make_staff(
                f"spare-{school_code}-{dept.code}", Role.TEACHER, dept, full_name=f"备用老师{dept.code}"
            )
        if key != "own":
            join_ledger(
                actor=actor,
                student=student,
                joined_on=dt.date(2023, 10, 9),
                reason="学期复核：低保家庭",
                categories=["subsistence_allowance"],
                hardship_level="hardship",
                family_situation="母亲长期患病，家庭依靠低保生活。",
                today=TODAY,
            )
            helper = make_staff(f"helper-{school_code}-{key}", Role.TEACHER, dept, full_name=f"帮扶老师{key}")
            assign_helper(actor=actor, student=student, helper=helper, start=dt.date(2023, 10, 9), today=TODAY)
        entry = LedgerEntry.objects.get(student=student, left_on__isnull=True)
        attach_category_evidence(
            actor=actor,
            entry=entry,
            category=entry.categories.order_by("category").first().category,  # type: ignore[union-attr]
            evidence=SimpleUploadedFile("低保证明.pdf", PDF, content_type="application/pdf"),
            verified_on=dt.date(2023, 10, 20),
            today=TODAY,
        )
        save_survey(
            actor=actor,
            student=student,
            answers={"subsistence_allowance": True, "household_size": 4, "notes": "父亲务农，母亲长期患病。"},
            expected_version=0,
        )
        save_plan(
            actor=actor,
            student=student,
            expected_version=None,
            today=TODAY,
            direction="job",
            industries="纺织服装",
            places="石家庄",
            near_home=True,
        )
        record_activity(
            actor=actor,
            student=student,
            kind=ActivityKind.PSYCHOLOGICAL_GUIDANCE,  # internal by default: not for the student's eyes
            occurred_on=timezone.localdate(),
            today=timezone.localdate(),
            attachment=SimpleUploadedFile("谈话记录.pdf", PDF, content_type="application/pdf"),
            notes="求职受挫后情绪低落，约定每周谈心。",
        )
        helper = HelperAssignment.objects.active().select_related("helper").get(student=student).helper
        Notification.objects.get_or_create(user=helper, day=TODAY)
        log_access(actor=helper, action=AccessAction.VIEW_SENSITIVE, student=student, fields="family_situation")
        entry.refresh_from_db()
        scene.secrets[key] = {
            "family_situation": entry.family_situation,
            "internal_notes": Activity.objects.get(student=student).notes,
            "id_number": idnumbers.decrypt(student.id_number_cipher),
        }
        furnish_opportunities(scene, student)
    return scene


def furnish_opportunities(scene: Scene, student: Student) -> None:
    """The student's school gets an employer with a position of each kind and a recruitment event; the student a
    recommendation, an internship, an order-class place, a work-study post and a destination with its evidence."""
    actor, day = system_user(), timezone.localdate()
    things = scene.furniture.get(student.school_id)
    if things is None:
        employer = make_employer(student.school, name=f"{student.school.name}合作企业")
        things = {"employer": employer}
        for kind in ("job", "internship", "order_class", "work_study"):
            things[kind] = make_position(employer, title=f"岗位-{kind}", kind=kind)
        things["event"] = save_event(
            actor=actor, school=student.school, kind="campus_fair", title="春季校园招聘会", held_on=TODAY
        )
        scene.furniture[student.school_id] = things
    recommend(actor=actor, student=student, position=things["job"], today=day)
    record_internship(actor=actor, student=student, employer=things["employer"], started_on=TODAY, today=day)
    join_order_class(actor=actor, student=student, position=things["order_class"], joined_on=TODAY, today=day)
    start_work_study(actor=actor, student=student, position=things["work_study"], started_on=TODAY, today=day)
    destination = record_destination(actor=actor, student=student, code="10", today=day, employer=things["employer"])
    attach_evidence(
        actor=actor,
        destination=destination,
        evidence=SimpleUploadedFile("就业协议书.pdf", PDF, content_type="application/pdf"),
        kind="employment_agreement",
    )


def leave_the_ledger(scene: Scene, target: str) -> None:
    """So that joining the ledger can succeed for whoever may do it."""
    entry = scene.entry(target)
    if entry is not None:
        leave_ledger(
            actor=system_user(),
            entry=entry,
            left_on=TODAY,
            reason="家庭经济好转",
            expected_version=entry.version,
            today=TODAY,
        )


# ---------------------------------------------------------------------------------------------------------
# Sending a request and reading the answer

Args = Callable[[Scene, str], list[Any]]
Body = Callable[[Scene, str], dict[str, Any]]


def today() -> str:
    return timezone.localdate().isoformat()


def send(
    client: Client,
    *,
    name: str,
    method: str,
    args: list[Any],
    query: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> HttpResponse:
    url = reverse(name, args=args)
    if method == "get":
        return client.get(url, query)  # type: ignore[return-value]
    if name.startswith("api:"):
        call = getattr(client, method)
        return call(url, json.dumps(body or {}), content_type="application/json")  # type: ignore[no-any-return]
    return client.post(url, body or {})  # type: ignore[return-value]


def close_quietly(response: HttpResponse) -> None:
    """Close a response (evidence downloads are open files) as the test client does: without the
    request_finished signal, whose handler would close the database connection and, on PostgreSQL, end the
    module's transaction with it."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def outcome(response: HttpResponse, *, refused_input_is_ok: bool) -> str:
    status = response.status_code
    close_quietly(response)
    if status == 401:
        return LOGIN
    if status == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    if 200 <= status < 400:
        return OK
    if status in (400, 422):
        return OK if refused_input_is_ok else INVALID
    return str(status)


def text_of(response: HttpResponse) -> str:
    """What the response shows a person (JSON with its escapes undone); "" for a file download or a redirect."""
    if getattr(response, "streaming", False) or not response.content:
        return ""
    content = response.content.decode(errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(json.loads(content), ensure_ascii=False)
    return content


def shown_strangers(text: str, strangers: list[Student]) -> list[str]:
    """The students outside the persona's scope whose name or student number the text shows."""
    return [s.name for s in strangers if s.name in text or s.student_number in text]


def describe(response: HttpResponse) -> str:
    """A short hint for a failure message: the status, and where a redirect goes or what an API error said."""
    status = response.status_code
    if 300 <= status < 400:
        return f"{status} → {response['Location']}"
    if response.get("Content-Type", "").startswith("application/json") and status >= 400:
        return f"{status} {response.content.decode()[:160]}"
    return str(status)


__all__ = [
    "GUESSED",
    "INVALID",
    "LOGIN",
    "OK",
    "STUDENTS",
    "TARGETS",
    "Args",
    "Body",
    "Scene",
    "api_operations",
    "describe",
    "furnish",
    "leave_the_ledger",
    "login",
    "outcome",
    "resolver_routes",
    "send",
    "shown_strangers",
    "text_of",
    "today",
]
