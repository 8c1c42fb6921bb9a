"""Machinery for the authorization matrix (tests/test_authorization_matrix.py): the routes the resolver knows,
a world in which every target student has everything a route can point at, and how an answer is read.

The table itself, and the rules that compute what each persona should get, live in the test module.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pypdf import PdfReader

from bangfu.assistance.models import Activity, ActivityKind, HelperAssignment, Plan
from bangfu.assistance.services import assign_helper, record_activity, save_plan
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.imports.services import create_job
from bangfu.notifications.models import Notification
from bangfu.opportunities.models import (
    Employer,
    Internship,
    OrderClassMembership,
    Position,
    Recommendation,
    RecruitmentEvent,
    WorkStudyAssignment,
)
from bangfu.opportunities.services import (
    join_order_class,
    leave_order_class,
    recommend,
    record_internship,
    save_event,
    start_work_study,
)
from bangfu.organisation.models import OrgUnit, Role, User
from bangfu.outcomes.models import Destination
from bangfu.outcomes.services import attach_evidence, record_destination
from bangfu.portal.accounts import create_student_accounts
from bangfu.portal.models import ResumeVersion
from bangfu.portal.services import upload_resume
from bangfu.reports.models import ExportJob
from bangfu.showcase import services as showcase
from bangfu.showcase.models import CONSENT_FIELDS, Case, CaseType, Consent
from bangfu.students import idnumbers
from bangfu.students.models import LedgerCategory, LedgerEntry, Student
from bangfu.students.services import attach_category_evidence, join_ledger, leave_ledger
from bangfu.students.survey import save_survey
from bangfu.subsidies.models import AmountKind, Application, Objection, PaymentBatch, Receipt, SubsidyType
from bangfu.subsidies.services import (
    add_receipt,
    approve_after_notice,
    approve_by_department,
    approve_by_school,
    create_application,
    create_payment_batch,
    install_default_types,
    record_objection,
    save_subsidy_type,
    set_budget,
    start_public_notice,
    submit_application,
)
from bangfu.tracks.models import TrackEnrolment, TrackType
from bangfu.tracks.services import install_default_tracks, join_track
from tests.conftest import TODAY, World, login
from tests.factories import make_employer, make_position, make_staff, system_user

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

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
    # school pk → {"employer", "job", "internship", "order_class", "work_study", "event", "subsidy_type",
    # "track", "enrolled_track"}
    furniture: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (target, state of SUBSIDY_STATES) → the pk of the target's application in that state
    applications: dict[tuple[str, str], int] = field(default_factory=dict)
    # (target, state of CASE_STATES) → the pk of the target's exemplary case in that state
    cases: dict[tuple[str, str], int] = field(default_factory=dict)

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

    def export_job_id(self, target: str) -> uuid.UUID:
        """The export job of the target's helper (only its requester may see it)."""
        assignment = self.assignment(target)
        if assignment is None:
            return self.guessed_id
        return ExportJob.objects.get(created_by=assignment.helper_id).public_id

    def import_job_id(self, target: str) -> uuid.UUID:
        """The import job of the office of the target's school."""
        student = self.student(target)
        return self.guessed_id if student is None else self.furniture[student.school_id]["import_job"].public_id

    def next_number(self) -> str:
        return f"2099{next(self.numbers):06d}"

    # --- Opportunities and destinations: those of the target's school, and the target's own records. A guess
    # gets an id nobody has.

    def _school_thing(self, target: str, kind: str) -> uuid.UUID:
        student = self.student(target)
        return self.guessed_id if student is None else self.furniture[student.school_id][kind].public_id

    def _school_object(self, target: str, kind: str) -> Any:
        """The object itself, read afresh (its current version); None for a guess."""
        student = self.student(target)
        if student is None:
            return None
        thing = self.furniture[student.school_id][kind]
        return type(thing).objects.get(pk=thing.pk)

    def employer(self, target: str) -> Employer | None:
        return self._school_object(target, "employer")  # type: ignore[no-any-return]

    def employer_id(self, target: str) -> uuid.UUID:
        return self._school_thing(target, "employer")

    def position(self, target: str, kind: str = "job") -> Position | None:
        return self._school_object(target, kind)  # type: ignore[no-any-return]

    def position_id(self, target: str, kind: str = "job") -> uuid.UUID:
        """The school's position of this kind (job, internship, order_class, work_study)."""
        return self._school_thing(target, kind)

    def event(self, target: str) -> RecruitmentEvent | None:
        return self._school_object(target, "event")  # type: ignore[no-any-return]

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

    def internship(self, target: str) -> Internship | None:
        return self._own_thing(target, Internship)  # type: ignore[no-any-return]

    def internship_id(self, target: str) -> uuid.UUID:
        row = self.internship(target)
        return self.guessed_id if row is None else row.public_id

    def order_class(self, target: str) -> OrderClassMembership | None:
        return self._own_thing(target, OrderClassMembership)  # type: ignore[no-any-return]

    def order_class_id(self, target: str) -> uuid.UUID:
        row = self.order_class(target)
        return self.guessed_id if row is None else row.public_id

    def work_study(self, target: str) -> WorkStudyAssignment | None:
        return self._own_thing(target, WorkStudyAssignment)  # type: ignore[no-any-return]

    def work_study_id(self, target: str) -> uuid.UUID:
        row = self.work_study(target)
        return self.guessed_id if row is None else row.public_id

    # --- Subsidies and tracks: the school's types, budgets and tracks; the student's applications (one in each
    # state of SUBSIDY_STATES), payment batch and track enrolment. A guess gets an id nobody has.

    def office_of(self, student: Student) -> User:
        """The employment office of the student's school (`office` or `outsider`)."""
        return self.world.office if student.school_id == self.world.school.pk else self.world.outsider

    def subsidy_type(self, target: str) -> SubsidyType | None:
        """The school's own subsidy type open in every stage (the defaults' stages are long past for the world's
        students, who graduated in 2024)."""
        return self._school_object(target, "subsidy_type")  # type: ignore[no-any-return]

    def subsidy_type_id(self, target: str) -> uuid.UUID:
        return self._school_thing(target, "subsidy_type")

    def application(self, target: str, state: str) -> Application | None:
        """The target's application in `state` (one of SUBSIDY_STATES), read afresh."""
        if target == GUESSED:
            return None
        return Application.objects.select_related("batch").get(pk=self.applications[target, state])

    def application_id(self, target: str, state: str) -> uuid.UUID:
        application = self.application(target, state)
        return self.guessed_id if application is None else application.public_id

    def receipt_id(self, target: str) -> int:
        """The receipt of the target's draft (for a guess: `own`'s, under a guessed application id)."""
        application = self.application("own" if target == GUESSED else target, "draft")
        return Receipt.objects.filter(application=application).values_list("pk", flat=True)[0]

    def objection_id(self, target: str) -> uuid.UUID:
        """The open objection to the target's application on notice."""
        if target == GUESSED:
            return self.guessed_id
        return Objection.objects.get(application=self.applications[target, "objected"]).public_id

    def batch(self, target: str) -> PaymentBatch | None:
        """The payment batch (of the target's school) that holds the target's approved application."""
        application = self.application(target, "batched")
        return None if application is None else application.batch

    def batch_id(self, target: str) -> uuid.UUID:
        batch = self.batch(target)
        return self.guessed_id if batch is None else batch.public_id

    def track_type(self, target: str, kind: str = "track") -> TrackType | None:
        return self._school_object(target, kind)  # type: ignore[no-any-return]

    def track_type_id(self, target: str, kind: str = "track") -> uuid.UUID:
        """The school's track the target is not on ("track": 考公考编) or is on ("enrolled_track": 签约护航)."""
        return self._school_thing(target, kind)

    def enrolment(self, target: str) -> TrackEnrolment | None:
        return self._own_thing(target, TrackEnrolment)  # type: ignore[no-any-return]

    def enrolment_id(self, target: str) -> uuid.UUID:
        row = self.enrolment(target)
        return self.guessed_id if row is None else row.public_id

    # --- Exemplary cases: the school's case types; the student's consent in force and a case in each state of
    # CASE_STATES. A guess gets an id nobody has.

    def case_type(self, target: str) -> CaseType | None:
        """The school's "employment role model" type (the cases' type)."""
        return self._school_object(target, "case_type")  # type: ignore[no-any-return]

    def case_type_id(self, target: str) -> uuid.UUID:
        return self._school_thing(target, "case_type")

    def case(self, target: str, state: str) -> Case | None:
        """The target's case in `state` (one of CASE_STATES), read afresh."""
        if target == GUESSED:
            return None
        return Case.objects.get(pk=self.cases[target, state])

    def case_id(self, target: str, state: str) -> uuid.UUID:
        case = self.case(target, state)
        return self.guessed_id if case is None else case.public_id

    def consent(self, target: str) -> Consent | None:
        """The target's consent to publication in force (with a signed form on file)."""
        student = self.student(target)
        return None if student is None else showcase.active_consent(student)

    def consent_id(self, target: str) -> uuid.UUID:
        consent = self.consent(target)
        return self.guessed_id if consent is None else consent.public_id

    # --- Student accounts and the portal: the school's batch of accounts (holding the accounts of the school's
    # targets other than `own`, whose login is `student_user`), and each target's own résumé version.

    def account_batch_id(self, target: str) -> uuid.UUID:
        return self._school_thing(target, "account_batch")

    def resume_version(self, target: str) -> ResumeVersion | None:
        return self._own_thing(target, ResumeVersion)  # type: ignore[no-any-return]

    def resume_version_id(self, target: str) -> uuid.UUID:
        row = self.resume_version(target)
        return self.guessed_id if row is None else row.public_id


def furnish(world: World) -> Scene:
    """Give every target student what the routes point at: an open ledger entry whose first category carries
    evidence, an active helper (`own` keeps `helper`; the others get a teacher of their own department) who has a
    notification and has viewed the family situation (a row of the access log), an enrolment survey, a plan, an
    internal activity of this month with an attachment, and a spare teacher in each department to hand over to;
    then the opportunities, subsidies, tracks and exemplary-cases furniture (`furnish_opportunities`,
    `furnish_subsidies`, `furnish_tracks`, `furnish_showcase`); last the logins, batches of accounts and résumés
    (`furnish_accounts`)."""
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
        furnish_subsidies(scene, key, student)
        furnish_tracks(scene, student)
        furnish_showcase(scene, key, student)
        furnish_jobs(scene, key, student)
    furnish_accounts(scene)
    return scene


def furnish_accounts(scene: Scene) -> None:
    """Every target gets a login with an e-mail address (for a follow-up link): `own` keeps `student_user`; the
    others get theirs from their school's office, in one batch of accounts per school (school 1: `classmate` and
    `dept2_student`, one in each department), with open first-login links. Then each target uploads their own
    résumé (a PDF)."""
    world = scene.world
    world.student_user.email = "tianbinchen@example.com"
    world.student_user.save(update_fields=["email"])
    now = timezone.now()
    for office, keys in (("office", ("classmate", "dept2_student")), ("outsider", ("other_school_student",))):
        students = [s for s in map(scene.student, keys) if s is not None]
        result = create_student_accounts(
            actor=scene.user(office),
            students=students,
            now=now,
            emails={s.pk: f"{s.student_number}@example.com" for s in students},
        )
        assert result.batch is not None and len(result.created) == len(keys)
        scene.furniture[result.batch.school_id]["account_batch"] = result.batch
    for key in STUDENTS:
        student = scene.student(key)
        assert student is not None and student.user is not None
        upload_resume(
            actor=student.user,
            student=student,
            file=SimpleUploadedFile("个人简历.pdf", PDF, content_type="application/pdf"),
            comment="应聘纺织企业跟单员岗位用。",
            today=TODAY,
        )


def furnish_jobs(scene: Scene, key: str, student: Student) -> None:
    """Background jobs belong to whoever asked for them: the target's helper has an export job, and the office of
    the target's school an import job (once per school)."""
    helper = HelperAssignment.objects.active().select_related("helper").get(student=student).helper
    ExportJob.objects.create(created_by=helper, kind="work_ledger", language="zh-hans", scope=key)
    things = scene.furniture[student.school_id]
    if "import_job" not in things:
        office = scene.user("outsider" if key == "other_school_student" else "office")
        things["import_job"] = create_job(
            actor=office,
            target="students",
            school=student.school,
            upload=SimpleUploadedFile("学生名单.csv", "学号,姓名\n2099000001,马晓红\n".encode()),
        )


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


# The states a target's subsidy applications are furnished in, in the order of the workflow: "objected" is on
# public notice with an open objection, "on_notice" on a notice that has ended (ready for the final approval),
# "payable" approved and in no batch, "batched" approved and in a payment batch of its own.
SUBSIDY_STATES = (
    "draft",
    "submitted",
    "department_approved",
    "school_approved",
    "objected",
    "on_notice",
    "payable",
    "batched",
)


def furnish_subsidies(scene: Scene, key: str, student: Student) -> None:
    """The student's school gets the default subsidy types, its own type open in every stage and a budget for it;
    the student an application in each of SUBSIDY_STATES, made by their helper, approved for the department by the
    system and for the school by the school's office (two people, as the workflow wants). The draft carries
    evidence and a receipt."""
    actor, office = system_user(), scene.office_of(student)
    things = scene.furniture[student.school_id]
    if "subsidy_type" not in things:
        install_default_types(actor=actor, school=student.school)
        things["subsidy_type"] = save_subsidy_type(
            actor=actor,
            school=student.school,
            code="temporary_hardship",
            name="临时困难补助",
            name_en="Temporary hardship grant",
            amount_kind=AmountKind.CAPPED,
            amount=Decimal("800.00"),
            public_notice_days=5,
        )
        set_budget(actor=actor, subsidy_type=things["subsidy_type"], year=TODAY.year, amount=Decimal("100000.00"))
    applicant = HelperAssignment.objects.active().select_related("helper").get(student=student).helper
    after_notice = TODAY + dt.timedelta(days=14)
    for state in SUBSIDY_STATES:
        application = create_application(
            actor=applicant,
            student=student,
            subsidy_type=things["subsidy_type"],
            amount="600.00",
            reason="母亲住院，家庭临时困难。",
            today=TODAY,
            evidence=SimpleUploadedFile("住院证明.pdf", PDF, content_type="application/pdf")
            if state == "draft"
            else None,
        )
        scene.applications[key, state] = application.pk
        if state == "draft":
            add_receipt(
                actor=applicant,
                application=application,
                file=SimpleUploadedFile("住院收据.pdf", PDF, content_type="application/pdf"),
                amount="600.00",
                description="住院押金",
            )
            continue
        submit_application(actor=applicant, application=application, today=TODAY)
        if state == "submitted":
            continue
        approve_by_department(actor=actor, application=application, today=TODAY)
        if state == "department_approved":
            continue
        approve_by_school(actor=office, application=application, today=TODAY)
        if state == "school_approved":
            continue
        start_public_notice(actor=office, applications=[application], starts_on=TODAY, today=TODAY)
        if state == "objected":
            record_objection(actor=office, application=application, content="该生家庭已有稳定收入。", raised_on=TODAY)
            continue
        if state == "on_notice":
            continue
        approve_after_notice(actor=office, application=application, today=after_notice)
        if state == "batched":
            create_payment_batch(
                actor=office,
                school=student.school,
                name=f"{student.name}补助发放",
                applications=[application],
                today=after_notice,
            )


def furnish_tracks(scene: Scene, student: Student) -> None:
    """The student's school gets the default tracks; the student joins 签约护航 (and is not on 考公考编)."""
    actor = system_user()
    things = scene.furniture[student.school_id]
    if "track" not in things:
        install_default_tracks(actor=actor, school=student.school)
        tracks = TrackType.objects.filter(school=student.school)
        things["track"] = tracks.get(code="public_exam")
        things["enrolled_track"] = tracks.get(code="contract_escort")
    join_track(actor=actor, student=student, track=things["enrolled_track"], joined_on=TODAY, today=TODAY)


# The states a target's exemplary cases are furnished in: "nominated" (to approve, reject or edit), "approved" (to
# publish), "published" (to unpublish; on the public page).
CASE_STATES = ("nominated", "approved", "published")


def furnish_showcase(scene: Scene, key: str, student: Student) -> None:
    """The student's school gets the default case types from its office; the student a consent in force (surname
    only, everything else allowed, a signed form on file) recorded by their helper, and a case with a photo in each
    of CASE_STATES, nominated by the helper and approved and published by the school's office."""
    office = scene.office_of(student)
    things = scene.furniture[student.school_id]
    if "case_type" not in things:
        showcase.install_default_types(actor=office, school=student.school)
        things["case_type"] = CaseType.objects.get(school=student.school, code="employment_role_model")
    helper = HelperAssignment.objects.active().select_related("helper").get(student=student).helper
    showcase.record_consent(
        actor=helper,
        student=student,
        given_on=TODAY,
        name_shown="surname",
        today=TODAY,
        evidence=SimpleUploadedFile("授权书.pdf", PDF, content_type="application/pdf"),
        note="学生本人签字同意",
        **dict.fromkeys(CONSENT_FIELDS, True),
    )
    for state in CASE_STATES:
        case = showcase.nominate_case(
            actor=helper,
            student=student,
            case_type=things["case_type"],
            today=TODAY,
            photo=SimpleUploadedFile("签约合影.png", PNG, content_type="image/png"),
            title=f"从技能大赛走向工作岗位（{state}）",
            title_en="From the skills contest to a first job",
            story="在校期间三次参加省级技能大赛，毕业前与本地企业签约，成为团队骨干。",
            family_story="家庭经济困难，靠助学贷款完成学业。",
            employer=f"{student.school.name}合作企业",
            position="跟单员",
        )
        scene.cases[key, state] = case.pk
        if state == "nominated":
            continue
        case = showcase.approve_case(actor=office, case=case, today=TODAY)
        if state == "published":
            showcase.publish_case(actor=office, case=case, today=TODAY)


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


def leave_the_order_class(scene: Scene, target: str) -> None:
    """So that joining the order class again can succeed for whoever may do it (one open place per class)."""
    membership = scene.order_class(target)
    if membership is not None:
        leave_order_class(
            actor=system_user(),
            membership=membership,
            left_on=timezone.localdate(),
            reason="企业调整招生计划",
            expected_version=membership.version,
            today=timezone.localdate(),
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
        if method == "post" and any(hasattr(value, "read") for value in (body or {}).values()):
            return client.post(url, body)  # type: ignore[return-value]  # a file: a multipart form
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
    """What the response shows a person (JSON with its escapes undone, a PDF's text read back); "" for a file
    download or a redirect."""
    if getattr(response, "streaming", False) or not response.content:
        return ""
    if response.get("Content-Type", "").startswith("application/pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
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
    "CASE_STATES",
    "GUESSED",
    "INVALID",
    "LOGIN",
    "OK",
    "PDF",
    "PNG",
    "STUDENTS",
    "SUBSIDY_STATES",
    "TARGETS",
    "Args",
    "Body",
    "Scene",
    "api_operations",
    "describe",
    "furnish",
    "leave_the_ledger",
    "leave_the_order_class",
    "login",
    "outcome",
    "resolver_routes",
    "send",
    "shown_strangers",
    "text_of",
    "today",
]
