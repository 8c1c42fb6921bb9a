"""The one-on-one help pages: assign, hand over, end, bulk assign, caseloads, my students; scoping of each."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.assistance.models import HelperAssignment
from bangfu.organisation.models import Role
from bangfu.students.models import LedgerEntry
from tests.assistance.helpers import english, ledger_student
from tests.conftest import TODAY, World
from tests.factories import make_staff, make_student

START = "2023-09-04"


pytestmark = pytest.mark.usefixtures(english.__name__)


def url(name: str, student=None) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"assistance:{name}", args=[student.public_id] if student is not None else [])


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def active_helpers(student):  # type: ignore[no-untyped-def]
    return list(HelperAssignment.objects.active().filter(student=student).values_list("helper__username", flat=True))


# --- scoping: 404 outside the scope, 403 for a role that may not assign ------------------------------------------


@pytest.mark.parametrize("page", ["assign", "hand_over", "end"])
@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("leader", "dept2_student", 404),
        ("other_leader", "own", 404),
        ("outsider", "own", 404),
        ("helper", "classmate", 404),
        ("helper", "own", 403),  # the helper sees their student but may not reassign them
        ("counsellor", "own", 403),
        ("principal", "own", 403),
        ("student_user", "own", 403),
        ("student_user", "classmate", 404),
    ],
)
def test_who_reaches_the_assignment_pages(world: World, as_user, page, who, target, status) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    student = getattr(world, target)
    assert client.get(url(page, student)).status_code == status
    assert client.post(url(page, student), {}).status_code == status
    assert active_helpers(world.own) == ["helper"]


@pytest.mark.parametrize("who", ["leader", "office"])
def test_leaders_and_the_office_open_the_pages(world: World, as_user, who) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    assert client.get(url("assign", world.classmate)).status_code == 200
    assert client.get(url("hand_over", world.own)).status_code == 200
    assert client.get(url("end", world.own)).status_code == 200


# --- assign --------------------------------------------------------------------------------------------------


def test_assign_offers_the_staff_of_the_leaders_department_only(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    make_staff("dept2teacher", Role.TEACHER, world.dept2, full_name="周老师")
    page = as_user(world.leader).get(url("assign", world.classmate)).content.decode()
    assert "赵辅导员" in page and "郑银乐" in page
    assert "周老师" not in page and "外校老师" not in page and "田斌臣 (" not in page


def test_assign_a_helper(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.leader).post(
        url("assign", world.classmate),
        {"helper": world.counsellor.public_id, "start": START, "planned_end": "2024-08-31", "reason": "一对一帮扶"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("students:detail", args=[world.classmate.public_id])
    a = HelperAssignment.objects.active().get(student=world.classmate)
    assert (a.helper, a.started_on, a.planned_end, a.reason, a.assigned_by) == (
        world.counsellor,
        dt.date(2023, 9, 4),
        dt.date(2024, 8, 31),
        "一对一帮扶",
        world.leader,
    )
    assert texts(response) == ["赵辅导员 now helps 刘洋."]


def test_assign_refuses_a_helper_outside_the_list(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    dept2_teacher = make_staff("dept2teacher", Role.TEACHER, world.dept2, full_name="周老师")
    response = as_user(world.leader).post(
        url("assign", world.classmate), {"helper": dept2_teacher.public_id, "start": START}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert active_helpers(world.classmate) == []


def test_assign_for_a_student_who_has_a_helper_points_to_hand_over(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.leader)
    page = client.get(url("assign", world.own)).content.decode()
    assert url("hand_over", world.own) in page
    response = client.post(url("assign", world.own), {"helper": world.counsellor.public_id, "start": START})
    assert "田斌臣 already has a helper; hand the student over instead." in response.content.decode()
    assert active_helpers(world.own) == ["helper"]


# --- hand-over -----------------------------------------------------------------------------------------------


def _hand_over_data(world: World, **kw) -> dict:  # type: ignore[no-untyped-def,type-arg]
    current = HelperAssignment.objects.active().get(student=world.own)
    data = {
        "helper": world.counsellor.public_id,
        "on": "2024-03-01",
        "note": "学生想回辛集附近工作，方便照顾祖父母。已参加两次招聘会。",
        "assignment": current.public_id,
        "version": current.version,
    }
    data.update(kw)
    return data


def test_hand_over_and_the_new_helper_reads_the_note(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.leader).post(url("hand_over", world.own), _hand_over_data(world))
    assert response.status_code == 302
    assert active_helpers(world.own) == ["counsellor"]
    assert texts(response) == ["田斌臣 was handed over to 赵辅导员."]
    page = as_user(world.counsellor).get(reverse("students:detail", args=[world.own.public_id]))
    assert "学生想回辛集附近工作，方便照顾祖父母。" in page.content.decode()


def test_hand_over_without_a_note_is_refused_and_nothing_written(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    before = list(HelperAssignment.objects.values_list("pk", "version", "ended_on"))
    response = as_user(world.leader).post(url("hand_over", world.own), _hand_over_data(world, note="  "))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert list(HelperAssignment.objects.values_list("pk", "version", "ended_on")) == before


def test_hand_over_does_not_offer_the_current_helper(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.leader).get(url("hand_over", world.own)).content.decode()
    assert f'value="{world.helper.public_id}"' not in page
    assert f'value="{world.counsellor.public_id}"' in page


def test_hand_over_without_a_helper_sends_to_assign(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.leader).get(url("hand_over", world.classmate))
    assert response.status_code == 302
    assert response["Location"] == url("assign", world.classmate)


def test_hand_over_on_a_date_before_the_help_began_shows_the_error(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.leader).post(url("hand_over", world.own), _hand_over_data(world, on="2021-10-01"))
    assert "The end date cannot be before the start date." in response.content.decode()
    assert active_helpers(world.own) == ["helper"]


# --- end -----------------------------------------------------------------------------------------------------


def test_end_the_help(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    current = HelperAssignment.objects.active().get(student=world.own)
    response = as_user(world.leader).post(
        url("end", world.own),
        {"assignment": current.public_id, "version": current.version, "ended_on": "2024-03-01", "reason": "已就业"},
    )
    assert response.status_code == 302
    current.refresh_from_db()
    assert (current.ended_on, current.end_reason) == (dt.date(2024, 3, 1), "已就业")
    assert texts(response) == ["郑银乐 no longer helps 田斌臣."]


def test_a_stale_end_is_refused_on_the_page(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.leader)
    current = HelperAssignment.objects.active().get(student=world.own)
    form_version = current.version
    # Someone else saves the assignment after the leader opened the form.
    HelperAssignment.objects.filter(pk=current.pk).update(version=F("version") + 1)
    response = client.post(
        url("end", world.own),
        {"assignment": current.public_id, "version": form_version, "ended_on": "2024-03-01", "reason": "已就业"},
    )
    assert response.status_code == 200
    assert "Someone else saved this record after you opened it." in response.content.decode()
    current.refresh_from_db()
    assert current.ended_on is None


def test_end_needs_a_reason(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    current = HelperAssignment.objects.active().get(student=world.own)
    response = as_user(world.leader).post(
        url("end", world.own),
        {"assignment": current.public_id, "version": current.version, "ended_on": "2024-03-01", "reason": ""},
    )
    assert response.status_code == 200
    assert active_helpers(world.own) == ["helper"]


# --- bulk assign ---------------------------------------------------------------------------------------------


def test_bulk_assign_from_the_student_list(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    a = ledger_student(world.class1, name="王芳")
    b = ledger_student(world.class1, name="李强")
    back = reverse("students:list") + "?unassigned=1"
    response = as_user(world.leader).post(
        url("bulk_assign"),
        {
            "students": [a.public_id, b.public_id],
            "helper": world.counsellor.public_id,
            "reason": "新学期",
            "next": back,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == back
    assert texts(response) == ["2 students are now helped by 赵辅导员."]
    assert active_helpers(a) == active_helpers(b) == ["counsellor"]
    assert HelperAssignment.objects.get(student=a).started_on == dt.date.today()


def test_bulk_assign_is_all_or_nothing_and_names_the_student(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    a = ledger_student(world.class1, name="王芳")
    response = as_user(world.leader).post(
        url("bulk_assign"),
        {"students": [a.public_id, world.own.public_id], "helper": world.counsellor.public_id, "start": START},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("students:list")
    [message] = texts(response)
    assert "田斌臣" in message and "already has a helper" in message
    assert active_helpers(a) == []


def test_bulk_assign_with_a_student_outside_scope_is_404(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    a = ledger_student(world.class1, name="王芳")
    response = as_user(world.leader).post(
        url("bulk_assign"),
        {"students": [a.public_id, world.dept2_student.public_id], "helper": world.counsellor.public_id},
    )
    assert response.status_code == 404
    assert active_helpers(a) == []


@pytest.mark.parametrize("who", ["counsellor", "helper", "principal", "student_user"])
def test_bulk_assign_needs_the_assign_permission(world: World, as_user, who) -> None:  # type: ignore[no-untyped-def]
    response = as_user(getattr(world, who)).post(
        url("bulk_assign"), {"students": [world.classmate.public_id], "helper": world.counsellor.public_id}
    )
    assert response.status_code == 403
    assert active_helpers(world.classmate) == []


def test_bulk_assign_without_students_or_with_a_foreign_helper(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.leader)
    response = client.post(url("bulk_assign"), {"helper": world.counsellor.public_id})
    assert texts(response) == ["Choose at least one student."]
    response = client.post(
        url("bulk_assign"), {"students": [world.classmate.public_id], "helper": world.outsider.public_id}
    )
    assert texts(response)[-1] == "Choose a helper from the list."
    assert active_helpers(world.classmate) == []
    assert client.get(url("bulk_assign")).status_code == 405


def test_bulk_assign_never_redirects_off_site(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.leader).post(
        url("bulk_assign"),
        {"students": [world.classmate.public_id], "helper": world.counsellor.public_id, "next": "https://evil.test/"},
    )
    assert response["Location"] == reverse("students:list")


# --- caseload ------------------------------------------------------------------------------------------------


def test_caseload_counts_students_and_flags_ledger_students_without_a_helper(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    ledger_student(world.class1, name="王芳", helper=world.counsellor)
    make_student(world.class1, name="李强")  # not in the ledger: no flag
    lonely = ledger_student(world.class1, name="张伟", categories=["orphan"])
    HelperAssignment.objects.create(  # the counsellor also helps a non-ledger student
        student=world.classmate, helper=world.counsellor, started_on=dt.date(2023, 9, 1), assigned_by=world.leader
    )
    ledger_student(world.class2, name="陈刚")  # dept2: not the leader's business
    left = ledger_student(world.class1, name="赵敏", helper=world.helper)  # helped, but out of the ledger now
    LedgerEntry.objects.filter(student=left).update(left_on=dt.date(2024, 3, 1))
    HelperAssignment.objects.create(  # the helper's earlier student, handed over: no longer theirs
        student=make_student(world.class1, name="孙丽"),
        helper=world.helper,
        started_on=dt.date(2023, 9, 1),
        ended_on=dt.date(2024, 2, 1),
        assigned_by=world.leader,
    )
    response = as_user(world.leader).get(url("caseload"))
    assert response.status_code == 200
    helpers = {h.username: (h.caseload, h.ledger_caseload) for h in response.context["helpers"]}
    assert helpers["counsellor"] == (2, 1)
    assert helpers["helper"] == (2, 1)
    assert all(load == (0, 0) for name, load in helpers.items() if name not in ("counsellor", "helper"))
    assert "leader2" not in helpers and "outsider" not in helpers
    unassigned = [s.name for s in response.context["unassigned"]]
    assert unassigned == ["张伟"]
    page = response.content.decode()
    assert url("assign", lonely) in page
    assert "1 student in the ledger has no helper." in page


def test_caseload_lists_whom_the_services_left_without_a_helper_as_compliance_counts_them(
    world: World, as_user
) -> None:  # type: ignore[no-untyped-def]
    from bangfu.assistance.compliance import standing
    from bangfu.assistance.services import assign_helper, end_assignment
    from bangfu.organisation.models import User

    ledger_student(world.class1, name="张伟")  # never helped
    ended = ledger_student(world.class1, name="王芳", helper=world.counsellor)
    end_assignment(
        actor=world.leader,
        assignment=HelperAssignment.objects.get(student=ended),
        ended_on=dt.date(2024, 3, 1),
        reason="辅导员调岗",
        expected_version=None,
        today=TODAY,
    )
    later = ledger_student(world.class1, name="李娜")  # found without a helper, then given one
    assign_helper(actor=world.leader, student=later, helper=world.helper, start=dt.date(2024, 3, 4), today=TODAY)
    ledger_student(world.class2, name="陈刚")  # another department's

    response = as_user(world.leader).get(url("caseload"))

    assert [s.name for s in response.context["unassigned"]] == ["张伟", "王芳"]
    leader = User.objects.get(pk=world.leader.pk)  # a fresh user: its helped ids read anew
    assert standing(leader).filter(helper__isnull=True).count() == 2
    assert "2 students in the ledger have no helper." in response.content.decode()


def test_caseload_query_count_does_not_grow_with_the_data(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("caseload")).status_code == 200
        return len(ctx.captured_queries)

    ledger_student(world.class1, name="张伟")
    small = count()
    for i in range(3):
        teacher = make_staff(f"teacher{i}", Role.TEACHER, world.dept2, full_name=f"老师{i}")
        ledger_student(world.class2, name=f"学生甲{i}", helper=teacher)
        ledger_student(world.class1, name=f"学生乙{i}", categories=["disabled", "rural"])
    assert count() == small


def test_caseload_unassigned_list_pages_with_htmx(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    ledger_student(world.class1, name="张伟")
    response = as_user(world.leader).get(url("caseload"), headers={"HX-Request": "true", "HX-Target": "unassigned"})
    page = response.content.decode()
    assert "张伟" in page and "<html" not in page


@pytest.mark.parametrize(("who", "status"), [("counsellor", 403), ("helper", 403), ("principal", 403), ("office", 200)])
def test_caseload_is_for_those_who_assign(world: World, as_user, who, status) -> None:  # type: ignore[no-untyped-def]
    assert as_user(getattr(world, who)).get(url("caseload")).status_code == status


def test_the_other_school_sees_none_of_ours(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    ledger_student(world.class1, name="张伟")
    response = as_user(world.outsider).get(url("caseload"))
    assert list(response.context["unassigned"]) == []
    assert {h.username for h in response.context["helpers"]} == {"outsider"}


# --- my students ---------------------------------------------------------------------------------------------


def test_my_students_lists_the_helpers_students_with_categories(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).get(url("my_students"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "田斌臣" in page and "刘洋" not in page
    assert reverse("students:detail", args=[world.own.public_id]) in page
    assert "Orphan" in page
    assert "2021-11-01" in page


def test_my_students_query_count_is_constant(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.counsellor)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(url("my_students"))
        return len(ctx.captured_queries)

    ledger_student(world.class1, name="王芳", helper=world.counsellor)
    small = count()
    for i in range(3):
        ledger_student(world.class1, name=f"学生{i}", helper=world.counsellor, categories=["orphan", "disabled"])
    assert count() == small


def test_my_students_is_empty_for_staff_without_students_and_closed_to_students(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.principal).get(url("my_students")).content.decode()
    assert "No students are assigned to you at present." in page
    assert as_user(world.student_user).get(url("my_students")).status_code == 403
