"""The student's own record and the home page redirect."""

from django.urls import reverse

from bangfu.audit.models import AccessLog
from tests.students.pages import url


def test_my_record_is_the_student_portal_now(world, as_user):
    response = as_user(world.student_user).get(url("me"))
    assert (response.status_code, response.url) == (302, reverse("portal:home"))
    assert AccessLog.objects.count() == 0


def test_staff_without_a_student_record_get_404(world, as_user):
    assert as_user(world.office).get(url("me")).status_code == 404


def test_home_sends_students_to_their_record_and_staff_to_the_list(world, as_user):
    assert as_user(world.student_user).get(reverse("home")).url == url("me")
    assert as_user(world.leader).get(reverse("home")).url == url("list")
