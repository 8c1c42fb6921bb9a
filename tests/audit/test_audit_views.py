"""The employment office browses the history of changes and the access log of its own school."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.audit.services import log_access
from bangfu.students.services import join_ledger, update_student
from tests.conftest import TODAY
from tests.factories import UserFactory

MARCH_1 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def audited(world):
    """Changes and sensitive reads in both schools, by several people."""
    for user in (world.office, world.outsider):
        user.language = "en"
        user.save()
    with time_machine.travel(MARCH_1, tick=False):
        update_student(actor=world.office, student=world.own, expected_version=None, phone="13931112222")
    update_student(actor=world.outsider, student=world.other_school_student, expected_version=None, phone="13800001111")
    join_ledger(
        actor=world.leader,
        student=world.classmate,
        joined_on=dt.date(2024, 3, 1),
        reason="学期复核：低保家庭",
        categories=["subsistence_allowance"],
        family_situation="父亲患病，家庭享受最低生活保障。",
        today=TODAY,
    )
    with time_machine.travel(MARCH_1, tick=False):
        log_access(actor=world.office, action=AccessAction.REVEAL_ID, student=world.own, fields="id_number")
    log_access(actor=world.leader, action=AccessAction.VIEW_SENSITIVE, student=world.own, fields="family_situation")
    log_access(actor=world.office, action=AccessAction.EXPORT, detail="台账导出：全校")
    log_access(
        actor=world.outsider, action=AccessAction.REVEAL_ID, student=world.other_school_student, fields="id_number"
    )
    log_access(actor=world.outsider, action=AccessAction.EXPORT, detail="台账导出：另一所大学")
    return world


def page_text(response) -> str:
    return response.content.decode()


# --- who may browse -------------------------------------------------------------------------------------------


def test_only_the_employment_office_may_browse_the_audit(world, client, as_user):
    for persona in ("principal", "leader", "counsellor", "helper", "student_user"):
        as_user(getattr(world, persona))
        for url in ("audit:index", "audit:history", "audit:access"):
            assert client.get(reverse(url)).status_code == 403, (persona, url)


def test_the_office_is_taken_from_the_index_to_the_changes(world, as_user):
    response = as_user(world.office).get(reverse("audit:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("audit:history")


# --- changes --------------------------------------------------------------------------------------------------


def test_office_sees_changes_in_its_school_and_not_in_the_other(audited, as_user):
    response = as_user(audited.office).get(reverse("audit:history"))
    assert response.status_code == 200
    subjects = {row.subject for row in response.context["rows"]}
    assert {"田斌臣", "刘洋", "陈静"} <= subjects
    assert "孙磊" not in subjects  # the other school's student
    assert "另一所大学" not in subjects  # the other school's units
    assert "外校老师" not in subjects  # the other school's role grants
    assert "孙磊" not in page_text(response)


def test_the_other_school_sees_only_its_own(audited, as_user):
    rows = as_user(audited.outsider).get(reverse("audit:history")).context["rows"]
    subjects = {row.subject for row in rows}
    assert "孙磊" in subjects
    assert not subjects & {"田斌臣", "刘洋", "陈静"}


def test_a_superuser_sees_every_school(audited, as_user):
    admin = UserFactory(username="root", is_superuser=True)
    subjects = {row.subject for row in as_user(admin).get(reverse("audit:history")).context["rows"]}
    assert {"田斌臣", "孙磊"} <= subjects


def test_a_change_says_who_made_it_and_which_fields_changed(audited, as_user):
    response = as_user(audited.office).get(reverse("audit:history"), {"person": "office"})
    changes = [row for row in response.context["rows"] if row.history_type == "~"]
    assert len(changes) == 1
    assert changes[0].who == audited.office
    assert changes[0].subject == "田斌臣"
    with translation.override("en"):
        assert [str(f) for f in changes[0].changed_fields] == ["phone"]
    assert "Changed" in page_text(response)


def test_filter_by_person_by_user_name_or_part_of_the_name(audited, as_user):
    client = as_user(audited.office)
    for person in ("leader", "郑书"):
        rows = client.get(reverse("audit:history"), {"person": person}).context["rows"]
        assert rows
        assert {row.who for row in rows} == {audited.leader}
        assert {row.kind for row in rows} == {"ledger_entry", "ledger_category"}


def test_filter_by_date_range_includes_both_days(audited, as_user):
    client = as_user(audited.office)
    rows = client.get(reverse("audit:history"), {"date_from": "2024-03-01", "date_to": "2024-03-01"}).context["rows"]
    assert [(row.subject, row.who) for row in rows] == [("田斌臣", audited.office)]
    rows = client.get(reverse("audit:history"), {"date_to": "2024-02-29"}).context["rows"]
    assert rows == []


def test_filter_by_kind_of_record(audited, as_user):
    response = as_user(audited.office).get(reverse("audit:history"), {"kind": "ledger_category", "person": "leader"})
    rows = response.context["rows"]
    assert [(row.subject, row.detail, row.action) for row in rows] == [
        ("刘洋", "Minimum-living-allowance household", "Created")
    ]


def test_an_invalid_filter_is_reported_and_left_out(audited, as_user):
    response = as_user(audited.office).get(
        reverse("audit:history"), {"date_from": "2024-03-02", "date_to": "2024-03-01", "kind": "nonsense"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "not valid" in page_text(response)


def test_changes_are_newest_first_and_paginated_with_a_fixed_number_of_queries(
    audited, as_user, django_assert_max_num_queries
):
    for i in range(60):
        update_student(actor=audited.office, student=audited.own, expected_version=None, phone=f"1393111{i:04d}")
    client = as_user(audited.office)
    with django_assert_max_num_queries(15):
        first = client.get(reverse("audit:history"))
    second = client.get(reverse("audit:history"), {"page": 2})
    rows = first.context["rows"] + second.context["rows"]
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.count == len(rows) > 60
    dates = [row.history_date for row in rows]
    assert dates == sorted(dates, reverse=True)
    with translation.override("en"):
        office_changes = [row for row in rows if row.history_type == "~" and row.who == audited.office]
        assert len(office_changes) == 61
        assert all([str(f) for f in row.changed_fields] == ["phone"] for row in office_changes)


def test_the_filter_form_gets_only_the_results_through_htmx(audited, as_user):
    response = as_user(audited.office).get(reverse("audit:history"), {"person": "office"}, HTTP_HX_REQUEST="true")
    html = page_text(response)
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


# --- access log -----------------------------------------------------------------------------------------------


def test_office_sees_access_to_its_school_and_not_the_other(audited, as_user):
    response = as_user(audited.office).get(reverse("audit:access"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert {(r.actor.username, r.action) for r in rows} == {
        ("office", AccessAction.REVEAL_ID),
        ("leader", AccessAction.VIEW_SENSITIVE),
        ("office", AccessAction.EXPORT),
    }
    html = page_text(response)
    assert "孙磊" not in html and "另一所大学" not in html
    assert "ID number" in html and "田斌臣" in html


def test_access_log_filters_by_person_action_and_date(audited, as_user):
    client = as_user(audited.office)
    url = reverse("audit:access")
    assert [r.actor for r in client.get(url, {"person": "郑书记"}).context["rows"]] == [audited.leader]
    rows = client.get(url, {"action": AccessAction.EXPORT}).context["rows"]
    assert [(r.actor, r.detail) for r in rows] == [(audited.office, "台账导出：全校")]
    rows = client.get(url, {"date_from": "2024-03-01", "date_to": "2024-03-01"}).context["rows"]
    assert [(r.actor, r.action, r.student) for r in rows] == [(audited.office, AccessAction.REVEAL_ID, audited.own)]


def test_access_log_is_paginated_newest_first(audited, as_user):
    AccessLog.objects.bulk_create(
        AccessLog(actor=audited.leader, action=AccessAction.VIEW_SENSITIVE, student=audited.own) for _ in range(55)
    )
    client = as_user(audited.office)
    first = client.get(reverse("audit:access")).context
    assert len(first["rows"]) == 50
    assert first["page"].paginator.count == 58
    second = client.get(reverse("audit:access"), {"page": 2}).context["rows"]
    assert len(second) == 8
    assert second[-1].at == dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)
