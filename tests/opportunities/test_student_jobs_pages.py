"""A student's jobs page: suggestions with their reasons, recommending, every step of a recommendation (and the
destination an accepted job records), internships, order classes and work-study hours; who may do what."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.assistance.models import Activity, ActivityKind
from bangfu.opportunities.models import (
    Internship,
    OrderClassMembership,
    Position,
    Recommendation,
    RecommendationStatus,
    WorkStudyAssignment,
    WorkStudyHours,
)
from bangfu.opportunities.services import (
    change_recommendation,
    log_work_study_hours,
    recommend,
    record_internship,
    start_work_study,
)
from bangfu.organisation.models import Role
from bangfu.organisation.services import grant_role
from bangfu.outcomes.models import Destination
from bangfu.outcomes.queries import unplaced
from bangfu.students.models import Student
from tests.assistance.helpers import english
from tests.assistance.work_helpers import HTMX, frozen, helped_student, texts
from tests.conftest import TODAY, World
from tests.factories import make_employer, make_position, make_staff

pytestmark = pytest.mark.usefixtures(frozen.__name__, english.__name__)

D = dt.date
NOT_SAVED = 'data-testid="not-saved"'


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"jobs:{name}", args=[getattr(a, "public_id", a) for a in args])


class Jobs:
    """The world's employers and positions: two jobs (one wants own's major), an internship, a work-study post
    and an order class, all of the world's school; and one employer of the other school."""

    def __init__(self, world: World) -> None:
        self.employer = make_employer(world.school, "石家庄华信服饰有限公司", is_internship_base=True)
        self.designer = make_position(self.employer, "服装设计助理", deadline=D(2024, 3, 25), majors=[world.own.major])
        self.clerk = make_position(
            make_employer(world.school, "河北顺达物流有限公司", city="保定市"), "仓储管理员", deadline=D(2024, 5, 31)
        )
        self.internship = make_position(self.employer, "服装制版实习生", kind="internship")
        self.post = make_position(
            make_employer(world.school, "河北科技工程职业技术大学图书馆", employer_type="public_institution"),
            "图书馆勤工助学岗",
            kind="work_study",
            salary_min=None,
            salary_max=None,
        )
        self.order_class = make_position(self.employer, "华信服饰订单班", kind="order_class")
        self.elsewhere = make_employer(world.other_school, "保定长城汽车配件有限公司")


@pytest.fixture
def jobs(world: World) -> Jobs:
    return Jobs(world)


def _recommend(world: World, position: Position, day: dt.date = TODAY) -> Recommendation:
    return recommend(actor=world.helper, student=world.own, position=position, today=day)


def _step(rec: Recommendation, to: str, **extra: object) -> dict[str, object]:
    rec.refresh_from_db()
    return {"to_status": to, "on": "2024-03-15", "version": rec.version, **extra}


# --- The page ----------------------------------------------------------------------------------------------------


def test_the_helper_sees_suggestions_best_fit_first_with_their_reasons(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).get(url("student", world.own))
    assert response.status_code == 200
    suggestions = response.context["suggestions"]
    assert [(s.position.title, s.score) for s in suggestions] == [("服装设计助理", 50), ("仓储管理员", 15)]
    assert suggestions[0].reasons == [
        "Wants your major (专业1)",
        "A partner employer of the school",
        "Closes soon: 2024-03-25",
    ]
    html = response.content.decode()
    assert "Wants your major (专业1)" in html and "Open to every major" in html
    assert html.count('data-testid="recommend"') == 2
    assert "服装制版实习生" not in html  # jobs unless another kind is asked for
    assert response["Cache-Control"].startswith("max-age=0")


def test_another_kind_of_position_can_be_asked_for_and_htmx_gets_only_that_section(
    world: World, jobs: Jobs, as_user
) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    page = client.get(url("student", world.own), {"kind": "work_study"})
    assert [s.position.title for s in page.context["suggestions"]] == ["图书馆勤工助学岗"]
    assert '<input type="hidden" name="kind" value="work_study">' in page.content.decode()
    part = client.get(url("student", world.own), {"kind": "order_class"}, **HTMX, HTTP_HX_TARGET="suggestions")
    html = part.content.decode()
    assert html.lstrip().startswith('<section id="suggestions"')
    assert "华信服饰订单班" in html and "Internships" not in html


@pytest.mark.parametrize("who", ["counsellor", "principal", "student_user"])
def test_those_who_may_not_recommend_see_the_page_without_the_buttons(world: World, jobs: Jobs, as_user, who) -> None:  # type: ignore[no-untyped-def]
    _recommend(world, jobs.designer)
    response = as_user(getattr(world, who)).get(url("student", world.own))
    assert response.status_code == 200
    html = response.content.decode()
    assert "仓储管理员" in html and "服装设计助理" in html
    assert 'data-testid="recommend"' not in html and 'data-testid="step-form"' not in html
    # A counsellor records internships, order classes and work-study; a school leader and the student do not.
    assert ("Record an internship" in html) is (who == "counsellor")


@pytest.mark.parametrize("who", ["other_leader", "outsider", "teacher"])
def test_the_page_and_its_forms_do_not_exist_for_those_who_do_not_see_the_student(
    world: World, jobs: Jobs, as_user, who
) -> None:  # type: ignore[no-untyped-def]
    user = make_staff("teacher2", Role.TEACHER, world.dept1) if who == "teacher" else getattr(world, who)
    client = as_user(user)
    assert client.get(url("student", world.own)).status_code == 404
    assert client.post(url("recommend", world.own), {"position": jobs.designer.public_id}).status_code == 404
    started = {"employer": jobs.employer.public_id, "started_on": "2024-03-01"}
    assert client.post(url("internship_new", world.own), started).status_code == 404
    assert not Recommendation.objects.exists() and not Internship.objects.exists()


def test_the_student_page_links_to_the_jobs_page(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    html = as_user(world.helper).get(reverse("students:detail", args=[world.own.public_id])).content.decode()
    assert f'href="{url("student", world.own)}"' in html


def test_the_page_reads_a_bounded_number_of_queries_whatever_the_records(
    world: World, jobs: Jobs, as_user, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("student", world.own)).status_code == 200
        return len(ctx.captured_queries)

    make_position(jobs.employer, "服装跟单员")  # a suggestion stays on the page whatever is recommended
    rec = _recommend(world, jobs.designer)
    few = count()
    change_recommendation(actor=world.helper, recommendation=rec, to_status="applied", on=TODAY, today=TODAY)
    _recommend(world, jobs.clerk)
    _recommend(world, jobs.internship)
    for n in range(3):
        record_internship(
            actor=world.helper, student=world.own, employer=jobs.employer, started_on=D(2023, 7, 1 + n), today=TODAY
        )
    post = start_work_study(
        actor=world.helper, student=world.own, position=jobs.post, started_on=D(2024, 3, 1), today=TODAY
    )
    for day in (4, 5, 11):
        log_work_study_hours(
            actor=world.helper, assignment=post, worked_on=D(2024, 3, day), hours=Decimal(2), today=TODAY
        )
    assert count() == few
    with django_assert_max_num_queries(30):
        client.get(url("student", world.own))


# --- Recommending ------------------------------------------------------------------------------------------------


def test_the_helper_recommends_a_suggested_position(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("recommend", world.own), {"position": jobs.designer.public_id, "kind": "job"}
    )
    rec = Recommendation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{url('student', world.own)}#rec-{rec.public_id}"
    assert texts(response) == ["“服装设计助理” of 石家庄华信服饰有限公司 recommended to 田斌臣."]
    assert (rec.position, rec.student, rec.recommended_by, rec.recommended_on, rec.status, rec.fits_student) == (
        jobs.designer,
        world.own,
        world.helper,
        TODAY,
        RecommendationStatus.RECOMMENDED,
        True,
    )
    assert [r["code"] for r in rec.fit_reasons] == ["major", "partner", "closing_soon"]
    assert list(rec.steps.values_list("from_status", "to_status", "on", "by")) == [
        ("", "recommended", TODAY, world.helper.pk)
    ]
    assert (rec.activity.kind, rec.activity.helper, rec.activity.position_title) == (
        ActivityKind.JOB_RECOMMENDATION,
        world.helper,
        "服装设计助理",
    )
    page = as_user(world.helper).get(url("student", world.own)).content.decode()
    card = page[page.index(f'id="rec-{rec.public_id}"') :]
    assert "Recommended on 2024-03-15 by 郑银乐" in card and "Wants your major (专业1)" in card
    assert [s.position.title for s in as_user(world.helper).get(url("student", world.own)).context["suggestions"]] == [
        "仓储管理员"
    ]


def test_recommending_the_same_position_twice_is_refused_with_the_services_message(
    world: World, jobs: Jobs, as_user
) -> None:  # type: ignore[no-untyped-def]
    _recommend(world, jobs.designer)
    response = as_user(world.helper).post(url("recommend", world.own), {"position": jobs.designer.public_id})
    assert response.status_code == 200
    assert "This position has already been recommended to 田斌臣." in response.content.decode()
    assert Recommendation.objects.count() == 1 and Activity.objects.count() == 1


@pytest.mark.parametrize("who", ["counsellor", "principal", "student_user"])
def test_recommending_and_stepping_need_the_right_to_log_help(world: World, jobs: Jobs, as_user, who) -> None:  # type: ignore[no-untyped-def]
    rec = _recommend(world, jobs.designer)
    client = as_user(getattr(world, who))
    assert client.post(url("recommend", world.own), {"position": jobs.clerk.public_id}).status_code == 403
    assert client.post(url("step", world.own, rec), _step(rec, "applied")).status_code == 403
    rec.refresh_from_db()
    assert (Recommendation.objects.count(), rec.status, rec.steps.count()) == (1, "recommended", 1)


# --- Steps ---------------------------------------------------------------------------------------------------------


def test_applied_interviewed_offer_accepted_records_each_step_and_the_destination(
    world: World, jobs: Jobs, as_user
) -> None:  # type: ignore[no-untyped-def]
    rec = _recommend(world, jobs.designer, D(2024, 3, 1))
    client = as_user(world.helper)
    days = {"applied": "2024-03-05", "interviewed": "2024-03-10", "offer": "2024-03-12", "accepted": "2024-03-15"}
    for status, day in days.items():
        extra = {"destination_code": "11", "note": "签劳动合同"} if status == "accepted" else {}
        response = client.post(url("step", world.own, rec), {**_step(rec, status, **extra), "on": day})
        assert response.status_code == 302, response.content.decode()[:3000]
    assert texts(response)[-1] == "“服装设计助理”: Accepted. The destination is recorded (11)."
    rec.refresh_from_db()
    assert (rec.status, rec.acted_on, rec.offered_on) == ("accepted", D(2024, 3, 5), D(2024, 3, 12))
    assert list(rec.steps.values_list("from_status", "to_status", "on", "by", "note")) == [
        ("", "recommended", D(2024, 3, 1), world.helper.pk, ""),
        ("recommended", "applied", D(2024, 3, 5), world.helper.pk, ""),
        ("applied", "interviewed", D(2024, 3, 10), world.helper.pk, ""),
        ("interviewed", "offer", D(2024, 3, 12), world.helper.pk, ""),
        ("offer", "accepted", D(2024, 3, 15), world.helper.pk, "签劳动合同"),
    ]
    destination = Destination.objects.get()
    assert (destination.student, destination.code.code, destination.employer, destination.position_title) == (
        world.own,
        "11",
        jobs.employer,
        "服装设计助理",
    )
    assert (destination.placed_since, destination.recorded_by) == (TODAY, world.helper)
    assert world.own not in unplaced(Student.objects.all())
    html = client.get(url("student", world.own)).content.decode()
    card = html[html.index(f'id="rec-{rec.public_id}"') :]
    card = card[: card.index("</article>")]
    assert "5 steps" in card and "2024-03-12 · <span" in card and 'data-testid="step-form"' not in card


def test_the_destination_code_is_asked_only_where_a_job_can_be_accepted(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    rec = _recommend(world, jobs.designer)
    client = as_user(world.helper)
    assert 'name="destination_code"' not in client.get(url("student", world.own)).content.decode()
    for status in ("applied", "offer"):
        change_recommendation(actor=world.helper, recommendation=rec, to_status=status, on=TODAY, today=TODAY)
    html = client.get(url("student", world.own)).content.decode()
    assert html.count('name="destination_code"') == 1
    options = re.findall(r'<option value="(1[0-2])"( selected)?>([^<]+)</option>', html)
    assert options == [
        ("10", " selected", "10 Signed employment agreement"),
        ("11", "", "11 Labour contract"),
        ("12", "", "12 Other proof of hiring"),
    ]


def test_a_step_that_skips_steps_is_refused_and_nothing_is_written(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    rec = _recommend(world, jobs.designer)
    version = rec.version
    response = as_user(world.helper).post(url("step", world.own, rec), _step(rec, "offer"))
    assert response.status_code == 200
    html = response.content.decode()
    assert NOT_SAVED in html
    assert "A recommendation that is “Recommended” cannot become “Offer received”." in html
    rec.refresh_from_db()
    assert (rec.status, rec.version, rec.steps.count(), rec.offered_on) == ("recommended", version, 1, None)


def test_a_decline_needs_a_reason_and_other_needs_a_note(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    rec = _recommend(world, jobs.designer)
    client = as_user(world.helper)
    response = client.post(url("step", world.own, rec), _step(rec, "declined"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose why the student declined." in html
    assert '<details class="mt-2" open>' in html  # the decline form is shown open with its error
    response = client.post(url("step", world.own, rec), _step(rec, "declined", reason="other"))
    assert "Explain the reason in the note." in response.content.decode()
    rec.refresh_from_db()
    assert (rec.status, rec.decline_reason, rec.steps.count()) == ("recommended", "", 1)

    response = client.post(
        url("step", world.own, rec), _step(rec, "declined", reason="location", note="想回辛集照顾祖父母")
    )
    assert response.status_code == 302
    rec.refresh_from_db()
    assert (rec.status, rec.decline_reason) == ("declined", "location")
    last = rec.steps.last()
    assert (last.from_status, last.to_status, last.reason, last.note, last.by) == (
        "recommended",
        "declined",
        "location",
        "想回辛集照顾祖父母",
        world.helper,
    )
    assert rec.activity.response == "declined"
    assert "Declined: Place of work unsuitable" in client.get(url("student", world.own)).content.decode()


def test_a_stale_form_shows_the_stale_edit_message(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    rec = _recommend(world, jobs.designer)
    seen = _step(rec, "applied")
    change_recommendation(actor=world.leader, recommendation=rec, to_status="applied", on=TODAY, today=TODAY)
    response = as_user(world.helper).post(url("step", world.own, rec), {**seen, "to_status": "interviewed"})
    assert response.status_code == 200
    assert "Someone else saved this record after you opened it." in response.content.decode()
    rec.refresh_from_db()
    assert (rec.status, rec.steps.count()) == ("applied", 2)


def test_another_students_recommendation_is_not_found_through_this_student(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    theirs = recommend(actor=world.leader, student=world.classmate, position=jobs.designer, today=TODAY)
    response = as_user(world.leader).post(url("step", world.own, theirs), _step(theirs, "applied"))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "recommended"


# --- Internships ---------------------------------------------------------------------------------------------------


def test_recording_and_evaluating_an_internship(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.counsellor)
    response = client.post(
        url("internship_new", world.own),
        {"employer": jobs.employer.public_id, "started_on": "2023-07-03", "ended_on": "2023-08-25"},
    )
    assert response.status_code == 302 and response["Location"] == f"{url('student', world.own)}#internships"
    internship = Internship.objects.get()
    assert (internship.student, internship.employer, internship.started_on, internship.ended_on) == (
        world.own,
        jobs.employer,
        D(2023, 7, 3),
        D(2023, 8, 25),
    )
    assert (internship.recorded_by, internship.evaluation, internship.became_job) == (world.counsellor, "", False)

    response = client.post(
        url("internship_evaluate", world.own, internship),
        {
            "ended_on": "2023-08-25",
            "evaluation": "excellent",
            "evaluation_note": "制版认真，企业愿意留用",
            "became_job": "on",
            "version": internship.version,
        },
    )
    assert response.status_code == 302
    internship.refresh_from_db()
    assert (internship.evaluation, internship.evaluation_note, internship.became_job, internship.version) == (
        "excellent",
        "制版认真，企业愿意留用",
        True,
        2,
    )
    html = client.get(url("student", world.own)).content.decode()
    assert "2023-07-03 – 2023-08-25" in html and "Excellent" in html and "Turned into a job" in html


def test_an_internship_with_an_employer_of_another_school_is_refused(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    grant_role(user=world.helper, role=Role.TEACHER, unit=world.other_school)  # sees both schools' employers
    response = as_user(world.helper).post(
        url("internship_new", world.own), {"employer": jobs.elsewhere.public_id, "started_on": "2023-07-03"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert NOT_SAVED in html and "Choose an employer of the student&#x27;s school." in html
    assert not Internship.objects.exists()


def test_an_internship_that_ends_before_it_starts_is_refused(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("internship_new", world.own),
        {"employer": jobs.employer.public_id, "started_on": "2023-07-03", "ended_on": "2023-06-30"},
    )
    assert "The end date cannot be before the start date." in response.content.decode()
    assert not Internship.objects.exists()


@pytest.mark.parametrize("who", ["principal", "student_user"])
def test_recording_needs_the_right_to_record_outcomes(world: World, jobs: Jobs, as_user, who) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    post = start_work_study(
        actor=world.helper, student=world.own, position=jobs.post, started_on=D(2024, 3, 1), today=TODAY
    )
    started = {"employer": jobs.employer.public_id, "started_on": "2023-07-03"}
    assert client.post(url("internship_new", world.own), started).status_code == 403
    assert client.post(url("order_class_join", world.own), {"position": jobs.order_class.public_id}).status_code == 403
    assert (
        client.post(url("work_study_hours", world.own, post), {"worked_on": "2024-03-15", "hours": "2"}).status_code
        == 403
    )
    assert (
        client.post(url("work_study_end", world.own, post), {"ended_on": "2024-03-15", "version": 1}).status_code == 403
    )
    assert not Internship.objects.exists() and not OrderClassMembership.objects.exists()
    assert not WorkStudyHours.objects.exists()
    post.refresh_from_db()
    assert post.ended_on is None


# --- Order classes -------------------------------------------------------------------------------------------------


def test_joining_and_leaving_an_order_class(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.leader)
    response = client.post(
        url("order_class_join", world.own), {"position": jobs.order_class.public_id, "joined_on": "2023-09-04"}
    )
    assert response.status_code == 302
    assert texts(response) == ["田斌臣 joined the order class “华信服饰订单班”."]
    membership = OrderClassMembership.objects.get()
    assert (membership.student, membership.position, membership.joined_on, membership.recorded_by) == (
        world.own,
        jobs.order_class,
        D(2023, 9, 4),
        world.leader,
    )
    leave = {"left_on": "2024-03-01", "version": membership.version}
    response = client.post(url("order_class_leave", world.own, membership), {**leave, "reason": " "})
    assert response.status_code == 200
    assert "Say why the student leaves the order class." in response.content.decode()
    membership.refresh_from_db()
    assert (membership.left_on, membership.left_reason) == (None, "")

    response = client.post(url("order_class_leave", world.own, membership), {**leave, "reason": "转入升学班备考专升本"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.left_on, membership.left_reason) == (D(2024, 3, 1), "转入升学班备考专升本")
    html = client.get(url("student", world.own)).content.decode()
    assert "left on 2024-03-01: 转入升学班备考专升本" in html


def test_joining_the_same_order_class_twice_is_refused(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    data = {"position": jobs.order_class.public_id, "joined_on": "2023-09-04"}
    client.post(url("order_class_join", world.own), data)
    response = client.post(url("order_class_join", world.own), data)
    assert response.status_code == 200
    assert "田斌臣 is already in this order class." in response.content.decode()
    assert OrderClassMembership.objects.count() == 1


# --- Work-study ----------------------------------------------------------------------------------------------------


def test_starting_a_post_logging_hours_and_the_week_and_month_totals(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    response = client.post(
        url("work_study_start", world.own), {"position": jobs.post.public_id, "started_on": "2024-03-01"}
    )
    assert response.status_code == 302
    post = WorkStudyAssignment.objects.get()
    assert (post.student, post.position, post.started_on, post.ended_on) == (world.own, jobs.post, D(2024, 3, 1), None)

    for day, hours in (("2024-03-04", "4"), ("2024-03-13", "3.5"), ("2024-03-14", "2")):
        response = client.post(
            url("work_study_hours", world.own, post), {"worked_on": day, "hours": hours, "note": "整理书架"}
        )
        assert response.status_code == 302
    assert texts(response)[-1] == "2.0 hours on 2024-03-14 logged."
    assert list(
        WorkStudyHours.objects.order_by("worked_on").values_list("worked_on", "hours", "recorded_by", "note")
    ) == [
        (D(2024, 3, 4), Decimal("4.0"), world.helper.pk, "整理书架"),
        (D(2024, 3, 13), Decimal("3.5"), world.helper.pk, "整理书架"),
        (D(2024, 3, 14), Decimal("2.0"), world.helper.pk, "整理书架"),
    ]
    html = client.get(url("student", world.own)).content.decode()
    week = html[html.index('data-testid="hours-week"') :]
    assert "This week: 5.5 of 8 hours" in week[:400] and 'value="5.5"' in week[:600]
    assert "This month: 9.5 of 40 hours" in html

    response = client.post(url("work_study_end", world.own, post), {"ended_on": "2024-03-15", "version": post.version})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.ended_on == D(2024, 3, 15)


def test_hours_over_the_weekly_limit_are_refused_with_the_rule(world: World, jobs: Jobs, as_user) -> None:  # type: ignore[no-untyped-def]
    post = start_work_study(
        actor=world.helper, student=world.own, position=jobs.post, started_on=D(2024, 3, 1), today=TODAY
    )
    log_work_study_hours(actor=world.helper, assignment=post, worked_on=D(2024, 3, 11), hours=Decimal(6), today=TODAY)
    response = as_user(world.helper).post(
        url("work_study_hours", world.own, post), {"worked_on": "2024-03-15", "hours": "2.5"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    # The service prints the sum as the database returns it: 6 on SQLite, 6.0 on PostgreSQL.
    assert NOT_SAVED in html and re.search(r"At most 8 hours a week: 6(\.0)? already logged that week\.", html)
    assert WorkStudyHours.objects.count() == 1


def test_hours_over_the_monthly_limit_are_refused_with_the_rule(
    world: World, jobs: Jobs, as_user, time_machine
) -> None:  # type: ignore[no-untyped-def]
    # September 2024 spans six weeks: eight hours in each of its first five reach the forty of the month.
    today = D(2024, 9, 30)
    time_machine.move_to(dt.datetime(2024, 9, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    student = helped_student(world.class1, world.helper, name="王梓涵", cohort=2023)
    post = start_work_study(
        actor=world.helper, student=student, position=jobs.post, started_on=D(2024, 9, 1), today=today
    )
    for day in (1, 2, 9, 16, 23):
        log_work_study_hours(
            actor=world.helper, assignment=post, worked_on=D(2024, 9, day), hours=Decimal(8), today=today
        )
    response = as_user(world.helper).post(
        url("work_study_hours", student, post), {"worked_on": "2024-09-30", "hours": "1"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"At most 40 hours a month: 40(\.0)? already logged that month\.", html)
    assert WorkStudyHours.objects.count() == 5
