"""`bangfu seed_demo`: the demo university, its five logins, and loading it twice."""

import datetime as dt
import io
import itertools
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from bangfu.assistance.models import HelperAssignment
from bangfu.organisation.models import OrgUnit, Role, RoleGrant, UnitKind, User
from bangfu.students import idnumbers
from bangfu.students.models import Gender, LedgerCategory, LedgerEntry, Student
from tests.snapshot import replayable

# A fixed day in the autumn semester, so cohorts and dates do not depend on when the suite runs.
AUTUMN = dt.datetime(2025, 11, 3, 10, 0, tzinfo=dt.UTC)
LOGINS = ("principal", "office", "leader", "helper", "student")


def seed(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(AUTUMN, tick=False), translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _seed_300() -> str:
    return seed("--students", "300")


# Seeding 300 students costs seconds: the first test of a process seeds, later ones get the same rows written back.
_replayed_demo = replayable(_seed_300)


@pytest.fixture(scope="session")
def demo_media() -> Iterator[Path]:
    """The demo's sample PDFs, kept for every test of the process that replays its rows, removed at the end."""
    with tempfile.TemporaryDirectory(prefix="bangfu-demo-media-") as folder:
        yield Path(folder)


@pytest.fixture
def demo(db: None, settings, demo_media: Path) -> str:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = demo_media
    return _replayed_demo()


def open_ledger() -> "list[Student]":
    return list(Student.objects.filter(ledger_entries__left_on__isnull=True, ledger_entries__isnull=False))


def test_the_five_demo_logins_work_with_the_demo_password_and_are_printed(demo):
    for username in LOGINS:
        assert username in demo
        client = Client()
        response = client.post(reverse("login"), {"username": username, "password": "bangfu-demo"})
        assert response.status_code == 302, username
        assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)
    assert "bangfu-demo" in demo
    assert "employers" in demo and "graduate destinations" in demo


def test_other_staff_cannot_log_in(demo):
    others = User.objects.exclude(username__in=LOGINS)
    assert others.count() >= 140
    assert not any(u.has_usable_password() for u in others)


def test_school_structure_departments_majors_cohorts_classes(demo):
    school = OrgUnit.objects.get(kind=UnitKind.SCHOOL, code="DEMO")
    assert school.name and school.name_en
    departments = OrgUnit.objects.filter(parent=school)
    assert departments.count() >= 6
    assert all(d.name_en for d in departments)
    for dept in departments:
        assert 2 <= dept.children.count() <= 3
    cohorts = set(Student.objects.values_list("cohort", flat=True))
    assert cohorts == {2022, 2023, 2024, 2025}
    for major in OrgUnit.objects.filter(kind=UnitKind.MAJOR, path__startswith=school.path):
        assert major.children.count() == 4  # one class per cohort
    assert Student.objects.filter(school=school).count() == 300
    # Graduated cohorts are marked so; everybody else is studying.
    assert set(Student.objects.filter(cohort=2022).values_list("status", flat=True)) == {"graduated"}
    assert set(Student.objects.filter(cohort__gte=2023).values_list("status", flat=True)) == {"enrolled"}


def test_roles_and_scopes_of_the_logins(demo):
    school = OrgUnit.objects.get(code="DEMO", parent=None)
    users = {u.username: u for u in User.objects.filter(username__in=LOGINS)}

    def grants(name: str) -> set[tuple[str, str]]:
        return {(g.role, g.unit.kind) for g in RoleGrant.objects.filter(user=users[name]).select_related("unit")}

    assert grants("principal") == {(Role.SCHOOL_LEADER, UnitKind.SCHOOL)}
    assert grants("office") == {(Role.EMPLOYMENT_OFFICE, UnitKind.SCHOOL)}
    assert grants("leader") == {(Role.DEPARTMENT_LEADER, UnitKind.DEPARTMENT)}
    assert grants("helper") == {(Role.COUNSELLOR, UnitKind.CLASS)}
    assert grants("student") == {(Role.STUDENT, UnitKind.CLASS)}

    assert Student.objects.visible_to(users["principal"]).count() == 300
    assert Student.objects.visible_to(users["office"]).count() == 300
    leader_dept = RoleGrant.objects.get(user=users["leader"]).unit
    assert Student.objects.visible_to(users["leader"]).count() == Student.objects.filter(department=leader_dept).count()

    # The counsellor's classes are final-year classes of the leader's department; their ledger students are theirs.
    classes = [g.unit for g in RoleGrant.objects.filter(user=users["helper"])]
    assert len(classes) >= 2
    assert all(c.path.startswith(leader_dept.path) for c in classes)
    assert {s.cohort for s in Student.objects.filter(class_unit__in=classes)} == {2023}
    helped = Student.objects.filter(
        helper_assignments__in=HelperAssignment.objects.active().filter(helper=users["helper"])
    )
    in_classes_ledger = [s for s in open_ledger() if s.class_unit in classes]
    assert helped.count() == len(in_classes_ledger) >= 1
    assert set(helped) <= set(Student.objects.visible_to(users["helper"]))

    # The student login is a ledger student, helped by `helper`, who sees only themself.
    me = Student.objects.get(user=users["student"])
    assert me in helped
    assert list(Student.objects.visible_to(users["student"])) == [me]
    assert me.school == school


def test_about_a_fifth_are_in_the_ledger_and_each_has_a_helper(demo):
    ledger = open_ledger()
    assert 0.17 <= len(ledger) / 300 <= 0.23
    active = Counter(HelperAssignment.objects.active().values_list("student_id", flat=True))
    assert all(active[s.pk] == 1 for s in ledger)
    # Every helper is a member of staff of the student's school.
    for assignment in HelperAssignment.objects.active().select_related("helper__unit", "student__school"):
        assert assignment.helper.unit.path.startswith(assignment.student.school.path)
        assert RoleGrant.objects.filter(user=assignment.helper).exclude(role=Role.STUDENT).exists()
    categories = Counter(LedgerCategory.objects.filter(entry__left_on__isnull=True).values_list("category", flat=True))
    assert {"poverty_alleviated", "rural", "student_loan"} <= set(categories)
    for entry in LedgerEntry.objects.filter(left_on__isnull=True):
        assert entry.family_situation and entry.join_reason and entry.hardship_level
        assert entry.joined_on <= AUTUMN.date()


def test_students_have_valid_consistent_id_numbers_and_realistic_data(demo):
    ethnicities = Counter()
    for s in Student.objects.select_related("class_unit", "major", "department", "school"):
        number = idnumbers.decrypt(s.id_number_cipher)
        assert idnumbers.validate(number) == number
        assert s.id_number_hash == idnumbers.keyed_hash(number)
        assert s.id_number_masked == idnumbers.mask(number)
        assert idnumbers.birth_date(number) == s.birth_date
        assert (int(number[16]) % 2 == 1) == (s.gender == Gender.MALE)
        assert s.class_unit.parent == s.major and s.major.parent == s.department and s.department.parent == s.school
        assert 2 <= len(s.name) <= 3
        assert s.phone.isdigit() and len(s.phone) == 11
        ethnicities[s.ethnicity] += 1
    assert ethnicities.most_common(1)[0] == ("汉族", ethnicities["汉族"])
    assert ethnicities["汉族"] / 300 > 0.85
    hebei = Student.objects.filter(home_province="河北省").count()
    assert 0.75 < hebei / 300 < 0.98


def test_running_it_again_changes_nothing(demo):
    def counts() -> dict[str, int]:
        from bangfu.opportunities.models import Employer, Recommendation
        from bangfu.outcomes.models import Destination, FollowUp

        models = [OrgUnit, User, RoleGrant, Student, LedgerEntry, LedgerCategory, HelperAssignment]
        models += [Employer, Recommendation, Destination, FollowUp]
        totals = {m.__name__: m.objects.count() for m in models}
        totals.update({f"history {m.__name__}": m.history.count() for m in models if hasattr(m, "history")})
        return totals

    before = counts()
    assert "already loaded" in seed()
    seed("--if-empty")
    assert counts() == before


def test_if_empty_leaves_a_database_with_students_alone(world):
    out = seed("--if-empty")
    assert "not loaded" in out
    assert not OrgUnit.objects.filter(code="DEMO").exists()


def test_refuses_when_a_demo_user_name_is_taken(db):
    User.objects.create(username="office")
    with pytest.raises(CommandError, match="office"):
        seed("--students", "300")
    assert not OrgUnit.objects.filter(code="DEMO").exists()


# --- Employers, recommendations, destinations (bangfu.demo.opportunities) ------------------------------------

TODAY = AUTUMN.date()


def test_employers_positions_and_events_are_valid_and_of_every_kind(demo):
    from bangfu.opportunities import creditcodes
    from bangfu.opportunities.models import Employer, EventAttendance, Position, RecruitmentEvent

    school = OrgUnit.objects.get(code="DEMO", parent=None)
    employers = list(Employer.objects.filter(school=school))
    assert len(employers) >= 20
    assert all(creditcodes.validate(e.credit_code) == e.credit_code for e in employers)
    assert len({e.name_key for e in employers}) == len(employers)
    assert {e.province for e in employers} == {"河北省", "北京市", "天津市"}
    assert {e.employer_type for e in employers} >= {"private", "state_owned", "public_institution"}
    for flag in ("is_internship_base", "is_order_class_partner", "is_work_study_host"):
        assert any(getattr(e, flag) for e in employers), flag
    positions = Position.objects.filter(employer__school=school)
    assert set(positions.values_list("kind", flat=True)) == {"job", "internship", "work_study", "order_class"}
    open_now = positions.open_on(TODAY)
    assert open_now.filter(kind="job").count() >= 10
    majors = set(OrgUnit.objects.filter(kind=UnitKind.MAJOR, path__startswith=school.path))
    assert all(set(p.majors.all()) <= majors for p in positions)
    assert all(p.salary_min <= p.salary_max for p in positions.filter(salary_min__isnull=False))
    events = RecruitmentEvent.objects.filter(school=school)
    assert events.filter(held_on__gt=TODAY).exists() and events.filter(held_on__lte=TODAY).exists()
    assert not EventAttendance.objects.filter(event__held_on__gt=TODAY).exists()
    for a in EventAttendance.objects.select_related("event", "activity"):
        # Attendance is the "event together" activity of the student's helper, on the event's day.
        assert a.activity.kind == "event_together" and a.activity.student_id == a.student_id
        assert a.activity.occurred_on == a.event.held_on and a.activity.event_name == a.event.title
        assert a.activity.helper_id == a.helper_id


def test_recommendations_move_one_allowed_step_at_a_time_and_their_activities_follow(demo):
    from bangfu.assistance.rules import DEFAULT_RULES, is_effective
    from bangfu.opportunities.models import NEXT_STATUSES, Recommendation

    kind_of = {
        "job": "job_recommendation",
        "internship": "internship_arranged",
        "work_study": "work_study_recommendation",
        "order_class": "order_class_recommendation",
    }
    response_of = {"applied": "applied", "interviewed": "interviewed", "offer": "employer_answered"}
    response_of |= {"accepted": "employer_answered", "rejected": "employer_answered"}
    recommendations = Recommendation.objects.select_related("position__employer", "activity").prefetch_related("steps")
    reached: set[str] = set()
    statuses = Counter()
    for rec in recommendations:
        steps = sorted(rec.steps.all(), key=lambda s: (s.at, s.pk))
        assert [(s.from_status, s.to_status) for s in steps[:1]] == [("", "recommended")]
        assert steps[0].on == rec.recommended_on == rec.activity.occurred_on
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status
            assert after.to_status in NEXT_STATUSES[before.to_status], (before.to_status, after.to_status)
            assert before.on <= after.on <= TODAY
        assert steps[-1].to_status == rec.status and rec.version == len(steps)
        assert rec.recommended_on <= (rec.position.deadline or TODAY)
        assert rec.acted_on == next((s.on for s in steps if s.to_status == "applied"), None)
        if rec.status == "declined":
            assert rec.decline_reason
        if rec.status == "expired":
            assert rec.position.deadline < steps[-1].on
        activity = rec.activity
        assert activity.kind == kind_of[rec.position.kind] and activity.student_id == rec.student_id
        assert (activity.employer_name, activity.position_title) == (rec.position.employer.name, rec.position.title)
        if activity.kind == "job_recommendation":
            expected = ""
            for s in steps:
                expected = response_of.get(s.to_status, expected)
            if rec.status == "declined" and rec.acted_on is None:
                expected = "declined"
            assert activity.response == expected and activity.fits_student == rec.fits_student
            assert activity.effective == is_effective(
                kind=activity.kind, fits_student=rec.fits_student, response=expected, rules=DEFAULT_RULES
            )
        statuses[rec.status] += 1
        reached.update(s.to_status for s in steps)
    assert set(reached) == set(NEXT_STATUSES)  # every status is reached
    assert len(statuses) >= len(NEXT_STATUSES) - 1  # and nearly every one is where some recommendation stands
    # Progress was computed after the recommendations changed the work ledger: rebuilding it changes nothing.
    from bangfu.assistance.models import StudentProgress
    from bangfu.assistance.progress import rebuild_progress

    def progress() -> list[tuple[object, ...]]:
        return list(StudentProgress.objects.order_by("student_id").values_list("student_id", "meters", "risk"))

    before = progress()
    rebuild_progress(today=TODAY)
    assert progress() == before
    # The student login has recommendations to answer.
    me = Student.objects.get(user__username="student")
    assert Recommendation.objects.filter(student=me, status="recommended", position__deadline__gte=TODAY).exists()


def test_what_was_accepted_started_and_work_study_hours_stay_within_the_limits(demo):
    from bangfu.opportunities.models import (
        Internship,
        OrderClassMembership,
        Recommendation,
        WorkStudyAssignment,
        WorkStudyHours,
    )
    from bangfu.outcomes.models import Destination

    accepted = Recommendation.objects.filter(status="accepted").select_related("position")
    assert {r.position.kind for r in accepted} >= {"job", "work_study", "order_class"}
    for rec in accepted:
        on = rec.steps.get(to_status="accepted").on
        position = rec.position
        if position.kind == "job":
            assert Destination.objects.filter(student=rec.student, employer=position.employer, recorded_on=on).exists()
        elif position.kind == "work_study":
            assert WorkStudyAssignment.objects.filter(student=rec.student, position=position, started_on=on).exists()
        elif position.kind == "order_class":
            assert OrderClassMembership.objects.filter(student=rec.student, position=position, joined_on=on).exists()
        else:
            assert Internship.objects.filter(student=rec.student, position=position, started_on=on).exists()
    assert OrderClassMembership.objects.filter(left_on__isnull=False).exclude(left_reason="").exists()
    assert Internship.objects.filter(became_job=True).exists() and Internship.objects.exclude(evaluation="").exists()
    hours = list(WorkStudyHours.objects.select_related("assignment"))
    assert hours
    week, month = Counter(), Counter()
    for row in hours:
        a = row.assignment
        assert a.started_on <= row.worked_on <= min(a.ended_on or TODAY, TODAY) and row.student_id == a.student_id
        week[row.student_id, row.worked_on.isocalendar()[:2]] += row.hours
        month[row.student_id, row.worked_on.year, row.worked_on.month] += row.hours
    assert max(week.values()) <= 8 and max(month.values()) <= 40


def test_destinations_are_history_and_show_a_cohort_clearing_to_zero(demo):
    from bangfu.organisation.permissions import Perm, has_student_perm
    from bangfu.outcomes.models import Destination, FollowUp
    from bangfu.outcomes.queries import graduates_of, placement_figures, unplaced
    from bangfu.outcomes.services import months_after

    by_student = defaultdict(list)
    for d in Destination.objects.select_related("code", "student", "verified_by").order_by("recorded_on", "pk"):
        by_student[d.student_id].append(d)
    assert by_student
    changed = 0
    for chain in by_student.values():
        assert [d.superseded_on for d in chain[:-1]] == [d.recorded_on for d in chain[1:]] and chain[-1].is_current
        changed += len(chain) > 1
        placed_since = None
        for d in chain:
            assert d.recorded_on <= TODAY and d.student.enrolled_on <= (d.started_on or d.recorded_on)
            placed = d.code.group in ("employed", "further_study")
            placed_since = (placed_since or d.recorded_on) if placed else None
            assert d.placed_since == placed_since
            assert bool(d.employer_name) == placed
            if d.verified_on:
                assert placed and d.evidence and d.evidence_kind in d.code.evidence_kinds
                assert d.recorded_on <= d.verified_on <= TODAY and d.verified_on < (d.superseded_on or dt.date.max)
                assert has_student_perm(d.verified_by, Perm.VERIFY_DESTINATION, d.student)
            assert has_student_perm(Destination.objects.get(pk=d.pk).recorded_by, Perm.RECORD_OUTCOME, d.student)
    assert changed >= 5
    assert Destination.history.count() > Destination.objects.count()

    # The 2025 graduates (left in June): most placed, those in the ledger nearly all; the list counted down
    # since 31 August. The 2026 graduates have begun to sign.
    school = OrgUnit.objects.get(code="DEMO", parent=None)
    graduates = graduates_of(Student.objects.filter(school=school), 2025)
    (now,) = placement_figures(students=graduates, as_of=TODAY)
    (august,) = placement_figures(students=graduates, as_of=dt.date(2025, 8, 31))
    ledger = {f.key: f for f in placement_figures(students=graduates, as_of=TODAY, by="ledger")}
    assert 80 <= now.placement_rate < 100 and now.knowledge_rate >= 95 and 0 < now.verified < now.placed
    assert august.placement_rate < now.placement_rate
    assert ledger[True].placement_rate >= max(90, ledger[False].placement_rate)
    assert unplaced(graduates.in_ledger()).count() <= 0.1 * graduates.in_ledger().count()
    (next_year,) = placement_figures(students=graduates_of(Student.objects.filter(school=school), 2026), as_of=TODAY)
    assert next_year.knowledge_rate < 30

    # Follow-ups after leaving record what the helper found, on the day of the follow-up activity.
    follow_ups = list(FollowUp.objects.select_related("activity", "destination__code", "student"))
    assert follow_ups and {f.status for f in follow_ups} >= {"still_employed", "unemployed"}
    for f in follow_ups:
        assert f.activity.kind == "follow_up" and f.activity.occurred_on == f.done_on > f.student.expected_graduation
        assert f.months_after_leaving == months_after(f.student.expected_graduation, f.done_on)
        d = f.destination
        assert d.recorded_on <= f.done_on < (d.superseded_on or dt.date.max)
        group = {"employed": ("still_employed", "changed_job"), "further_study": ("further_study",)}
        assert f.status in group.get(d.code.group, ("unemployed",))
        if f.status == "unemployed":
            assert d.code.code == "70"


def test_the_school_starts_with_its_default_subsidies_budgets_tracks_and_case_types(demo):
    from bangfu.showcase.models import CaseType
    from bangfu.subsidies.models import Budget, SubsidyType
    from bangfu.tracks.models import TrackType

    school = OrgUnit.objects.get(kind=UnitKind.SCHOOL)
    codes = set(SubsidyType.objects.filter(school=school).values_list("code", flat=True))
    assert codes == {"national_grant", "hardship_subsidy", "job_search", "medical_exam", "travel"}
    budgets = Budget.objects.filter(subsidy_type__school=school, year=AUTUMN.year)
    assert budgets.count() == 5 and all(b.amount == b.subsidy_type.amount * 60 for b in budgets)
    assert TrackType.objects.filter(school=school).count() == 6
    assert CaseType.objects.filter(school=school).count() == 6
