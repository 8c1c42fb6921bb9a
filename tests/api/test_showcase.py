"""Exemplary cases through the API: case types, cases and their transitions, consents and their withdrawal;
exact answers, scope (404 outside it, 403 for a role that may not act), refusals with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from bangfu.showcase.models import Case, CaseStatus, CaseType, Consent
from tests.api.work_helpers import client, on
from tests.conftest import TODAY, World
from tests.showcase.helpers import STORY, consent, install_types, nominate, take

S = CaseStatus


@pytest.fixture
def types(world: World) -> dict[str, CaseType]:
    return install_types(world)


def _person(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"id": str(user.public_id), "name": user.full_name}


def _student(world: World) -> dict[str, str]:
    return {"id": str(world.own.public_id), "student_number": world.own.student_number, "name": "田斌臣"}


# --- Case types ------------------------------------------------------------------------------------------------


def test_the_office_installs_the_default_types(world: World) -> None:
    response = client(world.office).post("/case-types/install-defaults", {"school": str(world.school.public_id)})

    assert response.status_code == 201
    star = CaseType.objects.get(code="self_improvement_star")
    body = response.json()
    assert [t["code"] for t in body] == [
        "employment_role_model",
        "enlisted_with_honour",
        "entrepreneurship_pioneer",
        "further_study_achiever",
        "grassroots_contributor",
        "self_improvement_star",
    ]
    assert body[-1] == {
        "id": str(star.public_id),
        "code": "self_improvement_star",
        "name": "自强之星",
        "name_en": "Self-improvement star",
        "school": {
            "id": str(world.school.public_id),
            "kind": "school",
            "code": "HEBUST",
            "name": "河北科技工程职业技术大学",
            "name_en": "HEBUST",
        },
        "description": "",
        "is_active": True,
        "version": 1,
    }


def test_types_are_listed_per_school_and_changed_by_the_office_only(world: World, types) -> None:  # type: ignore[no-untyped-def]
    star = types["self_improvement_star"]

    listed = client(world.helper).get("/case-types")
    other_school = client(world.outsider).get("/case-types")
    refused = client(world.leader).patch(f"/case-types/{star.public_id}", {"version": 1, "is_active": False})
    changed = client(world.office).patch(
        f"/case-types/{star.public_id}", {"version": 1, "name_en": "Self-reliance star"}
    )
    stale = client(world.office).patch(f"/case-types/{star.public_id}", {"version": 1, "name_en": "Star"})

    assert len(listed.json()) == 6
    assert other_school.json() == []
    assert refused.status_code == 403
    assert (changed.status_code, changed.json()["name_en"], changed.json()["version"]) == (200, "Self-reliance star", 2)
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")


# --- Cases -----------------------------------------------------------------------------------------------------


def test_a_helper_nominates_and_the_answer_is_exact(world: World, types) -> None:  # type: ignore[no-untyped-def]
    star = types["self_improvement_star"]
    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/cases",
            {
                "case_type": str(star.public_id),
                "title": "自强之星田斌臣",
                "story": STORY,
                "employer": "石家庄华信科技有限公司",
                "position": "软件测试工程师",
                "comment": "由祖父母抚养，自强不息",
            },
        )

    assert response.status_code == 201
    case = Case.objects.get()
    assert response.json() == {
        "id": str(case.public_id),
        "student": _student(world),
        "case_type": {
            "id": str(star.public_id),
            "code": "self_improvement_star",
            "name": "自强之星",
            "name_en": "Self-improvement star",
        },
        "title": "自强之星田斌臣",
        "status": "nominated",
        "nominated_by": _person(world.helper),
        "nominated_on": "2024-03-15",
        "approved_on": None,
        "published_on": None,
        "version": 1,
        "title_en": "",
        "story": STORY,
        "story_en": "",
        "family_story": "",
        "family_story_en": "",
        "employer": "石家庄华信科技有限公司",
        "position": "软件测试工程师",
        "has_photo": False,
        "approved_by": None,
        "consent": None,
        "steps": [
            {
                "from_status": "",
                "to_status": "nominated",
                "by": _person(world.helper),
                "on": "2024-03-15",
                "comment": "由祖父母抚养，自强不息",
            }
        ],
    }


@pytest.mark.parametrize(
    ("persona", "student", "status"),
    [
        ("helper", "classmate", 404),
        ("principal", "own", 403),
        ("outsider", "own", 404),
        ("student_user", "own", 403),
    ],
)
def test_nominating_out_of_scope_is_refused(world: World, types, persona: str, student: str, status: int) -> None:  # type: ignore[no-untyped-def]
    response = client(getattr(world, persona)).post(
        f"/students/{getattr(world, student).public_id}/cases",
        {"case_type": str(types["self_improvement_star"].public_id), "title": "标题", "story": "事迹"},
    )
    assert response.status_code == status
    assert not Case.objects.exists()


def test_a_type_of_another_school_is_a_refused_input(world: World, types) -> None:  # type: ignore[no-untyped-def]
    other = install_types_for_other_school(world)
    response = client(world.office).post(
        f"/students/{world.own.public_id}/cases", {"case_type": str(other.public_id), "title": "标题", "story": "事迹"}
    )
    assert (response.status_code, response.json()["errors"]) == (
        422,
        {"case_type": ["There is no case type with this id."]},
    )


def install_types_for_other_school(world: World) -> CaseType:
    from bangfu.showcase.services import install_default_types

    return install_default_types(actor=world.outsider, school=world.other_school)[0]


def test_the_workflow_through_the_api(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.helper)
    path = f"/cases/{case.public_id}"

    with on(TODAY):
        own = client(world.helper).post(f"{path}/approve", {"version": 1})
        approved = client(world.office).post(f"{path}/approve", {"version": 1, "comment": "同意"})
        no_consent = client(world.office).post(f"{path}/publish", {"version": 2})
        given = consent(world, world.own, by=world.helper)
        published = client(world.office).post(f"{path}/publish", {"version": 2})
        silent = client(world.office).post(f"{path}/unpublish", {"version": 3})

    assert own.status_code == 403  # a helper is not the office
    assert (approved.status_code, approved.json()["status"], approved.json()["approved_by"]) == (
        200,
        "approved",
        _person(world.office),
    )
    assert no_consent.status_code == 422
    assert no_consent.json() == {
        "detail": "The student has not consented to publication: record the student's consent first.",
        "errors": {"__all__": ["The student has not consented to publication: record the student's consent first."]},
        "code": "no_consent",
    }
    assert published.status_code == 200
    assert {k: published.json()[k] for k in ("status", "published_on", "consent", "version")} == {
        "status": "published",
        "published_on": "2024-03-15",
        "consent": str(given.public_id),
        "version": 3,
    }
    assert silent.json()["errors"] == {"comment": ["Say why the case is taken off the public page."]}


def test_the_nominator_cannot_approve_through_the_api(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.office)
    response = client(world.office).post(f"/cases/{case.public_id}/approve", {"version": 1})
    assert (response.status_code, response.json()["code"]) == (422, "own")
    assert Case.objects.get().status == S.NOMINATED


def test_cases_are_listed_in_scope_for_staff_only(world: World, types) -> None:  # type: ignore[no-untyped-def]
    mine = nominate(world, world.own, types["self_improvement_star"], by=world.helper)
    nominate(world, world.dept2_student, types["employment_role_model"], by=world.other_leader, title="陈静签约")

    leader = client(world.leader).get("/cases")
    office = client(world.office).get("/cases", status="nominated")
    outsider = client(world.outsider).get("/cases")

    assert [(c["id"], c["title"]) for c in leader.json()["items"]] == [(str(mine.public_id), mine.title)]
    assert office.json()["count"] == 2
    assert outsider.json() == {"items": [], "count": 0}
    assert client(world.student_user).get("/cases").status_code == 403
    assert client(world.outsider).get(f"/cases/{mine.public_id}").status_code == 404


def test_editing_through_the_api(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.APPROVED)
    with on(TODAY):
        response = client(world.helper).patch(f"/cases/{case.public_id}", {"version": 2, "title_en": "Self-reliance"})

    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("title", "title_en", "status", "approved_by", "version")} == {
        "title": case.title,
        "title_en": "Self-reliance",
        "status": "nominated",
        "approved_by": None,
        "version": 3,
    }


# --- Consents --------------------------------------------------------------------------------------------------


def test_recording_a_consent(world: World) -> None:
    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/consents",
            {"name_shown": "surname", "show_story": True, "show_employer": True, "given_on": "2024-03-14"},
        )

    assert response.status_code == 201
    given = Consent.objects.get()
    assert response.json() == {
        "id": str(given.public_id),
        "student": _student(world),
        "purpose": "case_publication",
        "name_shown": "surname",
        "show_photo": False,
        "show_department": False,
        "show_graduation_year": False,
        "show_employer": True,
        "show_story": True,
        "show_family": False,
        "given_on": "2024-03-14",
        "recorded_by": _person(world.helper),
        "has_evidence": False,
        "note": "",
        "is_active": True,
        "withdrawn_on": None,
        "withdrawn_by": None,
        "withdrawal_note": "",
        "replaced_on": None,
        "version": 1,
    }


def test_a_bad_consent_is_refused(world: World) -> None:
    with on(TODAY):
        future = client(world.helper).post(
            f"/students/{world.own.public_id}/consents", {"name_shown": "full", "given_on": "2024-03-16"}
        )
        unknown = client(world.helper).post(
            f"/students/{world.own.public_id}/consents", {"name_shown": "nickname", "given_on": "2024-03-14"}
        )
        principal = client(world.principal).post(
            f"/students/{world.own.public_id}/consents", {"name_shown": "full", "given_on": "2024-03-14"}
        )

    assert future.json()["errors"] == {"given_on": ["A consent cannot be given in the future."]}
    assert (unknown.status_code, list(unknown.json()["errors"])) == (422, ["name_shown"])
    assert principal.status_code == 403
    assert not Consent.objects.exists()


def test_the_student_withdraws_through_the_api_and_the_cases_come_down(world: World, types) -> None:  # type: ignore[no-untyped-def]
    given = consent(world, world.own)
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.PUBLISHED)

    listed = client(world.student_user).get(f"/students/{world.own.public_id}/consents")
    with on(dt.date(2024, 4, 1)):
        response = client(world.student_user).post(f"/consents/{given.public_id}/withdraw", {"version": 1})
        again = client(world.student_user).post(f"/consents/{given.public_id}/withdraw", {"version": 2})

    assert [c["id"] for c in listed.json()] == [str(given.public_id)]
    assert response.status_code == 200
    body = response.json()
    assert body["unpublished"] == [{"id": str(case.public_id), "title": case.title, "status": "unpublished"}]
    assert {k: body["consent"][k] for k in ("is_active", "withdrawn_on", "withdrawn_by", "version")} == {
        "is_active": False,
        "withdrawn_on": "2024-04-01",
        "withdrawn_by": _person(world.student_user),
        "version": 2,
    }
    assert (again.status_code, again.json()["code"]) == (422, "not_active")
    assert Case.objects.get().status == S.UNPUBLISHED


def test_who_may_not_withdraw_through_the_api(world: World) -> None:
    given = consent(world, world.own)
    assert client(world.principal).post(f"/consents/{given.public_id}/withdraw", {"version": 1}).status_code == 403
    assert client(world.outsider).post(f"/consents/{given.public_id}/withdraw", {"version": 1}).status_code == 404
    assert client(world.outsider).get(f"/students/{world.own.public_id}/consents").status_code == 404
    given.refresh_from_db()
    assert given.is_active


def test_the_openapi_document_describes_the_case_endpoints(db: None) -> None:
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    paths = {p: set(ops) for p, ops in schema["paths"].items() if "case" in p or "consent" in p}
    operation_ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]

    assert paths == {
        "/api/v1/case-types": {"get", "post"},
        "/api/v1/case-types/install-defaults": {"post"},
        "/api/v1/case-types/{type_id}": {"patch"},
        "/api/v1/cases": {"get"},
        "/api/v1/students/{student_id}/cases": {"post"},
        "/api/v1/cases/{case_id}": {"get", "patch"},
        "/api/v1/cases/{case_id}/approve": {"post"},
        "/api/v1/cases/{case_id}/reject": {"post"},
        "/api/v1/cases/{case_id}/publish": {"post"},
        "/api/v1/cases/{case_id}/unpublish": {"post"},
        "/api/v1/students/{student_id}/consents": {"get", "post"},
        "/api/v1/consents/{consent_id}/withdraw": {"post"},
    }
    assert len(operation_ids) == len(set(operation_ids))
