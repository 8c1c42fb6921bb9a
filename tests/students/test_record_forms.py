"""Creating and editing student records through the pages: the service decides, the form shows why."""

import datetime as dt

from bangfu.students import idnumbers
from bangfu.students.models import Student
from bangfu.students.services import update_student
from tests.factories import make_id_number
from tests.students.pages import url


def new_student(world, **overrides) -> dict:
    data = {
        "class_unit": str(world.class1.public_id),
        "student_number": "2023010101",
        "name": "韩梅梅",
        "gender": "F",
        "ethnicity": "回族",
        "id_number": make_id_number(born=dt.date(2005, 2, 14), seq=321),
        "home_province": "河北省",
        "home_city": "保定市",
        "home_county": "阜平县",
        "level": "vocational",
        "cohort": "2023",
    }
    data.update(overrides)
    return data


def test_leader_adds_a_student_with_defaults(world, as_user):
    response = as_user(world.leader).post(url("create"), new_student(world))
    student = Student.objects.get(student_number="2023010101")
    assert response.status_code == 302 and response.url == url("detail", student)
    assert student.class_unit == world.class1 and student.department == world.dept1
    assert student.enrolled_on == dt.date(2023, 9, 1) and student.expected_graduation == dt.date(2026, 6, 30)
    assert student.birth_date == dt.date(2005, 2, 14)
    assert idnumbers.decrypt(student.id_number_cipher) == new_student(world)["id_number"]
    assert student.history.get().history_user == world.leader


def test_class_choices_are_where_the_user_may_create(world, as_user):
    form = as_user(world.leader).get(url("create")).context["form"]
    classes = list(form.fields["class_unit"].queryset)
    assert classes == [world.class1]


def test_a_class_outside_the_scope_is_refused(world, as_user):
    response = as_user(world.leader).post(url("create"), new_student(world, class_unit=str(world.class2.public_id)))
    assert response.status_code == 200
    assert response.context["form"].errors["class_unit"]
    assert not Student.objects.filter(student_number="2023010101").exists()


def test_roles_that_may_not_create_get_403(world, as_user):
    for user in (world.counsellor, world.helper, world.principal):
        assert as_user(user).get(url("create")).status_code == 403
        assert as_user(user).post(url("create"), new_student(world)).status_code == 403
    assert not Student.objects.filter(student_number="2023010101").exists()


def test_invalid_id_number_is_shown_on_the_field_and_nothing_is_written(world, as_user):
    bad = make_id_number(seq=321)[:17] + "0"
    if idnumbers.check_digit(bad[:17]) == "0":
        bad = bad[:17] + "1"
    response = as_user(world.leader).post(url("create"), new_student(world, id_number=bad))
    assert response.status_code == 200
    errors = response.context["form"].errors["id_number"]
    assert any("check digit" in e for e in errors)
    assert "韩梅梅" in response.content.decode()  # the input is kept
    assert not Student.objects.filter(student_number="2023010101").exists()


def test_short_id_number_says_what_is_wrong(world, as_user):
    response = as_user(world.leader).post(url("create"), new_student(world, id_number="13018220050214"))
    assert any("18 characters" in e for e in response.context["form"].errors["id_number"])


def test_duplicate_student_number_is_refused(world, as_user):
    response = as_user(world.leader).post(url("create"), new_student(world, student_number=world.own.student_number))
    assert response.status_code == 200
    errors = response.context["form"].errors["student_number"]
    assert any(world.own.student_number in e for e in errors)
    assert Student.objects.filter(student_number=world.own.student_number).count() == 1


def test_duplicate_id_number_is_refused(world, as_user):
    existing = idnumbers.decrypt(world.classmate.id_number_cipher)
    response = as_user(world.leader).post(url("create"), new_student(world, id_number=existing))
    assert response.context["form"].errors["id_number"]
    assert not Student.objects.filter(student_number="2023010101").exists()


def test_missing_name_is_refused(world, as_user):
    response = as_user(world.leader).post(url("create"), new_student(world, name="  "))
    assert response.context["form"].errors["name"]
    assert not Student.objects.filter(student_number="2023010101").exists()


# --- editing ---------------------------------------------------------------------------------------------


def edit_data(response, **changes) -> dict:
    """The edit form as the browser would send it back, with some fields changed."""
    form = response.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if hasattr(value, "public_id"):
            value = value.public_id
        if isinstance(value, dt.date):
            value = value.isoformat()
        data[name] = "" if value is None else value
    data.update(changes)
    return data


def test_counsellor_edits_a_student_and_the_version_moves_on(world, as_user):
    client = as_user(world.counsellor)
    form_page = client.get(url("edit", world.classmate))
    assert form_page.context["form"].initial["version"] == world.classmate.version
    response = client.post(
        url("edit", world.classmate), edit_data(form_page, phone="13912345678", address="辛集市旧城镇")
    )
    assert response.status_code == 302
    world.classmate.refresh_from_db()
    assert world.classmate.phone == "13912345678"
    assert world.classmate.version == 2


def test_blank_id_number_keeps_the_number_on_file(world, as_user):
    before = world.classmate.id_number_cipher
    client = as_user(world.counsellor)
    client.post(url("edit", world.classmate), edit_data(client.get(url("edit", world.classmate)), phone="1"))
    world.classmate.refresh_from_db()
    assert world.classmate.id_number_cipher == before


def test_stale_edit_shows_the_message_keeps_the_input_and_writes_nothing(world, as_user):
    client = as_user(world.counsellor)
    form_page = client.get(url("edit", world.classmate))
    # Someone else saves first.
    update_student(actor=world.leader, student=world.classmate, expected_version=1, address="石家庄市桥西区")
    response = client.post(url("edit", world.classmate), edit_data(form_page, phone="13700000000"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this record" in html
    assert 'value="13700000000"' in html
    world.classmate.refresh_from_db()
    assert world.classmate.phone == "" and world.classmate.address == "石家庄市桥西区"


def test_edit_without_a_version_is_refused(world, as_user):
    client = as_user(world.counsellor)
    data = edit_data(client.get(url("edit", world.classmate)), phone="13700000000")
    del data["version"]
    response = client.post(url("edit", world.classmate), data)
    assert response.status_code == 200
    assert response.context["form"].errors["version"]
    world.classmate.refresh_from_db()
    assert world.classmate.phone == ""


def test_invalid_id_number_on_edit_is_refused(world, as_user):
    client = as_user(world.counsellor)
    response = client.post(
        url("edit", world.classmate), edit_data(client.get(url("edit", world.classmate)), id_number="99999")
    )
    assert response.context["form"].errors["id_number"]
    world.classmate.refresh_from_db()
    assert world.classmate.version == 1


def test_duplicate_student_number_on_edit_is_refused(world, as_user):
    client = as_user(world.counsellor)
    data = edit_data(client.get(url("edit", world.classmate)), student_number=world.own.student_number)
    response = client.post(url("edit", world.classmate), data)
    assert response.context["form"].errors["student_number"]


def test_roles_that_may_not_edit_get_403(world, as_user):
    for user in (world.helper, world.principal, world.student_user):
        assert as_user(user).get(url("edit", world.own)).status_code == 403
        assert as_user(user).post(url("edit", world.own), {"name": "改名"}).status_code == 403
    world.own.refresh_from_db()
    assert world.own.name == "田斌臣"


def test_counsellor_cannot_move_a_student_out_of_their_class(world, as_user):
    client = as_user(world.counsellor)
    data = edit_data(client.get(url("edit", world.classmate)), class_unit=str(world.class2.public_id))
    response = client.post(url("edit", world.classmate), data)
    assert response.context["form"].errors["class_unit"]
    world.classmate.refresh_from_db()
    assert world.classmate.class_unit == world.class1
