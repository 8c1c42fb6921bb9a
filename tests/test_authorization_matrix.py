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

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from bangfu.outcomes.models import FollowUp
from bangfu.portal.accounts import FOLLOW_UP_PURPOSE, first_login_token, send_follow_up_link
from bangfu.portal.models import AccountLink, FollowUpLink, LinkPurpose
from bangfu.portal.tokens import make_token
from bangfu.tracks.forms import MilestoneRowForm
from tests.conftest import TODAY, World, make_world
from tests.matrix_support import (
    GUESSED,
    INVALID,
    LOGIN,
    OK,
    PDF,
    PNG,
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
    leave_the_order_class,
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
    "record_outcome": UNIT_MANAGERS | {"counsellor", "helper"},  # internships, order classes, destinations
    "verify": UNIT_MANAGERS,  # verify a destination's evidence
    "unit_view": UNIT_MANAGERS | {"principal", "counsellor"},  # unplaced list, placement figures
    "school_staff": STAFF,  # employers, positions, events: every staff member of the school
    "manage_employers": UNIT_MANAGERS | {"counsellor"},
    # Start, edit, submit, withdraw an application: staff for the student, or the student themself.
    "apply_subsidy": UNIT_MANAGERS | {"counsellor", "helper", "student_user"},
    "school_board": frozenset({"office", "principal", "outsider"}),  # the school leader's dashboard
    # A grant on the province unit opens the province board; no persona holds one (see test_province_board.py).
    "province_board": frozenset(),
    "department_board": UNIT_MANAGERS | {"principal"},  # the "clearing to zero" board of a department
    "import": UNIT_MANAGERS | {"counsellor"},  # some import target (a counsellor: destinations)
    # Move a recommendation: those who log help, and the student answering their own (the API's answers).
    "answer": UNIT_MANAGERS | {"helper", "student_user"},
    "approve_department": UNIT_MANAGERS,  # the first approval of a subsidy application
    "approve_school": frozenset({"office", "outsider"}),  # the school's approval, notices, budgets, payment
}

# What a page or an answer shows only to some of those who see the student: secret → the action of MAY whose
# personas may read it. The full ID number is shown only by the reveal page (each reveal is logged).
SECRETS: dict[str, str] = {
    "family_situation": "view_sensitive",
    "internal_notes": "internal",
    "id_number": "reveal_id",
}
REVEALS = {"id_number": "students:reveal_id"}
# A page that shows its own secret to the student it is about: (route, persona) → the secrets. "My data" shows the
# student the family situation the school holds about them.
OWN_SECRETS: dict[tuple[str, str], set[str]] = {("portal:data", "student_user"): {"family_situation"}}

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


# Employers, positions and recruitment events belong to a school, not to a student: a target stands for the
# objects of its school, which every staff member of that school sees (and nobody else).
SCHOOL_STAFF_SEES: dict[str, set[str]] = {
    "own": {"office", "principal", "leader", "other_leader", "counsellor", "helper"},
    "classmate": {"office", "principal", "leader", "other_leader", "counsellor", "helper"},
    "dept2_student": {"office", "principal", "leader", "other_leader", "counsellor", "helper"},
    "other_school_student": {"outsider"},
    GUESSED: set(),
}


def of_the_school(action: str) -> Callable[[str, str], str]:
    """A school's object: 404 outside the school's staff, then the action's rule."""

    def expect(persona: str, target: str) -> str:
        if persona not in SCHOOL_STAFF_SEES[target]:
            return "404"
        return OK if persona in MAY[action] else "403"

    return expect


def for_a_student_of_the_school(action: str) -> Callable[[str, str], str]:
    """A school's object used for one of its students (e.g. recommending the school's position to the target):
    404 unless the persona sees both, then the action's rule."""

    def expect(persona: str, target: str) -> str:
        if persona not in SCHOOL_STAFF_SEES[target] or target not in SEES[persona]:
            return "404"
        return OK if persona in MAY[action] else "403"

    return expect


def employer(scene: Scene, target: str) -> list[Any]:
    return [scene.employer_id(target)]


def position(scene: Scene, target: str) -> list[Any]:
    return [scene.position_id(target)]


def event(scene: Scene, target: str) -> list[Any]:
    return [scene.event_id(target)]


def student_field(scene: Scene, target: str) -> dict[str, Any]:
    return {"student": str(scene.student_id(target)), "notes": "一起参加春季招聘会，投递两份简历。"}


def student_and(sub: str) -> Args:
    """The target student and one of their records (`scene.<sub>_id`)."""

    def args(scene: Scene, target: str) -> list[Any]:
        return [scene.student_id(target), getattr(scene, f"{sub}_id")(target)]

    return args


def school_route(name: str, action: str, args: Args, **kw: Any) -> Route:
    return Route(name, action, args, expect=of_the_school(action), **kw)


def naming_the_school(persona: str, target: str) -> str:
    """POST employers, positions, events: the role first (the same 403 for every id), then a school or an employer
    the caller does not work for is unknown (422, like any unknown id in a body)."""
    if persona not in MAY["manage_employers"]:
        return "403"
    return OK if persona in SCHOOL_STAFF_SEES[target] else INVALID


def a_new_employer(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "school": str(scene.school_id(target)),
        "name": f"河北新业{scene.next_number()}商贸有限公司",  # a new name each time: a school's names are unique
        "industry": "F",
        "city": "保定市",
        "is_internship_base": True,
    }


def employer_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.employer(target)
    return {"contact_phone": "0311-87654321", "version": current.version if current else 1}


def a_new_position(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "employer": str(scene.employer_id(target)),
        "kind": "job",
        "title": "会计助理",
        "salary_min": 3500,
        "salary_max": 5000,
        "openings": 2,
    }


def position_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.position(target)
    return {"openings": 5, "version": current.version if current else 1}


def a_new_event(scene: Scene, target: str) -> dict[str, Any]:
    return {"school": str(scene.school_id(target)), "title": "秋季双选会", "held_on": today(), "place": "体育馆"}


def event_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.event(target)
    return {"place": "图书馆报告厅", "version": current.version if current else 1}


def going_to_the_event(scene: Scene, target: str) -> dict[str, Any]:
    return {"event": str(scene.event_id(target)), "notes": "一起参加春季招聘会，投递两份简历。"}


def recommending_the_internship(scene: Scene, target: str) -> dict[str, Any]:
    """The school's internship post: the job is already recommended to every target (a repeat is refused)."""
    return {"position": str(scene.position_id(target, "internship")), "note": "实习岗位与专业对口。"}


def applying(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.recommendation(target)
    return {"status": "applied", "version": current.version if current else 1}


def a_follow_up(scene: Scene, target: str) -> dict[str, Any]:
    return {"done_on": today(), "status": "still_employed", "notes": "电话回访：工作稳定，已转正。"}


def an_internship(scene: Scene, target: str) -> dict[str, Any]:
    return {"employer": str(scene.employer_id(target)), "started_on": today()}


def closing_the_internship(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.internship(target)
    return {
        "ended_on": today(),
        "evaluation": "good",
        "evaluation_note": "踏实肯干，实习单位评价良好。",
        "version": current.version if current else 1,
    }


def joining_the_order_class(scene: Scene, target: str) -> dict[str, Any]:
    return {"position": str(scene.position_id(target, "order_class")), "joined_on": today()}


def leaving_the_order_class(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.order_class(target)
    return {"left_on": today(), "reason": "转入专升本备考", "version": current.version if current else 1}


def starting_work_study(scene: Scene, target: str) -> dict[str, Any]:
    return {"position": str(scene.position_id(target, "work_study")), "started_on": today()}


def ending_work_study(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.work_study(target)
    return {"ended_on": today(), "version": current.version if current else 1}


def some_hours(scene: Scene, target: str) -> dict[str, Any]:
    return {"worked_on": today(), "hours": 2.5, "note": "图书馆整理书架"}


def a_labour_contract(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.destination(target)
    return {
        "code": "11",
        "employer": str(scene.employer_id(target)),
        "position_title": "出纳",
        "salary": 4500,
        "replaces": str(current.public_id if current else scene.guessed_id),
    }


def the_agreement(scene: Scene, target: str) -> dict[str, Any]:
    """A multipart form (`send` posts a body holding a file as one)."""
    current = scene.destination(target)
    return {
        "evidence_kind": "employment_agreement",
        "version": str(current.version if current else 1),
        "evidence": SimpleUploadedFile("就业协议书.pdf", PDF, content_type="application/pdf"),
    }


def as_read(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.destination(target)
    return {"version": current.version if current else 1}


def of_the_cohort(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.student(target)
    return {"year": current.expected_graduation.year if current else 2025, "by": "department"}


def recommendation(scene: Scene, target: str) -> list[Any]:
    return [scene.recommendation_id(target)]


def internship(scene: Scene, target: str) -> list[Any]:
    return [scene.internship_id(target)]


def order_class(scene: Scene, target: str) -> list[Any]:
    return [scene.order_class_id(target)]


def work_study(scene: Scene, target: str) -> list[Any]:
    return [scene.work_study_id(target)]


def destination(scene: Scene, target: str) -> list[Any]:
    return [scene.destination_id(target)]


# --- Subsidies: the school's types, budgets and payment batches; the target's applications, one in each state of
# SUBSIDY_STATES (a step is sent to the application in the state the step needs, so that it can succeed).


def subsidy_type(scene: Scene, target: str) -> list[Any]:
    return [scene.subsidy_type_id(target)]


def student_and_subsidy_type(scene: Scene, target: str) -> list[Any]:
    return [scene.student_id(target), scene.subsidy_type_id(target)]


def budget_year(scene: Scene, target: str) -> list[Any]:
    """The type and the year of its furnished budget."""
    return [scene.subsidy_type_id(target), TODAY.year]


def application(state: str) -> Args:
    """The target's application in `state`."""

    def args(scene: Scene, target: str) -> list[Any]:
        return [scene.application_id(target, state)]

    return args


def application_and_receipt(scene: Scene, target: str) -> list[Any]:
    return [scene.application_id(target, "draft"), scene.receipt_id(target)]


def application_and_objection(scene: Scene, target: str) -> list[Any]:
    return [scene.application_id(target, "objected"), scene.objection_id(target)]


def objection(scene: Scene, target: str) -> list[Any]:
    return [scene.objection_id(target)]


def batch(scene: Scene, target: str) -> list[Any]:
    return [scene.batch_id(target)]


def batch_and_application(scene: Scene, target: str) -> list[Any]:
    return [scene.batch_id(target), scene.application_id(target, "batched")]


def step(state: str, comment: str = "") -> Body:
    """A workflow step on the target's application in `state`, with the version read (and a comment)."""

    def body(scene: Scene, target: str) -> dict[str, Any]:
        current = scene.application(target, state)
        return {"version": current.version if current else 1, "comment": comment}

    return body


RETURNING = "证明材料不全，请补充低保证明后重新提交。"
REJECTING = "公示期间核实：该生家庭已有稳定收入。"


def naming_applications(state: str) -> Body:
    """A notice for the target's application in `state` (a form's ticked box, or the API's list)."""

    def body(scene: Scene, target: str) -> dict[str, Any]:
        return {"applications": [str(scene.application_id(target, state))], "starts_on": today()}

    return body


def an_objection(scene: Scene, target: str) -> dict[str, Any]:
    """Raised on the first day of the (past) notice of the target's application on notice."""
    current = scene.application("own" if target == GUESSED else target, "objected")
    assert current is not None and current.notice_starts_on is not None
    return {"content": "有同学反映该生家庭收入情况与申报不符。", "raised_on": current.notice_starts_on.isoformat()}


def a_resolution_form(scene: Scene, target: str) -> dict[str, Any]:
    return {"handling": "经走访核实，反映情况不属实。", "upheld": "no"}


def a_resolution(scene: Scene, target: str) -> dict[str, Any]:
    return {"handling": "经走访核实，反映情况不属实。", "upheld": False}


def a_receipt_form(scene: Scene, target: str) -> dict[str, Any]:
    """A multipart form (the page's, and the API's: `send` posts a body holding a file as one)."""
    return {
        "file": SimpleUploadedFile("车票.pdf", PDF, content_type="application/pdf"),
        "amount": "86.50",
        "description": "石家庄—保定 高铁",
    }


def the_application_evidence(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.application(target, "draft")
    return {
        "version": str(current.version if current else 1),
        "evidence": SimpleUploadedFile("住院证明.pdf", PDF, content_type="application/pdf"),
    }


def draft_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.application(target, "draft")
    return {"amount": "500.00", "reason": "母亲住院，医药费负担重。", "version": current.version if current else 1}


def draft_change_form(scene: Scene, target: str) -> dict[str, Any]:
    return {key: str(value) for key, value in draft_change(scene, target).items()}


def applying_form(scene: Scene, target: str) -> dict[str, Any]:
    return {"amount": "600.00", "reason": "父亲务农收入微薄，申请临时困难补助。"}


def applying_for_a_subsidy(scene: Scene, target: str) -> dict[str, Any]:
    return {"subsidy_type": str(scene.subsidy_type_id(target)), "reason": "父亲务农收入微薄，申请临时困难补助。"}


def a_new_subsidy_type(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "school": str(scene.school_id(target)),
        "code": f"local_{scene.next_number()}",  # a new code each time: a school's codes are unique
        "name": "冬季取暖补助",
        "name_en": "Winter heating grant",
        "amount_kind": "capped",
        "amount": "400.00",
        "public_notice_days": 3,
    }


def a_new_subsidy_type_form(scene: Scene, target: str) -> dict[str, Any]:
    return {**a_new_subsidy_type(scene, target), "is_active": "on"}


def subsidy_type_form(scene: Scene, target: str) -> dict[str, Any]:
    """The type's edit form as the page shows it, with a new description."""
    current = scene.subsidy_type(target)
    return {
        "code": current.code if current else "temporary_hardship",
        "name": current.name if current else "临时困难补助",
        "name_en": current.name_en if current else "Temporary hardship grant",
        "description": "家庭遭遇突发困难的学生可申请。",
        "amount_kind": current.amount_kind if current else "capped",
        "amount": str(current.amount if current else "800.00"),
        "public_notice_days": current.public_notice_days if current else 5,
        "is_active": "on",
        "version": current.version if current else 1,
    }


def subsidy_type_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.subsidy_type(target)
    return {"description": "家庭遭遇突发困难的学生可申请。", "version": current.version if current else 1}


def a_budget_form(scene: Scene, target: str) -> dict[str, Any]:
    return {"subsidy_type": str(scene.subsidy_type_id(target)), "year": TODAY.year, "amount": "120000.00"}


def a_budget(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.subsidy_type(target)
    budget = current.budgets.filter(year=TODAY.year).first() if current else None
    return {"amount": "120000.00", "version": budget.version if budget else None}


def a_batch(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "school": str(scene.school_id(target)),
        "name": "2024年春季临时困难补助发放",
        "applications": [str(scene.application_id(target, "payable"))],
    }


def paying(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.batch(target)
    return {"paid_on": today(), "version": current.version if current else 1}


def naming_the_school_first(action: str) -> Callable[[str, str], str]:
    """A school named in the body: one the caller does not work in is unknown (422, like any unknown id in a body),
    then the action's rule (403)."""

    def expect(persona: str, target: str) -> str:
        if persona not in SCHOOL_STAFF_SEES[target]:
            return INVALID
        return OK if persona in MAY[action] else "403"

    return expect


def naming_applications_first(persona: str, target: str) -> str:
    """POST /subsidy-applications/start-notice names applications in its body: one the caller cannot see is unknown
    (422, the same for a guess), then the school's approval is needed (403)."""
    if target not in SEES[persona]:
        return INVALID
    return OK if persona in MAY["approve_school"] else "403"


def only_the_office_of_the_school(persona: str, target: str) -> str:
    """A payment batch in the API exists only for the office of its school (404 for everyone else, the school's
    other staff included)."""
    return OK if persona in MAY["approve_school"] and persona in SCHOOL_STAFF_SEES[target] else "404"


# --- Tracks: the school's tracks (the target is on 签约护航, not on 考公考编), the target's enrolment.


def student_and_track(scene: Scene, target: str) -> list[Any]:
    return [scene.student_id(target), scene.track_type_id(target)]


def track(scene: Scene, target: str) -> list[Any]:
    return [scene.track_type_id(target, "enrolled_track")]


def enrolment(scene: Scene, target: str) -> list[Any]:
    return [scene.enrolment_id(target)]


def joining_the_track_form(scene: Scene, target: str) -> dict[str, Any]:
    return {"joined_on": today()}


def joining_the_track(scene: Scene, target: str) -> dict[str, Any]:
    return {"track": str(scene.track_type_id(target)), "joined_on": today()}


def the_next_milestone(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.enrolment(target)
    return {
        "milestone": "intention",
        "reached_on": today(),
        "note": "意向：石家庄纺织企业，跟单员。",
        "version": current.version if current else 1,
    }


def leaving_the_track(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.enrolment(target)
    return {"left_on": today(), "reason": "改为专升本备考", "version": current.version if current else 1}


def _track_form(fields: dict[str, Any], milestones: list[dict[str, Any]]) -> dict[str, Any]:
    """A track type's page form: its fields, the milestones' formset (prefix m), an empty programmes' one (p)."""
    rows = {f"m-{i}-{name}": value for i, row in enumerate(milestones) for name, value in row.items()}
    return {
        **fields,
        **rows,
        "m-TOTAL_FORMS": len(milestones),
        "m-INITIAL_FORMS": 0,
        "p-TOTAL_FORMS": 0,
        "p-INITIAL_FORMS": 0,
    }


def a_new_track_form(scene: Scene, target: str) -> dict[str, Any]:
    fields = {
        **in_school(scene, target),
        "code": f"local_{scene.next_number()}",  # a new code each time: a school's codes are unique
        "name": "乡村医生定向",
        "position": 9,
        "is_active": "on",
    }
    milestones = [
        {"code": "applied", "label": "报名", "kind": "step"},
        {"code": "placed", "label": "上岗", "kind": "success"},
    ]
    return _track_form(fields, milestones)


def track_form(scene: Scene, target: str) -> dict[str, Any]:
    """The edit form of the track the target is on, as the page shows it, with a new description."""
    current = scene.track_type("own" if target == GUESSED else target, "enrolled_track")
    assert current is not None
    fields = {
        "code": current.code,
        "name": current.name,
        "name_en": current.name_en,
        "description": "帮扶责任人全程陪伴求职，直到签约。",
        "position": current.position,
        "is_active": "on",
        "version": current.version,
    }
    return _track_form(fields, [MilestoneRowForm.initial_of(m) for m in current.milestones])


def of_the_department(scene: Scene, target: str) -> dict[str, Any]:
    return {"unit": str(scene.department_id(target))}


def on_the_track_now(scene: Scene, target: str) -> dict[str, Any]:
    return {"status": "open"}


def a_unit_in_view(persona: str, target: str) -> str:
    """Track counts of the target's department: 403 without any unit-wide view of students (the same for every id),
    then 404 for a department outside that view (a counsellor's view is their class)."""
    if persona not in MAY["unit_view"]:
        return "403"
    return OK if target in SEES[persona] and persona != "counsellor" else "404"


def a_track_in_view(persona: str, target: str) -> str:
    """The students on a track of the target's school, in the caller's widest unit: 403 without any unit-wide view,
    then 404 for a track of a school the caller does not work in."""
    if persona not in MAY["unit_view"]:
        return "403"
    return OK if persona in SCHOOL_STAFF_SEES[target] else "404"


def export_job(scene: Scene, target: str) -> list[Any]:
    return [scene.export_job_id(target)]


def import_job(scene: Scene, target: str) -> list[Any]:
    return [scene.import_job_id(target)]


def students_template(scene: Scene, target: str) -> list[Any]:
    return ["students"]


def importers_of_students(persona: str, target: str) -> str:
    """The template of the students import: those who may import students (not a counsellor); the same for any id."""
    return OK if persona in UNIT_MANAGERS else "403"


def only_its_owner(persona: str, target: str) -> str:
    """An import job is its owner's alone (here: the office of the target's school): 404 for everyone else."""
    owner = "outsider" if target == "other_school_student" else "office"
    return OK if target != GUESSED and persona == owner else "404"


def only_its_addressee(persona: str, target: str) -> str:
    """A notification (here: the one of the target's helper) is its addressee's alone: 404 for everyone else,
    the employment office included."""
    return OK if (persona, target) == ("helper", "own") else "404"


# --- Exemplary cases: the school's case types; the target's consent in force and cases (one in each state of
# CASE_STATES: a step is sent to the case in the state the step needs, so that it can succeed). The case pages and
# API are the staff's: a student user is refused them all (their own page is showcase:my).


def exemplary_case(state: str) -> Args:
    """The target's case in `state`."""

    def args(scene: Scene, target: str) -> list[Any]:
        return [scene.case_id(target, state)]

    return args


def consent(scene: Scene, target: str) -> list[Any]:
    return [scene.consent_id(target)]


def case_type(scene: Scene, target: str) -> list[Any]:
    return [scene.case_type_id(target)]


def staff_first(action: str) -> Callable[[str, str], str]:
    """A case page or endpoint for staff: 403 for a student user whatever the id, then the usual rule."""

    def expect(persona: str, target: str) -> str:
        if persona not in MAY["staff"]:
            return "403"
        if target not in SEES[persona]:
            return "404"
        return OK if persona in MAY[action] else "403"

    return expect


def the_student_or_who_keeps_the_plan(persona: str, target: str) -> str:
    """A consent is withdrawn by the student themself or, on their behalf, by staff who keep their plan."""
    if target not in SEES[persona]:
        return "404"
    return OK if persona in MAY["plan"] or persona == "student_user" else "403"


def a_unit_to_report_on(persona: str, target: str) -> str:
    """The yearly report of the target's department: for leaders and the office whose view covers it; 403 for
    another unit of a school the caller works at, 404 for another school's unit (or a guess)."""
    if persona not in SCHOOL_STAFF_SEES[target]:
        return "404"
    return OK if persona in MAY["lead"] and target in SEES[persona] else "403"


def a_nomination(scene: Scene, target: str) -> dict[str, Any]:
    """The page's form and the API's body alike."""
    return {
        "case_type": str(scene.case_type_id(target)),
        "title": "三次修改简历后签约石家庄纺织企业",
        "story": "在帮扶老师陪伴下参加三场招聘会，最终签约家乡附近的纺织企业，方便照顾祖父母。",
        "employer": "石家庄常山纺织有限公司",
        "position": "跟单员",
        "comment": "求职经历有代表性，适合作为就业榜样。",
    }


def case_change_form(scene: Scene, target: str) -> dict[str, Any]:
    """The edit form of the target's nominated case, with a new title."""
    current = scene.case(target, "nominated")
    return {
        "case_type": str(scene.case_type_id(target)),
        "title": "从技能大赛到纺织企业跟单员",
        "story": current.story if current else "在校期间三次参加省级技能大赛。",
        "employer": current.employer if current else "",
        "position": current.position if current else "",
        "version": current.version if current else 1,
    }


def case_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.case(target, "nominated")
    return {"title": "从技能大赛到纺织企业跟单员", "version": current.version if current else 1}


def case_step(state: str, comment: str = "") -> Body:
    """A workflow step on the target's case in `state`, with the version read (and a comment)."""

    def body(scene: Scene, target: str) -> dict[str, Any]:
        current = scene.case(target, state)
        return {"version": current.version if current else 1, "comment": comment}

    return body


REJECTING_CASE = "事迹材料与实际不符，请核实后重新推荐。"
UNPUBLISHING = "学生毕业后工作单位变更，先下线待更新。"


def a_consent_form(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "name_shown": "surname",
        "shown": ["show_story", "show_employer"],
        "given_on": today(),
        "note": "学生本人签字，只同意公开事迹和就业单位。",
    }


def a_consent(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "name_shown": "surname",
        "show_story": True,
        "show_employer": True,
        "given_on": today(),
        "note": "学生本人签字，只同意公开事迹和就业单位。",
    }


def withdrawing(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.consent(target)
    return {"version": current.version if current else 1, "note": "学生本人要求撤回授权。"}


def a_new_case_type(scene: Scene, target: str) -> dict[str, Any]:
    return {
        **in_school(scene, target),
        "code": f"local_{scene.next_number()}",  # a new code each time: a school's codes are unique
        "name": "技能成才",
        "name_en": "Skilled achiever",
    }


def a_new_case_type_form(scene: Scene, target: str) -> dict[str, Any]:
    return {**a_new_case_type(scene, target), "is_active": "on"}


def case_type_form(scene: Scene, target: str) -> dict[str, Any]:
    """The type's edit form as the page shows it, with a new description."""
    current = scene.case_type(target)
    return {
        "code": current.code if current else "employment_role_model",
        "name": current.name if current else "就业榜样",
        "name_en": current.name_en if current else "Employment role model",
        "description": "在帮扶下顺利就业、可供学弟学妹借鉴的毕业生。",
        "is_active": "on",
        "version": current.version if current else 1,
    }


def case_type_change(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.case_type(target)
    return {"description": "在帮扶下顺利就业、可供学弟学妹借鉴的毕业生。", "version": current.version if current else 1}


# --- The student portal (/me/), student accounts and follow-up links. The portal's pages read the student linked to
# the login, so a staff member has no such page (404) and an id in a portal URL picks among the student's own
# records (anyone else's: 404). The staff's pages here: a helper's résumé revision, the office's batches of student
# accounts (the school's batch holds the accounts of `classmate` and `dept2_student`, one in each department), the
# graduates due a follow-up.


def resume_version(scene: Scene, target: str) -> list[Any]:
    return [scene.resume_version_id(target)]


def account_batch(scene: Scene, target: str) -> list[Any]:
    return [scene.account_batch_id(target)]


def answering(scene: Scene, target: str) -> dict[str, Any]:
    """The student's "I applied" on the recommendation (the recommended job)."""
    current = scene.recommendation(target)
    return {"to_status": "applied", "version": current.version if current else 1, "reason": "", "note": ""}


def a_resume(scene: Scene, target: str) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("个人简历（新版）.pdf", PDF, content_type="application/pdf"),
        "comment": "补充了技能大赛获奖经历。",
    }


def a_revision(scene: Scene, target: str) -> dict[str, Any]:
    """The helper's revised résumé, revising the target's own version."""
    current = scene.resume_version(target)
    return {
        "file": SimpleUploadedFile("简历修改稿.pdf", PDF, content_type="application/pdf"),
        "comment": "按跟单员岗位要求重写了求职意向，补充了实习经历。",
        "revises": str(current.public_id) if current else "",
    }


def resubmitting(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.application(target, "draft")
    return {"reason": "母亲住院，医药费负担重，申请临时困难补助。", "version": current.version if current else 1}


def withdrawing_the_application(scene: Scene, target: str) -> dict[str, Any]:
    current = scene.application(target, "submitted")
    return {"comment": "家里情况好转，不再需要补助。", "version": current.version if current else 1}


def confirming(scene: Scene, target: str) -> dict[str, Any]:
    return {"answer": "confirm", "note": ""}


def every_student_of_the_list(scene: Scene, target: str) -> dict[str, Any]:
    return {"all": "1", "next": ""}


def making_an_account(scene: Scene, target: str) -> dict[str, Any]:
    return {"students": [str(scene.student_id(target))], "next": ""}


def the_student_for_a_type_of_their_school(persona: str, target: str) -> str:
    """The portal's subsidy form: the student themself, for a type of their own school (a target of the school stands
    for the school's type); 404 for everyone else, staff included."""
    return OK if persona == "student_user" and target in ("own", "classmate", "dept2_student") else "404"


def who_logs_or_the_student_sent_home(persona: str, target: str) -> str:
    """POST a helper's résumé revision: as "log" (404 outside the view, 403 for view-only staff), except that the
    student themself is sent to their own résumé page (a redirect)."""
    if target not in SEES[persona]:
        return "404"
    return OK if persona in MAY["log"] or persona == "student_user" else "403"


# Whose accounts the account batch of a target's school holds.
BATCH_HOLDS = {
    "own": {"classmate", "dept2_student"},
    "classmate": {"classmate", "dept2_student"},
    "dept2_student": {"classmate", "dept2_student"},
    "other_school_student": {"other_school_student"},
    GUESSED: set(),
}


def a_batch_holding_their_students(persona: str, target: str) -> str:
    """A batch of student accounts: 403 for whoever may make accounts nowhere (the same for every id), then 404
    unless the batch holds an account of a student the persona may make accounts for."""
    if persona not in MAY["create"]:
        return "403"
    return OK if BATCH_HOLDS[target] & SEES[persona] else "404"


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
        Route("opportunities:index", "use"),
        Route("opportunities:employers", "school_staff"),
        Route("opportunities:employer_create", "manage_employers"),
        school_route("opportunities:employer", "school_staff", employer),
        school_route("opportunities:employer_edit", "manage_employers", employer),
        school_route("opportunities:position_create", "manage_employers", employer),
        Route("opportunities:positions", "school_staff"),
        school_route("opportunities:position", "school_staff", position),
        school_route("opportunities:position_edit", "manage_employers", position),
        Route(
            "opportunities:position_recommend",
            "log",
            position,
            method="post",
            body=student_field,
            expect=for_a_student_of_the_school("log"),
        ),
        Route("opportunities:events", "school_staff"),
        Route("opportunities:event_create", "manage_employers"),
        school_route("opportunities:event", "school_staff", event),
        school_route("opportunities:event_edit", "manage_employers", event),
        # Attendance is recorded for one of the persona's own students: anyone who logs for somebody in the
        # school may post (a student they may not log for is a form error, not a refusal).
        school_route("opportunities:event_attend", "log", event, method="post", body=student_field),
        Route("jobs:student", "view", student),
        Route("jobs:recommend", "log", student, method="post", refused_input_is_ok=True),
        Route("jobs:step", "log", student_and("recommendation"), method="post", refused_input_is_ok=True),
        Route("jobs:internship_new", "record_outcome", student, method="post", refused_input_is_ok=True),
        Route(
            "jobs:internship_evaluate",
            "record_outcome",
            student_and("internship"),
            method="post",
            refused_input_is_ok=True,
        ),
        Route("jobs:order_class_join", "record_outcome", student, method="post", refused_input_is_ok=True),
        Route(
            "jobs:order_class_leave",
            "record_outcome",
            student_and("order_class"),
            method="post",
            refused_input_is_ok=True,
        ),
        Route("jobs:work_study_start", "record_outcome", student, method="post", refused_input_is_ok=True),
        Route(
            "jobs:work_study_end", "record_outcome", student_and("work_study"), method="post", refused_input_is_ok=True
        ),
        Route(
            "jobs:work_study_hours",
            "record_outcome",
            student_and("work_study"),
            method="post",
            refused_input_is_ok=True,
        ),
        Route("outcomes:unplaced", "unit_view"),
        Route("outcomes:figures", "unit_view"),
        Route("outcomes:student", "view", student),
        Route("outcomes:record", "record_outcome", student),
        Route("outcomes:evidence_upload", "record_outcome", student),
        Route("outcomes:evidence", "view_sensitive", student_and("destination")),
        Route("outcomes:verify", "verify", student, method="post", refused_input_is_ok=True),
        Route("outcomes:follow_up", "log", student),
        Route("reports:dashboard", "staff"),
        Route("reports:school", "school_board"),
        Route("reports:province", "province_board"),
        Route("reports:department", "department_board", elsewhere, query=in_department, gate_first=True),
        Route("reports:helper", "staff"),
        Route("exports:index", "staff"),
        Route("exports:ledger", "staff", method="post"),
        Route("exports:work_ledger", "staff", method="post"),
        Route("exports:placement", "unit_view", method="post", refused_input_is_ok=True),
        Route("exports:subsidies", "staff", method="post", refused_input_is_ok=True),
        Route("exports:follow_ups", "staff", method="post", refused_input_is_ok=True),
        # An export job is its requester's (here: the target's helper's), like a notification.
        Route("exports:job", "use", export_job, expect=only_its_addressee),
        Route("exports:download", "use", export_job, expect=only_its_addressee),
        Route("imports:list", "import"),
        Route("imports:upload", "import"),
        Route("imports:template", "import", students_template, expect=importers_of_students),
        Route("imports:job", "import", import_job, expect=only_its_owner),
        Route("imports:mapping", "import", import_job, expect=only_its_owner),
        Route("imports:preview", "import", import_job, expect=only_its_owner),
        Route("imports:errors", "import", import_job, expect=only_its_owner),
        Route("imports:commit", "import", import_job, method="post", refused_input_is_ok=True, expect=only_its_owner),
        Route("imports:cancel", "import", import_job, method="post", refused_input_is_ok=True, expect=only_its_owner),
        Route("audit:index", "audit"),
        Route("audit:history", "audit"),
        Route("audit:access", "audit"),
        # Subsidies: applications are seen through their student; the office's types, budgets and batches are
        # picked by ?school= (403 for everyone but an office, then 404 for another school) or by their id (404
        # outside the school's staff, 403 for its other staff).
        Route("subsidies:applications", "use"),
        Route(
            "subsidies:start_notice",
            "approve_school",
            elsewhere,
            method="post",
            body=naming_applications("school_approved"),
            gate_first=True,
        ),
        Route("subsidies:types", "approve_school", elsewhere, query=in_school, gate_first=True),
        Route(
            "subsidies:install_defaults", "approve_school", elsewhere, method="post", body=in_school, gate_first=True
        ),
        Route("subsidies:type_new", "approve_school", elsewhere, query=in_school, gate_first=True),
        Route(
            "subsidies:type_new",
            "approve_school",
            elsewhere,
            method="post",
            body=a_new_subsidy_type_form,
            gate_first=True,
            variant="POST",
        ),
        school_route("subsidies:type_edit", "approve_school", subsidy_type),
        school_route(
            "subsidies:type_edit", "approve_school", subsidy_type, method="post", body=subsidy_type_form, variant="POST"
        ),
        Route("subsidies:budgets", "approve_school", elsewhere, query=in_school, gate_first=True),
        # A budget is set on a type named in the form: the type decides (404 outside its school's staff).
        Route(
            "subsidies:budgets",
            "approve_school",
            elsewhere,
            method="post",
            body=a_budget_form,
            expect=of_the_school("approve_school"),
            variant="POST",
        ),
        Route("subsidies:batches", "approve_school", elsewhere, query=in_school, gate_first=True),
        Route("subsidies:batch_new", "approve_school", elsewhere, query=in_school, gate_first=True),
        Route(
            "subsidies:batch_new",
            "approve_school",
            elsewhere,
            method="post",
            body=a_batch,
            gate_first=True,
            variant="POST",
        ),
        school_route("subsidies:batch", "approve_school", batch),
        school_route("subsidies:batch_export", "approve_school", batch),
        school_route("subsidies:batch_paid", "approve_school", batch, method="post", body=paying),
        school_route("subsidies:batch_remove", "approve_school", batch_and_application, method="post"),
        Route("subsidies:apply_choose", "apply_subsidy", student),
        Route("subsidies:apply", "apply_subsidy", student_and_subsidy_type),
        Route(
            "subsidies:apply",
            "apply_subsidy",
            student_and_subsidy_type,
            method="post",
            body=applying_form,
            variant="POST",
        ),
        Route("subsidies:detail", "view", application("objected")),
        Route("subsidies:edit", "apply_subsidy", application("draft")),
        Route(
            "subsidies:edit",
            "apply_subsidy",
            application("draft"),
            method="post",
            body=draft_change_form,
            variant="POST",
        ),
        Route("subsidies:evidence", "view_sensitive", application("draft")),
        Route("subsidies:receipt", "view_sensitive", application_and_receipt),
        # The steps' forms are sent filled in: a form is read before the service decides who may take the step.
        Route("subsidies:add_receipt", "apply_subsidy", application("draft"), method="post", body=a_receipt_form),
        Route("subsidies:submit", "apply_subsidy", application("draft"), method="post", body=step("draft")),
        Route("subsidies:withdraw", "apply_subsidy", application("submitted"), method="post", body=step("submitted")),
        Route(
            "subsidies:approve_department",
            "approve_department",
            application("submitted"),
            method="post",
            body=step("submitted"),
        ),
        Route(
            "subsidies:approve_school",
            "approve_school",
            application("department_approved"),
            method="post",
            body=step("department_approved"),
        ),
        Route(
            "subsidies:approve_final", "approve_school", application("on_notice"), method="post", body=step("on_notice")
        ),
        # Returning and rejecting: the department's while the application is submitted, the school's after that.
        Route(
            "subsidies:return",
            "approve_department",
            application("submitted"),
            method="post",
            body=step("submitted", RETURNING),
        ),
        Route(
            "subsidies:return",
            "approve_school",
            application("department_approved"),
            method="post",
            body=step("department_approved", RETURNING),
            variant="department approved",
        ),
        Route(
            "subsidies:reject",
            "approve_department",
            application("submitted"),
            method="post",
            body=step("submitted", REJECTING),
        ),
        Route(
            "subsidies:reject",
            "approve_school",
            application("objected"),
            method="post",
            body=step("objected", REJECTING),
            variant="on notice",
        ),
        Route(
            "subsidies:record_objection", "approve_school", application("objected"), method="post", body=an_objection
        ),
        Route(
            "subsidies:resolve_objection",
            "approve_school",
            application_and_objection,
            method="post",
            body=a_resolution_form,
        ),
        # Tracks: a student's tracks are seen through the student and kept by those who keep the plan; the counts
        # need a unit-wide view; the track types are the office's.
        Route("tracks:student", "view", student),
        Route("tracks:join", "plan", student_and_track),
        Route("tracks:join", "plan", student_and_track, method="post", body=joining_the_track_form, variant="POST"),
        Route("tracks:record", "plan", enrolment, method="post", body=the_next_milestone),
        Route("tracks:leave", "plan", enrolment, method="post", body=leaving_the_track),
        Route("tracks:figures", "unit_view"),
        Route(
            "tracks:figures", "unit_view", elsewhere, query=of_the_department, expect=a_unit_in_view, variant="?unit"
        ),
        Route("tracks:students", "unit_view", track, query=on_the_track_now, expect=a_track_in_view),
        Route("tracks:types", "policy", elsewhere, query=in_school, gate_first=True),
        Route("tracks:install_defaults", "policy", elsewhere, method="post", body=in_school, gate_first=True),
        Route("tracks:type_new", "policy", elsewhere, query=in_school, gate_first=True),
        Route(
            "tracks:type_new",
            "policy",
            elsewhere,
            method="post",
            body=a_new_track_form,
            gate_first=True,
            variant="POST",
        ),
        school_route("tracks:type_edit", "policy", track),
        school_route("tracks:type_edit", "policy", track, method="post", body=track_form, variant="POST"),
        # Exemplary cases: the staff's pages (a student user has showcase:my); a case and a student's consents are
        # seen through the student, kept by those who keep the plan; approved and published by the office of the
        # school, never by the nominator (the furnished cases were nominated by the target's helper). The public
        # pages are exempt (below) and checked by test_the_public_pages_show_no_secret.
        Route("showcase:list", "staff"),
        Route("showcase:types", "policy", elsewhere, query=in_school, gate_first=True),
        Route("showcase:install_defaults", "policy", elsewhere, method="post", body=in_school, gate_first=True),
        Route("showcase:type_new", "policy", elsewhere, query=in_school, gate_first=True),
        Route(
            "showcase:type_new",
            "policy",
            elsewhere,
            method="post",
            body=a_new_case_type_form,
            gate_first=True,
            variant="POST",
        ),
        school_route("showcase:type_edit", "policy", case_type),
        school_route("showcase:type_edit", "policy", case_type, method="post", body=case_type_form, variant="POST"),
        Route("showcase:detail", "staff", exemplary_case("published"), gate_first=True),
        Route("showcase:edit", "plan", exemplary_case("nominated"), expect=staff_first("plan")),
        Route(
            "showcase:edit",
            "plan",
            exemplary_case("nominated"),
            method="post",
            body=case_change_form,
            expect=staff_first("plan"),
            variant="POST",
        ),
        Route("showcase:photo", "staff", exemplary_case("published"), gate_first=True),
        Route(
            "showcase:approve",
            "policy",
            exemplary_case("nominated"),
            method="post",
            body=case_step("nominated"),
            expect=staff_first("policy"),
        ),
        Route(
            "showcase:reject",
            "policy",
            exemplary_case("nominated"),
            method="post",
            body=case_step("nominated", REJECTING_CASE),
            expect=staff_first("policy"),
        ),
        Route(
            "showcase:publish",
            "policy",
            exemplary_case("approved"),
            method="post",
            body=case_step("approved"),
            expect=staff_first("policy"),
        ),
        Route(
            "showcase:unpublish",
            "policy",
            exemplary_case("published"),
            method="post",
            body=case_step("published", UNPUBLISHING),
            expect=staff_first("policy"),
        ),
        Route("showcase:student", "staff", student, gate_first=True),
        Route("showcase:nominate", "plan", student, expect=staff_first("plan")),
        Route(
            "showcase:nominate",
            "plan",
            student,
            method="post",
            body=a_nomination,
            expect=staff_first("plan"),
            variant="POST",
        ),
        Route("showcase:record_consent", "plan", student, expect=staff_first("plan")),
        Route(
            "showcase:record_consent",
            "plan",
            student,
            method="post",
            body=a_consent_form,
            expect=staff_first("plan"),
            variant="POST",
        ),
        Route(
            "showcase:withdraw_consent",
            "plan",
            consent,
            method="post",
            body=withdrawing,
            expect=the_student_or_who_keeps_the_plan,
        ),
        Route("showcase:consent_evidence", "view_sensitive", consent),  # each download is logged
        Route("showcase:my", "self", refused="404"),
        # PDFs: a student's dossier (not for the student themself); the yearly report of a unit the caller leads.
        Route("reports_pdf:dossier", "view_sensitive", student),
        Route("reports_pdf:yearly", "lead"),
        Route(
            "reports_pdf:yearly",
            "lead",
            elsewhere,
            query=of_the_department,
            expect=a_unit_to_report_on,
            variant="?unit",
        ),
        # The student portal: the student's own pages (refused="404": a staff member has no student record).
        Route("portal:home", "self", refused="404"),
        Route("portal:recommendations", "self", refused="404"),
        Route("portal:answer", "self", recommendation, method="post", body=answering, refused="404"),
        Route("portal:resume", "self", refused="404"),
        Route("portal:resume", "self", method="post", body=a_resume, refused="404", variant="POST"),
        Route("portal:resume_file", "view", resume_version),
        Route("portal:subsidies", "self", refused="404"),
        Route("portal:apply", "self", subsidy_type, expect=the_student_for_a_type_of_their_school),
        Route(
            "portal:apply",
            "self",
            subsidy_type,
            method="post",
            body=applying_form,
            expect=the_student_for_a_type_of_their_school,
            variant="POST",
        ),
        Route("portal:application", "self", application("objected"), refused="404"),
        Route("portal:submit", "self", application("draft"), method="post", body=resubmitting, refused="404"),
        Route(
            "portal:withdraw",
            "self",
            application("submitted"),
            method="post",
            body=withdrawing_the_application,
            refused="404",
        ),
        Route("portal:destination", "self", refused="404"),
        Route("portal:destination", "self", method="post", body=confirming, refused="404", variant="POST"),
        Route("portal:data", "self", refused="404"),
        Route("portal:withdraw_consent", "self", consent, method="post", body=withdrawing, refused="404"),
        # The helper's résumé page for a student: seen by whoever sees the student (the student themself is sent to
        # their own page), a revision uploaded by those who log help.
        Route("portal:staff_resume", "view", student),
        Route(
            "portal:staff_resume",
            "log",
            student,
            method="post",
            body=a_revision,
            expect=who_logs_or_the_student_sent_home,
            variant="POST",
        ),
        # Student accounts: for those who may make them (403 for everyone else, whatever the id). Every target has
        # an account already (furnished), so an allowed request to make one ends as "already had an account,
        # skipped" (a redirect); the permission checks all come before that.
        Route("student_accounts:batches", "create"),
        Route("student_accounts:create", "create"),
        Route("student_accounts:create", "create", method="post", body=every_student_of_the_list, variant="POST all"),
        Route(
            "student_accounts:create",
            "create",
            elsewhere,
            method="post",
            body=making_an_account,
            gate_first=True,
            variant="POST students",
        ),
        Route("student_accounts:batch", "create", account_batch, expect=a_batch_holding_their_students),
        Route("student_accounts:batch_xlsx", "create", account_batch, expect=a_batch_holding_their_students),
        Route(
            "student_accounts:batch_renew",
            "create",
            account_batch,
            method="post",
            expect=a_batch_holding_their_students,
        ),
        # Follow-ups after leaving: the graduates due one, for every staff member; the link e-mailed by those who log.
        Route("followup:due", "staff"),
        Route("followup:send", "log", student, method="post"),
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
        # Employers, positions and events: the lists hold the caller's schools' (a student has none: an empty
        # list, not a refusal).
        Route("api:employers_list", "use"),
        Route(
            "api:employers_create",
            "manage_employers",
            elsewhere,
            method="post",
            body=a_new_employer,
            expect=naming_the_school,
        ),
        school_route("api:employers_retrieve", "school_staff", employer),
        school_route("api:employers_update", "manage_employers", employer, method="patch", body=employer_change),
        Route("api:positions_list", "use"),
        Route(
            "api:positions_create",
            "manage_employers",
            elsewhere,
            method="post",
            body=a_new_position,
            expect=naming_the_school,
        ),
        school_route("api:positions_retrieve", "school_staff", position),
        school_route("api:positions_update", "manage_employers", position, method="patch", body=position_change),
        school_route("api:suggestions_students", "school_staff", position),
        Route("api:events_list", "use"),
        Route(
            "api:events_create",
            "manage_employers",
            elsewhere,
            method="post",
            body=a_new_event,
            expect=naming_the_school,
        ),
        school_route("api:events_retrieve", "school_staff", event),
        school_route("api:events_update", "manage_employers", event, method="patch", body=event_change),
        Route("api:attendances_list", "view", student),
        Route("api:attendances_record", "log", student, method="post", body=going_to_the_event),
        # Recommendations, suggestions, follow-ups: seen through the student, made by those who log for them.
        Route("api:recommendations_list", "view", student),
        Route("api:recommendations_create", "log", student, method="post", body=recommending_the_internship),
        Route("api:recommendations_retrieve", "view", recommendation),
        Route("api:recommendations_change", "answer", recommendation, method="post", body=applying),
        Route("api:recommendations_conversion", "staff"),
        Route("api:suggestions_positions", "log", student),
        Route("api:follow_ups_list", "view", student),
        Route("api:follow_ups_create", "log", student, method="post", body=a_follow_up),
        # Internships, order classes, work-study, destinations: recorded by those who may record outcomes.
        Route("api:internships_list", "view", student),
        Route("api:internships_create", "record_outcome", student, method="post", body=an_internship),
        Route("api:internships_retrieve", "view", internship),
        Route("api:internships_update", "record_outcome", internship, method="patch", body=closing_the_internship),
        Route("api:order_classes_list", "view", student),
        Route(
            "api:order_classes_join",
            "record_outcome",
            student,
            method="post",
            body=joining_the_order_class,
            prepare=leave_the_order_class,
        ),
        Route("api:order_classes_leave", "record_outcome", order_class, method="post", body=leaving_the_order_class),
        Route("api:work_study_list", "view", student),
        Route("api:work_study_start", "record_outcome", student, method="post", body=starting_work_study),
        Route("api:work_study_end", "record_outcome", work_study, method="post", body=ending_work_study),
        Route("api:work_study_log_hours", "record_outcome", work_study, method="post", body=some_hours),
        Route("api:destinations_list", "view", student),
        Route("api:destinations_create", "record_outcome", student, method="post", body=a_labour_contract),
        Route("api:destinations_retrieve", "view", destination),
        Route("api:destinations_attach_evidence", "record_outcome", destination, method="post", body=the_agreement),
        Route("api:destinations_evidence", "view_sensitive", destination),
        Route("api:destinations_verify", "verify", destination, method="post", body=as_read),
        Route("api:placement_figures", "unit_view", query=of_the_cohort),
        # Subsidy types: seen by the staff of their school, set by its office. A school named in a body that the
        # caller does not work in is unknown (422).
        Route("api:subsidy_types_list", "use"),
        Route(
            "api:subsidy_types_create",
            "approve_school",
            elsewhere,
            method="post",
            body=a_new_subsidy_type,
            expect=naming_the_school_first("approve_school"),
        ),
        Route(
            "api:subsidy_types_install_defaults",
            "approve_school",
            elsewhere,
            method="post",
            body=in_school,
            expect=naming_the_school_first("approve_school"),
        ),
        school_route("api:subsidy_types_retrieve", "school_staff", subsidy_type),
        school_route(
            "api:subsidy_types_update", "approve_school", subsidy_type, method="patch", body=subsidy_type_change
        ),
        # Budgets and batches: the lists hold what the caller may handle (empty for the others, not a refusal).
        Route("api:subsidy_budgets_list", "use"),
        school_route("api:subsidy_budgets_set", "approve_school", budget_year, method="put", body=a_budget),
        Route("api:subsidy_eligibility_list", "view", student),
        # Applications: seen through their student; each step needs its role on the student.
        Route("api:subsidy_applications_list", "view"),
        Route("api:subsidy_applications_create", "apply_subsidy", student, method="post", body=applying_for_a_subsidy),
        Route(
            "api:subsidy_applications_start_notice",
            "approve_school",
            elsewhere,
            method="post",
            body=naming_applications("school_approved"),
            expect=naming_applications_first,
        ),
        Route("api:subsidy_applications_retrieve", "view", application("objected")),
        Route(
            "api:subsidy_applications_update", "apply_subsidy", application("draft"), method="patch", body=draft_change
        ),
        Route(
            "api:subsidy_applications_attach_evidence",
            "apply_subsidy",
            application("draft"),
            method="post",
            body=the_application_evidence,
        ),
        Route(
            "api:subsidy_applications_add_receipt",
            "apply_subsidy",
            application("draft"),
            method="post",
            body=a_receipt_form,
        ),
        Route(
            "api:subsidy_applications_submit", "apply_subsidy", application("draft"), method="post", body=step("draft")
        ),
        Route(
            "api:subsidy_applications_withdraw",
            "apply_subsidy",
            application("submitted"),
            method="post",
            body=step("submitted"),
        ),
        Route(
            "api:subsidy_applications_approve_department",
            "approve_department",
            application("submitted"),
            method="post",
            body=step("submitted"),
        ),
        Route(
            "api:subsidy_applications_approve_school",
            "approve_school",
            application("department_approved"),
            method="post",
            body=step("department_approved"),
        ),
        Route(
            "api:subsidy_applications_approve_final",
            "approve_school",
            application("on_notice"),
            method="post",
            body=step("on_notice"),
        ),
        Route(
            "api:subsidy_applications_return",
            "approve_department",
            application("submitted"),
            method="post",
            body=step("submitted", RETURNING),
        ),
        Route(
            "api:subsidy_applications_return",
            "approve_school",
            application("department_approved"),
            method="post",
            body=step("department_approved", RETURNING),
            variant="department approved",
        ),
        Route(
            "api:subsidy_applications_reject",
            "approve_department",
            application("submitted"),
            method="post",
            body=step("submitted", REJECTING),
        ),
        Route(
            "api:subsidy_applications_reject",
            "approve_school",
            application("objected"),
            method="post",
            body=step("objected", REJECTING),
            variant="on notice",
        ),
        Route(
            "api:subsidy_objections_create", "approve_school", application("objected"), method="post", body=an_objection
        ),
        Route("api:subsidy_objections_resolve", "approve_school", objection, method="post", body=a_resolution),
        Route("api:payment_batches_list", "use"),
        Route(
            "api:payment_batches_create",
            "approve_school",
            elsewhere,
            method="post",
            body=a_batch,
            expect=naming_the_school_first("approve_school"),
        ),
        Route("api:payment_batches_retrieve", "approve_school", batch, expect=only_the_office_of_the_school),
        Route(
            "api:payment_batches_mark_paid",
            "approve_school",
            batch,
            method="post",
            body=paying,
            expect=only_the_office_of_the_school,
        ),
        # Tracks.
        Route("api:tracks_types_list", "use"),
        Route("api:tracks_enrolments_list", "view", student),
        Route("api:tracks_join", "plan", student, method="post", body=joining_the_track),
        Route("api:tracks_record_milestone", "plan", enrolment, method="post", body=the_next_milestone),
        Route("api:tracks_leave", "plan", enrolment, method="post", body=leaving_the_track),
        Route("api:tracks_counts", "unit_view"),
        Route(
            "api:tracks_counts", "unit_view", elsewhere, query=of_the_department, expect=a_unit_in_view, variant="?unit"
        ),
        # Exemplary cases: the same rules as the pages. Case types are listed to the staff of their school (to
        # nominate with) and set by its office; a school named in a body that the caller does not work in is
        # unknown (422).
        Route("api:case_types_list", "use"),
        Route(
            "api:case_types_create",
            "policy",
            elsewhere,
            method="post",
            body=a_new_case_type,
            expect=naming_the_school_first("policy"),
        ),
        Route(
            "api:case_types_install_defaults",
            "policy",
            elsewhere,
            method="post",
            body=in_school,
            expect=naming_the_school_first("policy"),
        ),
        school_route("api:case_types_update", "policy", case_type, method="patch", body=case_type_change),
        Route("api:cases_list", "staff"),
        Route("api:cases_create", "plan", student, method="post", body=a_nomination, expect=staff_first("plan")),
        Route("api:cases_retrieve", "staff", exemplary_case("published"), gate_first=True),
        Route(
            "api:cases_update",
            "plan",
            exemplary_case("nominated"),
            method="patch",
            body=case_change,
            expect=staff_first("plan"),
        ),
        Route(
            "api:cases_approve",
            "policy",
            exemplary_case("nominated"),
            method="post",
            body=case_step("nominated"),
            expect=staff_first("policy"),
        ),
        Route(
            "api:cases_reject",
            "policy",
            exemplary_case("nominated"),
            method="post",
            body=case_step("nominated", REJECTING_CASE),
            expect=staff_first("policy"),
        ),
        Route(
            "api:cases_publish",
            "policy",
            exemplary_case("approved"),
            method="post",
            body=case_step("approved"),
            expect=staff_first("policy"),
        ),
        Route(
            "api:cases_unpublish",
            "policy",
            exemplary_case("published"),
            method="post",
            body=case_step("published", UNPUBLISHING),
            expect=staff_first("policy"),
        ),
        # Consents: seen by whoever sees the student (the student included), recorded by those who keep the plan.
        Route("api:consents_list", "view", student),
        Route("api:consents_create", "plan", student, method="post", body=a_consent),
        Route(
            "api:consents_withdraw",
            "plan",
            consent,
            method="post",
            body=withdrawing,
            expect=the_student_or_who_keeps_the_plan,
        ),
    )
}

# Routes the matrix does not cover, and why.
PUBLIC_CASES = "public: published and consented content only"  # see test_the_public_pages_show_no_secret
ONE_TIME_LINK = "public: a one-time link is the credential"  # see test_an_unknown_or_garbled_link_opens_nothing
EXEMPT_PREFIXES = ("admin:", "admin/")  # Django's admin (named and unnamed patterns): its own staff checks
EXEMPT = {
    "healthz": "public health check, no data",
    "switch_language": "public, sets a cookie (and the user's own language)",
    "login": "accounts", "logout": "accounts", "password_change": "accounts", "password_change_done": "accounts",
    "password_reset": "accounts", "password_reset_done": "accounts", "password_reset_confirm": "accounts",
    "password_reset_complete": "accounts",
    "api:openapi-json": "the API's schema", "api:openapi-view": "the API's docs", "api:api-root": "the API's docs",
    "showcase:public_list": PUBLIC_CASES, "showcase:public_detail": PUBLIC_CASES, "showcase:public_photo": PUBLIC_CASES,
    "student_accounts:first_login_link": ONE_TIME_LINK, "student_accounts:first_login": ONE_TIME_LINK,
    "followup:link": ONE_TIME_LINK, "followup:answer": ONE_TIME_LINK, "followup:thanks": ONE_TIME_LINK,
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
            may = may or secret in OWN_SECRETS.get((route.name, persona), set())
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


# The same for the records on a student's jobs page (posted to, as the page does).
MIXED_RECORDS = {
    "outcomes:evidence": "destination",
    "jobs:step": "recommendation",
    "jobs:internship_evaluate": "internship",
    "jobs:order_class_leave": "order_class",
    "jobs:work_study_end": "work_study",
    "jobs:work_study_hours": "work_study",
}


@pytest.mark.parametrize("name", MIXED_RECORDS)
@pytest.mark.parametrize("other", ["classmate", "other_school_student"])
def test_a_record_of_another_student_is_404_under_this_students_path(
    scene: Scene, db: None, name: str, other: str
) -> None:
    sub_id = getattr(scene, f"{MIXED_RECORDS[name]}_id")(other)
    wrong = []
    for persona in ("office", "leader"):
        method = "get" if name == "outcomes:evidence" else "post"
        response = send(client_of(scene, persona), name=name, method=method, args=[scene.student_id("own"), sub_id])
        if response.status_code != 404:
            wrong.append(f"{name}-{persona}-own+{other}: {describe(response)}")
        close_quietly(response)
    assert not wrong, "\n".join(wrong)


# Paths that name a record and a part of it: the part of another student's record is 404, never that part.
def receipt_of(scene: Scene, owner: str, other: str) -> list[Any]:
    return [scene.application_id(owner, "draft"), scene.receipt_id(other)]


def objection_of(scene: Scene, owner: str, other: str) -> list[Any]:
    return [scene.application_id(owner, "objected"), scene.objection_id(other)]


def application_in_batch(scene: Scene, owner: str, other: str) -> list[Any]:
    return [scene.batch_id(owner), scene.application_id(other, "batched")]


# name → (the path's ids, method, body, the personas who may open the record itself)
MIXED_PARTS: dict[str, tuple[Callable[[Scene, str, str], list[Any]], str, Body | None, tuple[str, ...]]] = {
    "subsidies:receipt": (receipt_of, "get", None, ("office", "leader")),
    "subsidies:resolve_objection": (objection_of, "post", a_resolution_form, ("office",)),
    "subsidies:batch_remove": (application_in_batch, "post", None, ("office",)),
}


@pytest.mark.parametrize("name", MIXED_PARTS)
@pytest.mark.parametrize("other", ["classmate", "other_school_student"])
def test_a_part_of_another_students_record_is_404_under_this_record(
    scene: Scene, db: None, name: str, other: str
) -> None:
    args, method, body, personas = MIXED_PARTS[name]
    wrong = []
    for persona in personas:
        response = send(
            client_of(scene, persona),
            name=name,
            method=method,
            args=args(scene, "own", other),
            body=body(scene, other) if body else None,
        )
        if response.status_code != 404:
            wrong.append(f"{name}-{persona}-own+{other}: {describe(response)}")
        close_quietly(response)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", ["subsidies:apply", "tracks:join"])
def test_another_schools_subsidy_type_or_track_is_404_under_this_students_path(
    scene: Scene, db: None, name: str
) -> None:
    """Applying for `own` for a subsidy of another school, or putting them on its track, is a page that does not
    exist (the type or track of `own`'s school is covered by the matrix)."""
    other_school = "other_school_student"
    thing = scene.subsidy_type_id(other_school) if name.startswith("subsidies:") else scene.track_type_id(other_school)
    wrong = []
    for persona in ("office", "leader", "helper"):
        response = send(client_of(scene, persona), name=name, method="get", args=[scene.student_id("own"), thing])
        if response.status_code != 404:
            wrong.append(f"{name}-{persona}-own+{other_school}: {describe(response)}")
        close_quietly(response)
    assert not wrong, "\n".join(wrong)


def what_no_public_page_shows(scene: Scene, *, people: bool = True) -> dict[str, str]:
    """Every target's secrets (family situation, internal notes, ID number) and, with `people`, their student
    numbers and full names: what → the text."""
    forbidden = {
        f"{secret} of {key}": value for key in STUDENTS for secret, value in scene.secrets[key].items() if value
    }
    for key in STUDENTS if people else ():
        target = scene.student(key)
        assert target is not None
        forbidden[f"student number of {key}"] = target.student_number
        forbidden[f"full name of {key}"] = target.name
    return forbidden


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_public_pages_show_no_secret(scene: Scene, db: None, language: str, settings: Any) -> None:
    """The exempt public pages, asked anonymously: each target's published case is there with what the consent
    allows (surname only, the case's own family story), never a secret of any target (the ledger's family
    situation, internal notes, the ID number), a student number or a full name; a case not yet published is not."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    forbidden = what_no_public_page_shows(scene)
    wrong: list[str] = []

    def check_text(where: str, response: Any) -> str:
        text = text_of(response)
        wrong.extend(f"{where} shows the {what}" for what, value in forbidden.items() if value in text)
        return text

    listing = check_text("the public list", send(client, name="showcase:public_list", method="get", args=[]))
    for key in STUDENTS:
        published = scene.case(key, "published")
        assert published is not None
        if reverse("showcase:public_detail", args=[published.public_id]) not in listing:
            wrong.append(f"the public list does not link to the published case of {key}")
        response = send(client, name="showcase:public_detail", method="get", args=[published.public_id])
        if response.status_code != 200:
            wrong.append(f"the published case of {key}: {describe(response)}")
        page = check_text(f"the published case of {key}", response)
        if published.story not in page or published.family_story not in page:
            wrong.append(f"the published case of {key} does not show its consented story and family story")
        photo = send(client, name="showcase:public_photo", method="get", args=[published.public_id])
        if photo.status_code != 200 or b"".join(photo.streaming_content) != PNG:  # type: ignore[attr-defined]
            wrong.append(f"the photo of the published case of {key}: {describe(photo)}")
        close_quietly(photo)
        for state in ("nominated", "approved"):
            hidden = scene.case(key, state)
            assert hidden is not None
            if hidden.title in listing:
                wrong.append(f"the public list shows the {state} case of {key}")
            for name in ("showcase:public_detail", "showcase:public_photo"):
                response = send(client, name=name, method="get", args=[hidden.public_id])
                if response.status_code != 404:
                    wrong.append(f"{name} of the {state} case of {key}: {describe(response)}")
                close_quietly(response)
    assert not wrong, "\n".join(wrong)


# The public one-time-link pages (exempt above): the link's address moves its token into the session and sends the
# browser on to the form, which answers for that link alone.
LINK_FORMS = {"student_accounts:first_login_link": "student_accounts:first_login", "followup:link": "followup:answer"}
LINK_BODIES = {
    "student_accounts:first_login": {
        "new_password1": "Zhuxue-2024-xin",
        "new_password2": "Zhuxue-2024-xin",
        "email": "",
    },
    "followup:answer": {"status": "still_employed", "notes": "在石家庄一家纺织企业做跟单员，已转正。"},
}
NOT_VALID = "This link is not valid. Check that it was copied whole."


def real_links(scene: Scene) -> dict[str, tuple[str, str]]:
    """A link page → (the purpose of its tokens, a real open token): `classmate`'s furnished first-login link, and a
    follow-up link the helper e-mails `own` now."""
    classmate = scene.student("classmate")
    assert classmate is not None
    first_login = AccountLink.objects.get(user=classmate.user_id, used_at=None, purpose=LinkPurpose.FIRST_LOGIN)
    token = first_login_token(first_login)
    assert token is not None
    own = scene.student("own")
    assert own is not None
    follow_up = send_follow_up_link(actor=scene.user("helper"), student=own, now=timezone.now())
    return {
        "student_accounts:first_login_link": (LinkPurpose.FIRST_LOGIN, token),
        "followup:link": (FOLLOW_UP_PURPOSE, make_token(purpose=FOLLOW_UP_PURPOSE, public_id=follow_up.public_id)),
    }


def a_token(links: dict[str, tuple[str, str]], name: str, kind: str) -> str:
    purpose, real = links[name]
    if kind == "garbled":
        return "not-a-token"
    if kind == "altered":  # one character changed: still well-formed, matches nothing
        return ("B" if real[0] == "A" else "A") + real[1:]
    if kind == "unknown":  # well-formed and signed, for a link that was never made
        return make_token(purpose=purpose, public_id=uuid.uuid4())
    (other,) = (token for page, (_purpose, token) in links.items() if page != name)
    return other  # a real token of the other kind of link


@pytest.mark.parametrize("kind", ["garbled", "altered", "unknown", "of the other kind"])
@pytest.mark.parametrize("name", LINK_FORMS)
def test_an_unknown_or_garbled_link_opens_nothing(scene: Scene, db: None, name: str, kind: str) -> None:
    """A token that is not an open link of this kind: the address still moves it into the session (the documented
    redirect), then the form answers 404 with "not valid", to GET and to a filled-in POST alike, writes nothing and
    shows no secret, student number or name of any target. The real token opens the form (so the check can fail)."""
    links = real_links(scene)
    form, forbidden = LINK_FORMS[name], what_no_public_page_shows(scene)
    follow_ups = FollowUp.objects.count()
    wrong: list[str] = []

    def check_text(where: str, response: Any, shown: dict[str, str]) -> None:
        text = text_of(response)
        wrong.extend(f"{where} shows the {what}" for what, value in shown.items() if value in text)

    client = Client()
    response = send(client, name=name, method="get", args=[a_token(links, name, kind)])
    if response.status_code != 302 or response["Location"] != reverse(form):
        wrong.append(f"{name} with a {kind} token: {describe(response)}")
    for method in ("get", "post"):
        body = LINK_BODIES[form] if method == "post" else None
        response = send(client, name=form, method=method, args=[], body=body)
        if response.status_code != 404 or NOT_VALID not in text_of(response):
            wrong.append(f"{method.upper()} {form} after a {kind} token: {describe(response)}")
        check_text(f"{method.upper()} {form} after a {kind} token", response, forbidden)
    response = send(Client(), name=form, method="get", args=[])
    if response.status_code != 404:
        wrong.append(f"{form} without any link: {describe(response)}")
    if AccountLink.objects.exclude(used_at=None).exists() or FollowUpLink.objects.exclude(used_at=None).exists():
        wrong.append("a link was used up")
    if FollowUp.objects.count() != follow_ups:
        wrong.append("a follow-up was recorded")
    classmate = scene.student("classmate")
    assert classmate is not None and classmate.user is not None
    if classmate.user.has_usable_password():
        wrong.append("a password was set")
    real = Client()
    send(real, name=name, method="get", args=[links[name][1]])
    response = send(real, name=form, method="get", args=[])
    if response.status_code != 200:
        wrong.append(f"{form} with the real token: {describe(response)}")
    check_text(f"{form} with the real token", response, what_no_public_page_shows(scene, people=False))
    thanks = send(Client(), name="followup:thanks", method="get", args=[])
    if thanks.status_code != 200:
        wrong.append(f"followup:thanks: {describe(thanks)}")
    check_text("followup:thanks", thanks, forbidden)
    assert not wrong, "\n".join(wrong)
