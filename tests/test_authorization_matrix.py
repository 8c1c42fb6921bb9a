"""The authorization matrix: every persona × every page and API endpoint × (own / classmate / other department /
other school / a guessed id) answers as the access rules say (docs/architecture.md, "Access rules").

The rules are written out by hand below, on purpose (not read from `permissions.ROLE_PERMS`), so that a change
of the rules shows up here as a deliberate edit. The routes come from Django's resolver and the API's OpenAPI
schema: a page or endpoint without a row in `ROUTES` (or a visible exemption) fails `test_every_route_*`.

How a cell's expectation is computed (`expected`):
- anonymous → the login page (pages) or 401 (API), whatever the id;
- a route with no target → OK if the persona may do its action somewhere, otherwise 403 (404 for "my record");
- a targeted route → 404 if the persona cannot see the target (a guessed id included: 404 even for the office),
  otherwise OK if the persona may do the action, otherwise 403. A route marked `gate_first` checks the action
  before it looks the target up, so a persona who may do it nowhere gets 403 for every id (the same answer for
  every id, so nothing leaks).

The API is called with the session cookie (bearer tokens are covered in tests/api/test_auth.py). Its writes
send well-formed bodies so that an allowed call really succeeds; pages are opened with GET where they are
forms, and POST-only page actions are sent an empty form.

Every answer that is shown (a page, a JSON body) must also not name a student outside the persona's scope
(name or student number), so a list or a page that leaks a stranger fails too; nor show a secret of a student
in scope (family situation, internal activity notes, the full ID number) to a persona who may not read it.

One test per route × persona checks the five targets and reports every wrong cell, named like
`students:detail-helper-classmate`. The whole module shares one world, built once inside a transaction; each
test runs in a savepoint that is rolled back, so a write made by one test never reaches another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from tests.conftest import World, make_world
from tests.matrix_support import (
    GUESSED,
    INVALID,
    LOGIN,
    OK,
    STUDENTS,
    TARGETS,
    Args,
    Body,
    Scene,
    api_operations,
    close_quietly,
    describe,
    furnish,
    leave_the_ledger,
    login,
    outcome,
    resolver_routes,
    send,
    shown_strangers,
    text_of,
    today,
)

# ---------------------------------------------------------------------------------------------------------
# The rules

PERSONAS = (
    "office",  # employment office of the school
    "principal",  # school leader
    "leader",  # leader of dept1
    "other_leader",  # leader of dept2
    "counsellor",  # counsellor of class1 (dept1)
    "helper",  # a teacher of dept1 who helps `own`
    "student_user",  # `own` themself
    "outsider",  # employment office of the other school
    "anonymous",  # not logged in
)

# Whom each persona sees. `own` and `classmate` are in class1 of dept1, `dept2_student` in dept2, all three in
# the school; `other_school_student` is in the other school. Nobody sees a guessed id.
SEES: dict[str, set[str]] = {
    "office": {"own", "classmate", "dept2_student"},
    "principal": {"own", "classmate", "dept2_student"},
    "leader": {"own", "classmate"},
    "other_leader": {"dept2_student"},
    "counsellor": {"own", "classmate"},
    "helper": {"own"},
    "student_user": {"own"},
    "outsider": {"other_school_student"},
    "anonymous": set(),
}

LOGGED_IN = frozenset(PERSONAS) - {"anonymous"}
STAFF = LOGGED_IN - {"student_user"}
UNIT_MANAGERS = frozenset({"office", "leader", "other_leader", "outsider"})  # employment office, dept leaders

# Who may do what: on a student they see, for a targeted route; anywhere, for a route without a target.
MAY: dict[str, frozenset[str]] = {
    "use": LOGGED_IN,  # pages every login has (the lists redirect a student to their record)
    "staff": STAFF,  # "my students"
    "self": frozenset({"student_user"}),  # "my record"
    "view": LOGGED_IN,  # the student page, the timeline, the plan, and the API's reads
    "view_sensitive": STAFF,  # family situation, disability, ledger evidence
    "reveal_id": UNIT_MANAGERS,
    "create": UNIT_MANAGERS,
    "edit": UNIT_MANAGERS | {"counsellor"},
    "manage_ledger": UNIT_MANAGERS | {"counsellor"},
    "manage_survey": UNIT_MANAGERS | {"counsellor"},
    "assign": UNIT_MANAGERS,
    "log": UNIT_MANAGERS | {"helper"},  # a counsellor who is not the helper may not log (who did the work)
    "plan": UNIT_MANAGERS | {"counsellor", "helper"},
    "internal": UNIT_MANAGERS | {"principal", "helper"},  # internal activities: those who log, and leaders
    "lead": UNIT_MANAGERS | {"principal"},  # compliance pages
    "policy": frozenset({"office", "outsider"}),  # the school's standards
    "audit": frozenset({"office", "outsider"}),
}

# What a page or an answer shows only to some of those who see the student: secret → the action of MAY whose
# personas may read it. The full ID number is shown only by the reveal page (each reveal is logged).
SECRETS: dict[str, str] = {
    "family_situation": "view_sensitive",
    "internal_notes": "internal",
    "id_number": "reveal_id",
}
REVEALS = {"id_number": "students:reveal_id"}

# ---------------------------------------------------------------------------------------------------------
# The routes: how a target becomes a URL


def student(scene: Scene, target: str) -> list[Any]:
    return [scene.student_id(target)]


def evidence(scene: Scene, target: str) -> list[Any]:
    return [scene.student_id(target), scene.category_id(target)]


def entry(scene: Scene, target: str) -> list[Any]:
    return [scene.entry_id(target)]


def assignment(scene: Scene, target: str) -> list[Any]:
    return [scene.assignment_id(target)]


def activity(scene: Scene, target: str) -> list[Any]:
    return [scene.activity_id(target)]


def student_activity(scene: Scene, target: str) -> list[Any]:
    return [scene.student_id(target), scene.activity_id(target)]


def notification(scene: Scene, target: str) -> list[Any]:
    return [scene.notification_id(target)]


def elsewhere(scene: Scene, target: str) -> list[Any]:
    """The target travels in the query string or the body, not in the path."""
    return []


@dataclass(frozen=True)
class Route:
    name: str  # the URL name, with namespaces
    action: str  # a key of MAY
    args: Args | None = None  # None: the route has no target
    method: str = "get"
    query: Body | None = None
    body: Body | None = None
    # Prepares the target before the request (so that an allowed write can succeed).
    prepare: Callable[[Scene, str], None] | None = None
    gate_first: bool = False
    refused: str = "403"  # what a persona who may not do the action gets
    # The request's body is deliberately empty or refused (e.g. "already has a helper"), so a 400/422 counts as
    # allowed: what matters is that it is not a 403 or a 404.
    refused_input_is_ok: bool = False
    # A hand-written expectation, for the rare route whose rule is not the usual one.
    expect: Callable[[str, str], str] | None = None
    # Tells two rows of one URL apart (e.g. a page's GET and its POST).
    variant: str = ""

    @property
    def key(self) -> str:
        return f"{self.name} {self.variant}" if self.variant else self.name

    @property
    def targeted(self) -> bool:
        return self.args is not None


# --- Query strings and bodies. API bodies are well-formed, so that the answer is decided by the permission (or
# the call succeeds), not by the schema.


def in_department(scene: Scene, target: str) -> dict[str, Any]:
    return {"department": str(scene.department_id(target))}


def in_school(scene: Scene, target: str) -> dict[str, Any]:
    return {"school": str(scene.school_id(target))}


def by_helper(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.assignment(target)
    return {"helper": str(current.helper.public_id if current else scene.guessed_id)}


def new_student(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "class_unit": str(scene.class_id(target)),
        "student_number": scene.next_number(),
        "name": "马晓红",
        "gender": "F",
        "cohort": 2024,
    }


def phone_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.student(target)
    return {"phone": "13812345678", "version": current.version if current else 1}


def joining(scene: Scene, target: str) -> dict[str, Any]:
    return {"joined_on": today(), "reason": "学期复核：家庭经济困难", "categories": ["subsistence_allowance"]}


def entry_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.entry(target)
    return {"intends_to_work": False, "version": current.version if current else 1}


def leaving(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.entry(target)
    return {"left_on": today(), "reason": "已签约就业", "version": current.version if current else 1}


def naming_a_helper(scene: Scene, target: str) -> dict[str, Any]:
    return {"helper": str(scene.spare(target).public_id), "start": today(), "reason": "一对一帮扶"}


def handing_over(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.assignment(target)
    return {
        "helper": str(scene.spare(target).public_id),
        "on": today(),
        "note": "学生性格内向，每月谈心一次为宜。",
        "version": current.version if current else 1,
    }


def ending(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.assignment(target)
    return {"ended_on": today(), "reason": "学生已毕业", "version": current.version if current else 1}


def bulk_form(scene: Scene, target: str) -> dict[str, Any]:
    return {"students": [str(scene.student_id(target))], "helper": str(scene.spare(target).public_id), "next": ""}


def a_talk(scene: Scene, target: str) -> dict[str, Any]:
    return {"kind": "talk", "occurred_on": today(), "notes": "谈求职意向，建议参加本周招聘会。"}


def notes_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.activity(target)
    return {"notes": "补记：学生情绪已好转。", "version": current.version if current else 1}


def a_correction(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.activity(target)
    return {**a_talk(scene, target), "version": current.version if current else 1}


def plan_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.plan(target)
    return {"direction": "public_exam", "places": "辛集市", "version": current.version if current else 1}


def a_review(scene: Scene, target: str) -> dict[str, Any]:
    return {"notes": "本学期完成简历修改两次，求职方向明确。"}


def creating_in_a_class(persona: str, target: str) -> str:
    """POST /api/v1/students names a class: creators anywhere, then a class outside the caller's schools does
    not exist (422, like any unknown id in a body), then the class must lie under the caller's grant (403)."""
    if persona not in MAY["create"]:
        return "403"
    if target == GUESSED or (target == "other_school_student") != (persona == "outsider"):
        return INVALID
    return OK if target in SEES[persona] else "403"


def filters_never_widen(persona: str, target: str) -> str:
    """A list filtered by an id from another scope answers as usual; the content check (no stranger shown)
    is what matters."""
    return OK


def filtered(name: str, query: Body, variant: str) -> Route:
    """The list `name` filtered by an id from each target's scope (department, helper)."""
    return Route(name, "use", elsewhere, query=query, expect=filters_never_widen, variant=variant)


def only_its_addressee(persona: str, target: str) -> str:
    """A notification (here: the one of the target's helper) is its addressee's alone: 404 for everyone else,
    the employment office included."""
    return OK if (persona, target) == ("helper", "own") else "404"


ROUTES: dict[str, Route] = {
    r.key: r
    for r in (
        # --- pages -----------------------------------------------------------------------------------------
        Route("home", "use"),
        Route("students:list", "use"),
        filtered("students:list", in_department, "?department"),
        filtered("students:list", by_helper, "?helper"),
        Route("students:create", "create"),
        Route("students:me", "self", refused="404"),
        Route("students:ledger", "use"),
        filtered("students:ledger", in_department, "?department"),
        Route("students:detail", "view", student),
        Route("students:edit", "edit", student),
        Route("students:reveal_id", "reveal_id", student, method="post", refused_input_is_ok=True),
        Route("students:ledger_join", "manage_ledger", student),
        Route("students:ledger_edit", "manage_ledger", student),
        Route("students:ledger_leave", "manage_ledger", student),
        Route("students:evidence", "view_sensitive", evidence),
        Route("students:evidence_upload", "manage_ledger", evidence),
        Route("students:survey:list", "manage_survey"),
        Route("students:survey:fill", "manage_survey", student),
        Route("students:survey:decide", "manage_survey", student, method="post", refused_input_is_ok=True),
        Route("assistance:my_students", "staff"),
        Route("assistance:caseload", "assign"),
        Route("assistance:bulk_assign", "assign", elsewhere, method="post", body=bulk_form, gate_first=True),
        Route("assistance:assign", "assign", student),
        Route("assistance:hand_over", "assign", student),
        Route("assistance:end", "assign", student),
        Route("assistance:quick_log", "log", student, method="post", refused_input_is_ok=True),
        Route("assistance:activity_new", "log", student),
        Route("assistance:activity_edit", "log", student_activity),
        Route("assistance:activity_correct", "log", student_activity),
        Route("assistance:activity_attachment", "internal", student_activity),
        Route("assistance:timeline", "view", student),
        Route("assistance:plan", "view", student),
        Route("assistance:plan", "plan", student, method="post", refused_input_is_ok=True, variant="POST"),
        Route("assistance:plan_review", "plan", student, method="post", refused_input_is_ok=True),
        Route("assistance:compliance", "lead", elsewhere, query=in_department, gate_first=True),
        Route("assistance:policy", "policy", elsewhere, query=in_school, gate_first=True),
        Route("notifications:list", "use"),
        Route("notifications:preferences", "use"),
        Route("notifications:read_all", "use", method="post"),
        Route("notifications:read", "use", notification, method="post", expect=only_its_addressee),
        Route("audit:index", "audit"),
        Route("audit:history", "audit"),
        Route("audit:access", "audit"),
        # --- API (session login) -----------------------------------------------------------------------------
        Route("api:students_list", "view"),
        filtered("api:students_list", in_department, "?department"),
        filtered("api:students_list", by_helper, "?helper"),
        Route(
            "api:students_create",
            "create",
            elsewhere,
            method="post",
            body=new_student,
            gate_first=True,
            expect=creating_in_a_class,
        ),
        Route("api:students_retrieve", "view", student),
        Route("api:students_update", "edit", student, method="patch", body=phone_change),
        Route("api:ledger_list", "view", student),
        Route("api:ledger_join", "manage_ledger", student, method="post", body=joining, prepare=leave_the_ledger),
        Route("api:ledger_retrieve", "view", entry),
        Route("api:ledger_update", "manage_ledger", entry, method="patch", body=entry_change),
        Route("api:ledger_leave", "manage_ledger", entry, method="post", body=leaving),
        Route("api:assignments_mine", "view"),
        Route("api:assignments_for_student", "view", student),
        # Every target already has a helper, so an assigner is told to hand over instead (422); the refusals
        # (403, 404) come before that check.
        Route(
            "api:assignments_assign",
            "assign",
            student,
            method="post",
            body=naming_a_helper,
            refused_input_is_ok=True,
        ),
        Route("api:assignments_hand_over", "assign", student, method="post", body=handing_over),
        Route("api:assignments_retrieve", "view", assignment),
        Route("api:assignments_end", "assign", assignment, method="post", body=ending),
        Route("api:plans_retrieve", "view", student),
        Route("api:plans_save", "plan", student, method="put", body=plan_change),
        Route("api:plans_review", "plan", student, method="post", body=a_review),
        Route("api:activities_list", "view", student),
        Route("api:activities_create", "log", student, method="post", body=a_talk),
        Route("api:activities_retrieve", "view", activity),
        Route("api:activities_update", "log", activity, method="patch", body=notes_change),
        Route("api:activities_correct", "log", activity, method="post", body=a_correction),
        Route("api:activities_attachment", "internal", activity),
        Route("api:progress_retrieve", "view", student),
        Route("api:progress_due", "view"),
    )
}

# Routes the matrix does not cover, and why.
EXEMPT_PREFIXES = ("admin:", "admin/")  # Django's admin (named and unnamed patterns): its own staff checks
EXEMPT = {
    "healthz": "public health check, no data",
    "switch_language": "public, sets a cookie (and the user's own language)",
    "login": "accounts", "logout": "accounts", "password_change": "accounts", "password_change_done": "accounts",
    "password_reset": "accounts", "password_reset_done": "accounts", "password_reset_confirm": "accounts",
    "password_reset_complete": "accounts",
    "api:openapi-json": "the API's schema", "api:openapi-view": "the API's docs", "api:api-root": "the API's docs",
}  # fmt: skip

# Cells known to be wrong today: (route key, persona, target) → why. Each runs as a strict xfail of its own and is
# left out of the grouped test, so fixing the bug turns it into an unexpected pass that must be removed here.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def expected(route: Route, persona: str, target: str | None) -> str:
    if persona == "anonymous":
        return LOGIN
    if route.expect is not None:
        assert target is not None
        return route.expect(persona, target)
    allowed = persona in MAY[route.action]
    if target is None:
        return OK if allowed else route.refused
    if route.gate_first and not allowed:
        return "403"
    if target not in SEES[persona]:
        return "404"
    return OK if allowed else route.refused


# ---------------------------------------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def scene(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """One furnished world for the whole module, built once inside a transaction that is rolled back at the end.
    Each test runs in a savepoint of it (the `db` fixture), so a write made by one test never reaches another."""
    media = tmp_path_factory.mktemp("matrix-media")
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock(), transaction.atomic():
        yield furnish(make_world())
        transaction.set_rollback(True)


def client_of(scene: Scene, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        login(client, scene.user(persona))
    return client


def check(scene: Scene, client: Client, route: Route, persona: str, target: str | None) -> str | None:
    """Ask as `persona`, and describe what is wrong with the answer (None when it is as expected)."""
    if route.prepare is not None and target is not None:
        route.prepare(scene, target)
    on = target or "own"
    response = send(
        client,
        name=route.name,
        method=route.method,
        args=route.args(scene, on) if route.args is not None else [],
        query=route.query(scene, on) if route.query is not None else None,
        body=route.body(scene, on) if route.body is not None else None,
    )
    hint = describe(response)
    strangers = [getattr(scene.world, key) for key in STUDENTS if key not in SEES[persona]]
    text = text_of(response)
    shown = shown_strangers(text, strangers)
    told = told_secrets(scene, route, persona, text)
    got = outcome(response, refused_input_is_ok=route.refused_input_is_ok)
    want = expected(route, persona, target)
    cell = "-".join(p for p in (route.key.replace(" ", "-"), persona, target) if p)
    if got != want:
        return f"{cell}: expected {want}, got {got} ({route.method.upper()} {hint})"
    if shown:
        return f"{cell}: shows students outside the persona's scope: {', '.join(shown)}"
    if told:
        return f"{cell}: shows what the persona may not read: {', '.join(told)}"
    return None


def told_secrets(scene: Scene, route: Route, persona: str, text: str) -> list[str]:
    """The secrets of students the persona sees that the text shows although the persona may not read them."""
    told = []
    for key in SEES[persona]:
        for secret, value in scene.secrets[key].items():
            may = persona in MAY[SECRETS[secret]] and REVEALS.get(secret, route.name) == route.name
            if value and value in text and not may:
                told.append(f"{secret} of {key}")
    return told


def cells(route: Route, persona: str) -> list[str | None]:
    targets: list[str | None] = list(TARGETS) if route.targeted else [None]
    return [t for t in targets if (route.key, persona, t) not in KNOWN_BUGS]


@pytest.mark.parametrize(
    ("key", "persona"),
    [(key, persona) for key in ROUTES for persona in PERSONAS],
    ids=[f"{key.replace(' ', '-')}-{persona}" for key in ROUTES for persona in PERSONAS],
)
def test_route_answers_each_persona_as_the_rules_say(scene: Scene, db: None, key: str, persona: str) -> None:
    route, client = ROUTES[key], client_of(scene, persona)
    mismatches = [m for target in cells(route, persona) if (m := check(scene, client, route, persona, target))]
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize(
    ("key", "persona", "target"),
    [pytest.param(*cell, marks=pytest.mark.xfail(strict=True, reason=reason)) for cell, reason in KNOWN_BUGS.items()]
    or [pytest.param(None, None, None, marks=pytest.mark.skip(reason="no known authorization bug"))],
    ids=["-".join(cell).replace(" ", "-") for cell in KNOWN_BUGS] or ["none"],
)
def test_known_bug(scene: Scene, db: None, key: str, persona: str, target: str) -> None:
    assert check(scene, client_of(scene, persona), ROUTES[key], persona, target) is None


def test_every_route_is_in_the_matrix() -> None:
    """A new page or endpoint must get its row here (or a visible exemption) before it can land."""
    names = set(resolver_routes())
    exempt = {n for n in names if n in EXEMPT or n.startswith(EXEMPT_PREFIXES)}
    rows = {route.name for route in ROUTES.values()}
    assert sorted(names - exempt - rows) == [], "routes without a row in the authorization matrix"
    assert sorted(rows - names) == [], "rows for routes that no longer exist"
    assert sorted(set(EXEMPT) - names) == [], "exemptions for routes that no longer exist"


def test_every_api_operation_is_in_the_matrix_with_its_method() -> None:
    operations = api_operations()
    rows = {route.name.removeprefix("api:"): route for route in ROUTES.values() if route.name.startswith("api:")}
    assert sorted(set(operations) - set(rows)) == [], "API operations without a row in the authorization matrix"
    assert {op: method for op, (method, _path) in operations.items()} == {op: r.method for op, r in rows.items()}


def test_every_persona_and_target_of_the_world_is_in_the_matrix() -> None:
    """The personas and students of the `world` fixture are all here (a new persona needs its column)."""
    fields = set(World.__dataclass_fields__)
    assert set(PERSONAS) - {"anonymous"} <= fields
    assert set(TARGETS) - {GUESSED} <= fields
    people = {"office", "principal", "leader", "other_leader", "counsellor", "helper", "student_user", "outsider"}
    students = {"own", "classmate", "dept2_student", "other_school_student"}
    units = {"school", "dept1", "dept2", "class1", "class2", "other_school"}
    assert fields == people | students | units, "a new persona or student in `world` needs a place in the matrix"


# Paths that name a student and an object of another student (one in scope, one outside it): 404 for whoever
# may otherwise open the page, never the other student's object.
MIXED = ("students:evidence", "students:evidence_upload", "assistance:activity_edit", "assistance:activity_correct",
         "assistance:activity_attachment")  # fmt: skip


@pytest.mark.parametrize("name", MIXED)
@pytest.mark.parametrize("other", ["classmate", "other_school_student"])
def test_a_path_that_mixes_two_students_ids_is_404(scene: Scene, db: None, name: str, other: str) -> None:
    sub_id = scene.category_id(other) if name.startswith("students:") else scene.activity_id(other)
    wrong = []
    for persona in ("office", "leader"):
        response = send(client_of(scene, persona), name=name, method="get", args=[scene.student_id("own"), sub_id])
        if response.status_code != 404:
            wrong.append(f"{name}-{persona}-own+{other}: {describe(response)}")
        close_quietly(response)
    assert not wrong, "\n".join(wrong)
