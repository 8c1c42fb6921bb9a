"""The student's own record and the home page redirect."""

from django.urls import reverse

from bangfu.audit.models import AccessLog
from tests.students.pages import url


def test_student_sees_their_own_record_with_helper_and_categories(world, as_user):
    response = as_user(world.student_user).get(url("me"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "田斌臣" in html and world.own.student_number in html
    assert "郑银乐" in html  # their helper
    assert world.own.id_number_masked in html


def test_the_record_is_read_only_and_shows_no_family_details(world, as_user):
    html = as_user(world.student_user).get(url("me")).content.decode()
    assert "祖父母抚养" not in html
    main = html[html.index("<main") : html.index("</main>")]
    assert 'method="post"' not in main
    assert AccessLog.objects.count() == 0


def test_staff_without_a_student_record_get_404(world, as_user):
    assert as_user(world.office).get(url("me")).status_code == 404


def test_home_sends_students_to_their_record_and_staff_to_the_list(world, as_user):
    assert as_user(world.student_user).get(reverse("home")).url == url("me")
    assert as_user(world.leader).get(reverse("home")).url == url("list")
