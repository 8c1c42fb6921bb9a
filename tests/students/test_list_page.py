"""The student list: search, filters, sorting, pagination, scope, the helper flag and bounded queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.organisation.models import OrgUnit, Role
from bangfu.students import queries
from tests.conftest import TODAY
from tests.factories import make_staff, make_student
from tests.students.pages import ledger_student, url


def names(response) -> list[str]:
    return [s.name for s in response.context["page"]]


def test_office_sees_the_whole_school_and_not_the_other_school(world, as_user):
    response = as_user(world.office).get(url("list"))
    assert response.status_code == 200
    assert set(names(response)) == {"田斌臣", "刘洋", "陈静"}
    assert "孙磊" not in response.content.decode()


def test_helper_sees_only_the_students_they_help(world, as_user):
    response = as_user(world.helper).get(url("list"))
    assert names(response) == ["田斌臣"]


def test_leader_sees_their_department_only(world, as_user):
    response = as_user(world.leader).get(url("list"))
    assert set(names(response)) == {"田斌臣", "刘洋"}


def test_outsider_sees_none_of_this_school(world, as_user):
    response = as_user(world.outsider).get(url("list"))
    assert names(response) == ["孙磊"]


def test_student_user_is_sent_to_their_own_record(world, as_user):
    response = as_user(world.student_user).get(url("list"))
    assert response.status_code == 302
    assert response.url == url("me")


def test_search_by_name_or_student_number(world, as_user):
    client = as_user(world.office)
    assert names(client.get(url("list"), {"q": "刘"})) == ["刘洋"]
    assert names(client.get(url("list"), {"q": world.dept2_student.student_number})) == ["陈静"]
    assert names(client.get(url("list"), {"q": "  "})) != []


def test_filters_by_unit_cohort_category_helper_and_ledger(world, as_user):
    make_student(world.class1, name="周敏", cohort=2023)
    ledger_student(world.class2, name="吴昊", categories=["disabled"])
    client = as_user(world.office)
    assert set(names(client.get(url("list"), {"department": world.dept2.public_id}))) == {"陈静", "吴昊"}
    assert set(names(client.get(url("list"), {"class_unit": world.class1.public_id}))) == {"田斌臣", "刘洋", "周敏"}
    assert names(client.get(url("list"), {"cohort": "2023"})) == ["周敏"]
    assert names(client.get(url("list"), {"category": "orphan"})) == ["田斌臣"]
    assert names(client.get(url("list"), {"category": "disabled"})) == ["吴昊"]
    assert names(client.get(url("list"), {"helper": world.helper.public_id})) == ["田斌臣"]
    assert set(names(client.get(url("list"), {"in_ledger": "yes"}))) == {"田斌臣", "吴昊"}
    assert set(names(client.get(url("list"), {"in_ledger": "no"}))) == {"刘洋", "陈静", "周敏"}
    assert names(client.get(url("list"), {"unassigned": "on"})) == ["吴昊"]


def test_filters_combine(world, as_user):
    ledger_student(world.class1, name="钱芳", categories=["orphan"])
    response = as_user(world.office).get(url("list"), {"category": "orphan", "unassigned": "on"})
    assert names(response) == ["钱芳"]


def test_a_unit_outside_the_scope_is_not_a_choice_and_does_not_widen_the_list(world, as_user):
    client = as_user(world.leader)
    response = client.get(url("list"))
    choices = dict(response.context["form"].fields["department"].choices)
    assert str(world.dept1.public_id) in choices
    assert str(world.dept2.public_id) not in choices
    response = client.get(url("list"), {"department": world.dept2.public_id})
    assert response.context["form"].errors["department"]
    assert "陈静" not in names(response)


def test_unit_choices_are_named_in_the_language_of_the_page(world, as_user, settings):
    OrgUnit.objects.filter(pk=world.dept1.pk).update(name_en="Garment Engineering")
    client = as_user(world.leader)

    def choices(field: str) -> dict[str, str]:
        return {k: str(v) for k, v in client.get(url("list")).context["form"].fields[field].choices}

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = choices("department"), choices("class_unit")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = choices("department"), choices("class_unit")

    dept, klass = str(world.dept1.public_id), str(world.class1.public_id)
    assert (chinese[0][dept], english[0][dept]) == ("服装工程系", "Garment Engineering")
    assert chinese[1][klass] == english[1][klass] == world.class1.name  # no English name: the Chinese one
    assert (chinese[0][""], english[0][""]) == ("全部院系", "All departments")


def test_helper_choices_come_from_the_scope(world, as_user):
    other_helper = make_staff("teacher2", Role.TEACHER, world.dept2, full_name="马老师")
    ledger_student(world.class2, name="吴昊", helper=other_helper)
    choices = dict(as_user(world.leader).get(url("list")).context["form"].fields["helper"].choices)
    assert str(world.helper.public_id) in choices
    assert str(other_helper.public_id) not in choices


def test_ledger_students_without_a_helper_are_flagged(world, as_user):
    ledger_student(world.class1, name="钱芳")
    html = as_user(world.office).get(url("list")).content.decode()
    row = html[html.index("钱芳") - 600 : html.index("钱芳") + 900]
    assert "No helper" in row
    own_row = html[html.index("田斌臣") - 600 : html.index("田斌臣") + 900]
    assert "No helper" not in own_row and "郑银乐" in own_row


def test_rows_show_categories_and_helper(world, as_user):
    html = as_user(world.office).get(url("list")).content.decode()
    assert "Orphan" in html or "孤儿" in html
    assert "郑银乐" in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("cohort", ["刘洋", "周敏"]),
        ("-cohort", ["周敏", "刘洋"]),
        ("number", ["刘洋", "周敏"]),
        ("-number", ["周敏", "刘洋"]),
    ],
)
def test_sorting(world, as_user, sort, expected):
    make_student(world.class1, name="周敏", cohort=2023)
    response = as_user(world.office).get(url("list"), {"class_unit": world.class1.public_id, "sort": sort})
    shown = [n for n in names(response) if n in expected]
    assert shown == expected


def test_sort_by_class_groups_classes(world, as_user):
    response = as_user(world.office).get(url("list"), {"sort": "class"})
    assert names(response)[-1] == "陈静"  # class C201 sorts after C101
    response = as_user(world.office).get(url("list"), {"sort": "-class"})
    assert names(response)[0] == "陈静"


def test_fifty_per_page_and_pages_keep_the_filters(world, as_user, monkeypatch):
    assert queries.PAGE_SIZE == 50
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for i in range(3):
        make_student(world.class1, name=f"王{i}号")
    client = as_user(world.office)
    first = client.get(url("list"), {"class_unit": world.class1.public_id})
    assert first.context["page"].paginator.count == 5
    assert len(names(first)) == 2
    html = first.content.decode()
    assert "page=2" in html and f"class_unit={world.class1.public_id}" in html
    last = client.get(url("list"), {"class_unit": world.class1.public_id, "page": "3"})
    assert len(names(last)) == 1
    assert client.get(url("list"), {"page": "999"}).status_code == 200  # out of range: the last page


def test_htmx_request_gets_only_the_results(world, as_user):
    response = as_user(world.office).get(url("list"), {"q": "刘"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert '<div id="results">' in html
    assert "<html" not in html and "student-filters" not in html


def test_bulk_assign_form_only_for_users_who_assign_helpers(world, as_user):
    html = as_user(world.leader).get(url("list")).content.decode()
    assert 'id="bulk-assign"' in html
    assert f'name="students" value="{world.own.public_id}"' in html
    assert 'name="helper"' in html
    for user in (world.counsellor, world.helper, world.principal):
        html = as_user(user).get(url("list")).content.decode()
        assert 'id="bulk-assign"' not in html
        assert 'name="students"' not in html


def _fill(world, count: int) -> None:
    for i in range(count):
        ledger_student(
            world.class1,
            name=f"学生{i:02d}",
            categories=["rural", "student_loan"],
            helper=world.helper if i % 2 else None,
            joined_on=dt.date(2023, 9, 4),
        )


def _count_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("list"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_page(world, as_user):
    _fill(world, 5)
    few = _count_list_queries(as_user(world.leader))
    _fill(world, 35)
    many = _count_list_queries(as_user(world.leader))
    assert len(as_user(world.leader).get(url("list")).context["page"]) == 42
    assert few == many
    assert many <= 20


def test_query_count_for_a_helper_is_bounded_too(world, as_user):
    _fill(world, 5)
    few = _count_list_queries(as_user(world.helper))
    _fill(world, 35)
    many = _count_list_queries(as_user(world.helper))
    assert few == many


def test_today_is_the_default_start_of_a_bulk_assignment(world, as_user, time_machine):
    time_machine.move_to(dt.datetime(2024, 3, 15, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    html = as_user(world.leader).get(url("list")).content.decode()
    assert f'value="{TODAY:%Y-%m-%d}"' in html


def test_bulk_assign_form_posts_to_the_assistance_view(world, as_user):
    client = as_user(world.leader)
    html = client.get(url("list")).content.decode()
    assert f'action="{reverse("assistance:bulk_assign")}"' in html
    response = client.post(
        reverse("assistance:bulk_assign"),
        {"students": [str(world.classmate.public_id)], "helper": str(world.helper.public_id), "next": url("list")},
    )
    assert response.status_code == 302
    rows = {s.name: s for s in client.get(url("list")).context["page"]}
    assert rows["刘洋"].helper_name == "郑银乐"
