"""Retention: graduates past the retention period are anonymised; access-log rows and import files age out.

When a graduate's follow-up period ends (see `follow_up_end`), Bangfu has no more use for who they are, only for
what happened: RETENTION_YEARS later every field that identifies them or describes their private situation is
erased, in the live tables and in the history tables (django-simple-history keeps old values), and their
uploaded files and portal account go. What the figures count stays: cohort, school, department, major, class,
gender, home province, status, expected graduation, ledger membership and its categories, helper assignments,
activity kinds, dates and stages, recommendations and their outcomes, destination code, group, employer and its
type, industry, place and salary, verification dates, subsidy types, amounts and steps, tracks and milestones.

This module writes to the models of several apps on purpose: anonymisation must reach every table that holds a
student's data at once, in one transaction per batch, which no single app's service can do.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import CharField, F, Max, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from bangfu.assistance.rules import versions_for_schools
from bangfu.audit.models import AccessLog
from bangfu.dates import add_months
from bangfu.imports.models import ImportJob
from bangfu.operations.models import AnonymisationRun, AnonymisedStudent
from bangfu.organisation.models import ApiToken, User
from bangfu.portal.models import AccountLink
from bangfu.showcase.models import Case, CaseStatus
from bangfu.students.models import Student

ANONYMOUS = "已匿名"  # what pages show in place of an erased name or title
CHANGE_REASON = "anonymised after the retention period"
BATCH_SIZE = 200
ACCESS_LOG_BATCH = 5000


def years_before(day: dt.date, years: int) -> dt.date:
    return add_months(day, -12 * years)


# --- Who has expired -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expired:
    student_id: int
    school: str  # the school's code
    cohort: int
    student_number: str
    follow_up_ended_on: dt.date


def follow_up_end(*, graduation: dt.date, follow_up_months: int, last_follow_up: dt.date | None) -> dt.date:
    """The follow-up period ends `follow_up_months` after graduation (the school's policy in force on the graduation
    date; 12 by default), or on the last follow-up recorded, whichever is later."""
    end = add_months(graduation, follow_up_months)
    return max(end, last_follow_up) if last_follow_up else end


def expired_students(*, today: dt.date, years: int) -> list[Expired]:
    """Students not yet anonymised whose follow-up period ended before `today` minus `years` years, in order of
    school, cohort and student number. Graduation is the student's expected graduation date, whatever the status
    field says, exactly as the placement figures count graduates."""
    cutoff = years_before(today, years)
    # The follow-up period lasts at least a month, so only students who graduated before the cutoff can qualify.
    rows = (
        Student.objects.filter(expected_graduation__lt=cutoff, anonymisation__isnull=True)
        .annotate(last_follow_up=Max("follow_ups__done_on"))
        .order_by("school__code", "cohort", "student_number")
        .values_list(
            "pk", "school_id", "school__code", "cohort", "student_number", "expected_graduation", "last_follow_up"
        )
    )
    school_ids = set(Student.objects.filter(expected_graduation__lt=cutoff).values_list("school_id", flat=True))
    versions = versions_for_schools(school_ids)
    expired = []
    for pk, school_id, code, cohort, number, graduation, last in rows.iterator(chunk_size=2000):
        months = versions[school_id].on(graduation).follow_up_months
        end = follow_up_end(graduation=graduation, follow_up_months=months, last_follow_up=last)
        if end < cutoff:
            expired.append(Expired(pk, code, cohort, number, end))
    return expired


def summarise(expired: Iterable[Expired]) -> dict[str, dict[str, int]]:
    """{school code: {cohort: count}}: what a run reports and records, identifying no one."""
    summary: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in expired:
        summary[e.school][str(e.cohort)] += 1
    return {school: dict(cohorts) for school, cohorts in summary.items()}


# --- What is erased ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scrub:
    """The personal fields of one model: set to `values`, and the files in `files` deleted and emptied. `key` is the
    column that leads to `owner` (a student, or a row of another Scrub), in the live and the history table."""

    model: str
    key: str
    owner: str
    values: dict[str, Any]
    files: tuple[str, ...] = ()


STUDENT = "students.Student"
SCRUBS: tuple[Scrub, ...] = (
    Scrub(
        STUDENT,
        "id",
        STUDENT,
        {
            "name": ANONYMOUS,
            "student_number": Concat(Value("anon-"), Cast(F("id"), CharField())),
            "ethnicity": "",
            "id_number_cipher": "",
            "id_number_hash": "",
            "id_number_masked": "",
            "birth_date": None,
            "home_city": "",
            "home_county": "",
            "address": "",
            "phone": "",
        },
    ),
    Scrub(
        "students.LedgerEntry",
        "student_id",
        STUDENT,
        {"family_situation": "", "join_reason": "", "leave_reason": "", "hardship_level": "", "disability_level": ""},
    ),
    Scrub("students.LedgerCategory", "entry_id", "students.LedgerEntry", {}, files=("evidence",)),
    Scrub(
        "students.EnrolmentSurvey",
        "student_id",
        STUDENT,
        {"notes": "", "decision_reason": "", "disability_level": "", "household_size": None, "annual_income": None},
    ),
    Scrub("assistance.HelperAssignment", "student_id", STUDENT, {"reason": "", "handover_note": "", "end_reason": ""}),
    Scrub("assistance.Plan", "student_id", STUDENT, {"industries": "", "places": "", "strengths": "", "needs": ""}),
    Scrub("assistance.PlanReview", "plan_id", "assistance.Plan", {"notes": ""}),
    Scrub("assistance.Activity", "student_id", STUDENT, {"notes": ""}, files=("attachment",)),
    Scrub("outcomes.Destination", "student_id", STUDENT, {"note": "", "confirmation_note": ""}, files=("evidence",)),
    Scrub("outcomes.FollowUp", "student_id", STUDENT, {"notes": ""}),
    Scrub("portal.ResumeVersion", "student_id", STUDENT, {"comment": ""}, files=("file",)),
    Scrub("portal.FollowUpLink", "student_id", STUDENT, {"sent_to": ""}),
    Scrub("opportunities.Recommendation", "student_id", STUDENT, {"note": ""}),
    Scrub("opportunities.RecommendationStep", "recommendation_id", "opportunities.Recommendation", {"note": ""}),
    Scrub("opportunities.Internship", "student_id", STUDENT, {"evaluation_note": ""}),
    Scrub("opportunities.OrderClassMembership", "student_id", STUDENT, {"left_reason": ""}),
    Scrub("opportunities.WorkStudyHours", "student_id", STUDENT, {"note": ""}),
    Scrub("subsidies.Application", "student_id", STUDENT, {"reason": ""}, files=("evidence",)),
    Scrub("subsidies.Receipt", "application_id", "subsidies.Application", {"description": ""}, files=("file",)),
    Scrub("subsidies.ApplicationStep", "application_id", "subsidies.Application", {"comment": ""}),
    Scrub("subsidies.Objection", "application_id", "subsidies.Application", {"content": "", "handling": ""}),
    Scrub("showcase.Consent", "student_id", STUDENT, {"note": "", "withdrawal_note": ""}, files=("evidence",)),
    Scrub(
        "showcase.Case",
        "student_id",
        STUDENT,
        {
            "title": ANONYMOUS,
            "title_en": "",
            "story": "",
            "story_en": "",
            "family_story": "",
            "family_story_en": "",
            "employer": "",
            "position": "",
        },
        files=("photo",),
    ),
    Scrub("showcase.CaseStep", "case_id", "showcase.Case", {"comment": ""}),
    Scrub("tracks.TrackEnrolment", "student_id", STUDENT, {"left_reason": ""}),
    Scrub("tracks.MilestoneRecord", "enrolment_id", "tracks.TrackEnrolment", {"note": ""}),
    # The access log keeps who looked at what kind of data and when; its free text (file names, paths) goes.
    Scrub("audit.AccessLog", "student_id", STUDENT, {"detail": ""}),
)


def _history(model: type[models.Model]) -> type[models.Model] | None:
    manager = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, manager).model if manager else None


class _Batch:
    """The rows of one batch of students in every scrubbed table, found once per table (live and history)."""

    def __init__(self, student_ids: list[int]) -> None:
        self.keys: dict[str, set[int]] = {STUDENT: set(student_ids)}
        self.files: set[str] = set()

    def owned(self, scrub: Scrub) -> set[int]:
        """Primary keys of the rows of `scrub.model` belonging to the batch, deleted rows' history included."""
        if scrub.model in self.keys:
            return self.keys[scrub.model]
        model = apps.get_model(scrub.model)
        owners = self.keys[scrub.owner]
        ids = set(model._base_manager.filter(**{f"{scrub.key}__in": owners}).values_list("pk", flat=True))
        if (history := _history(model)) is not None:
            ids |= set(history._base_manager.filter(**{f"{scrub.key}__in": owners}).values_list("id", flat=True))
        self.keys[scrub.model] = ids
        return ids

    def apply(self, scrub: Scrub) -> None:
        model = apps.get_model(scrub.model)
        owners = self.keys[scrub.owner]
        self.owned(scrub)  # before the update: child scrubs find their rows through this one's keys
        live = model._base_manager.filter(**{f"{scrub.key}__in": owners})
        values = dict(scrub.values) | {name: "" for name in scrub.files}
        for name in scrub.files:
            self.files |= set(live.exclude(**{name: ""}).values_list(name, flat=True))
        if any(f.name == "version" for f in model._meta.concrete_fields):
            values["version"] = F("version") + 1  # a form opened before the erasure cannot write old text back
        live.update(**values)
        if (history := _history(model)) is not None:
            names = {f.name for f in history._meta.concrete_fields}
            old = history._base_manager.filter(**{f"{scrub.key}__in": owners})
            for name in scrub.files:
                self.files |= set(old.exclude(**{name: ""}).values_list(name, flat=True))
            old.update(**{k: v for k, v in values.items() if k in names and k != "version"})


def _file_fields() -> Iterator[tuple[type[models.Model], str]]:
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, models.FileField):
                yield model, f.name


def _unreferenced(names: set[str]) -> set[str]:
    """Of these stored files, those no live row points at any more (demo and imported rows can share a file)."""
    names = set(names)
    for model, field in _file_fields():
        if not names:
            break
        names -= set(model._base_manager.filter(**{f"{field}__in": names}).values_list(field, flat=True))
    return names


def _scrub_accounts(student_ids: list[int]) -> None:
    """The students' portal accounts: deactivated, without a usable password, name, e-mail or phone; their
    tokens, one-time links and login-attempt records deleted."""
    users = User.objects.filter(student_record__in=student_ids)
    usernames = list(users.values_list("username", flat=True))
    user_ids = list(users.values_list("pk", flat=True))
    if not user_ids:
        return
    ApiToken.objects.filter(user__in=user_ids).delete()
    AccountLink.objects.filter(user__in=user_ids).delete()
    from axes.models import AccessAttempt, AccessFailureLog
    from axes.models import AccessLog as LoginLog

    for login_model in (AccessAttempt, AccessFailureLog, LoginLog):
        login_model.objects.filter(username__in=usernames).delete()
    User.objects.filter(pk__in=user_ids).update(
        username=Concat(Value("anonymised-"), Cast(F("id"), CharField())),
        full_name="",
        first_name="",
        last_name="",
        email="",
        phone="",
        staff_number="",
        is_active=False,
        password=make_password(None),
    )
    for model, ids in ((Student, student_ids), (User, user_ids)):
        # The admin's log names the object it changed.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id__in=[str(i) for i in ids]
        ).update(object_repr="", change_message="")


def _anonymise_batch(batch: list[Expired], *, run: AnonymisationRun, actor: User | None, now: dt.datetime) -> int:
    ids = [e.student_id for e in batch]
    # Another run may have taken some of them since the list was made: lock and skip those.
    ids = list(
        Student.objects.select_for_update()
        .filter(pk__in=ids)
        .exclude(pk__in=AnonymisedStudent.objects.values("student_id"))
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    work = _Batch(ids)
    for scrub in SCRUBS:
        work.apply(scrub)
    Case.objects.filter(student__in=ids, status=CaseStatus.PUBLISHED).update(status=CaseStatus.UNPUBLISHED)
    _scrub_accounts(ids)
    ended = {e.student_id: e.follow_up_ended_on for e in batch}
    AnonymisedStudent.objects.bulk_create(
        AnonymisedStudent(student_id=i, run=run, anonymised_at=now, follow_up_ended_on=ended[i]) for i in ids
    )
    # One history row per student records the erasure, who ran it and why; the audit pages list it.
    students = list(Student.objects.filter(pk__in=ids))
    bulk_update_with_history(
        students, Student, ["name"], default_user=actor, default_change_reason=CHANGE_REASON, default_date=now
    )
    doomed = _unreferenced(work.files)
    transaction.on_commit(lambda: _delete_files(doomed))
    return len(ids)


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        default_storage.delete(name)  # missing files are no error: a second run finds nothing


def anonymise(
    expired: list[Expired],
    *,
    today: dt.date,
    years: int,
    actor: User | None = None,
    batch_size: int = BATCH_SIZE,
) -> AnonymisationRun:
    """Anonymise the given students, `batch_size` per transaction. A run stopped half-way keeps the batches it
    finished; running again picks up the rest, and anonymised students are never touched twice."""
    now = timezone.now()
    run = AnonymisationRun.objects.create(
        started_at=now,
        actor=actor,
        run_by=getpass.getuser(),
        today=today,
        retention_years=years,
        cutoff=years_before(today, years),
    )
    done: list[Expired] = []
    for start in range(0, len(expired), batch_size):
        batch = expired[start : start + batch_size]
        with transaction.atomic():
            count = _anonymise_batch(batch, run=run, actor=actor, now=now)
            taken = set(
                AnonymisedStudent.objects.filter(run=run, student__in=[e.student_id for e in batch]).values_list(
                    "student_id", flat=True
                )
            )
            done += [e for e in batch if e.student_id in taken]
            AnonymisationRun.objects.filter(pk=run.pk).update(anonymised=F("anonymised") + count)
    run.refresh_from_db()
    run.summary = summarise(done)
    run.finished_at = timezone.now()
    run.save(update_fields=["summary", "finished_at"])
    return run


# --- Other retention -----------------------------------------------------------------------------------------


def purge_old_imports(*, today: dt.date, years: int) -> int:
    """Uploaded import spreadsheets hold many students' data: after the retention period the file and the
    problems quoted from it go; the job's counts stay."""
    before = timezone.make_aware(dt.datetime.combine(years_before(today, years), dt.time.min))
    old = ImportJob.objects.filter(created_at__lt=before).exclude(file="", problems=[], message="")
    names = set(old.exclude(file="").values_list("file", flat=True))
    count = old.update(file="", problems=[], message="")
    for name in names:
        default_storage.delete(name)
    return count


def purge_access_log(*, today: dt.date, days: int | None = None, batch_size: int = ACCESS_LOG_BATCH) -> int:
    """Delete access-log rows older than ACCESS_LOG_RETENTION_DAYS (at least 183), in batches of `batch_size`
    so that no single statement locks the table for long. Returns how many rows went."""
    days = settings.ACCESS_LOG_RETENTION_DAYS if days is None else days
    before = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time.min))
    deleted = 0
    while True:
        ids = list(AccessLog.objects.filter(at__lt=before).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += AccessLog.objects.filter(pk__in=ids).delete()[0]
