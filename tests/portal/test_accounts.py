"""Student accounts: bulk creation by the office from the student list (all or nothing, skipped ones reported),
first-login links (printable, spreadsheet, e-mail, single use, expiry, renewal), and password reset by e-mail.

World: TODAY 2024-03-15; `own` already has a login (`student_user`); `classmate` (class1, dept1), `dept2_student`
and `other_school_student` have none.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.organisation.models import Role, RoleGrant, User
from bangfu.portal import accounts
from bangfu.portal.models import AccountBatch, AccountLink
from bangfu.students.models import Student, StudentStatus
from tests.conftest import World
from tests.factories import PASSWORD, make_staff

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI)
GOOD_PASSWORD = "qingshan-lvshui-2024"


@pytest.fixture(autouse=True)
def clock(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(NOW, tick=False)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def reload(student: Student) -> Student:
    return Student.objects.select_related("user").get(pk=student.pk)


def link_of(student: Student) -> AccountLink:
    return AccountLink.objects.get(user__student_record=student)


def token_of(student: Student) -> str:
    token = accounts.first_login_token(link_of(student))
    assert token is not None
    return token


def create_selected(client: Client, *students: Student):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("student_accounts:create"),
        {"students": [str(s.public_id) for s in students], "next": "/students/?class_unit=x"},
    )


# ---------------------------------------------------------------------------------------------------------------
# Creating accounts


def test_the_office_makes_accounts_for_the_selected_students_and_skips_those_who_have_one(world: World, as_user):
    response = create_selected(as_user(world.office), world.own, world.classmate, world.dept2_student)

    batch = AccountBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("student_accounts:batch", args=[batch.public_id])
    made = {
        u.username: (u.full_name, u.unit, u.has_usable_password(), u.email)
        for u in User.objects.filter(student_record__isnull=False).exclude(pk=world.student_user.pk)
    }
    assert made == {
        f"HEBUST-{world.classmate.student_number}": ("刘洋", world.class1, False, ""),
        f"HEBUST-{world.dept2_student.student_number}": ("陈静", world.class2, False, ""),
    }
    classmate, dept2_student = reload(world.classmate), reload(world.dept2_student)
    assert classmate.user.username == f"HEBUST-{world.classmate.student_number}"
    assert set(
        RoleGrant.objects.filter(user__in=[classmate.user, dept2_student.user]).values_list("user", "role", "unit")
    ) == {
        (classmate.user.pk, Role.STUDENT, world.class1.pk),
        (dept2_student.user.pk, Role.STUDENT, world.class2.pk),
    }
    assert reload(world.own).user == world.student_user  # skipped, untouched
    assert (batch.created_by, batch.school, batch.skipped) == (world.office, world.school, 1)
    links = AccountLink.objects.filter(batch=batch).order_by("user__username")
    assert [(link.purpose, link.expires_at, link.used_at) for link in links] == [
        ("first_login", NOW + dt.timedelta(days=14), None)
    ] * 2
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == [
        "2 student accounts were made.",
        f"1 student already had an account and was skipped: 田斌臣 ({world.own.student_number})",
    ]


def test_the_batch_page_and_its_spreadsheet_list_each_open_link(world: World, as_user):
    client = as_user(world.office)
    create_selected(client, world.classmate, world.dept2_student)
    batch = AccountBatch.objects.get()
    url = "http://127.0.0.1:8000" + reverse("student_accounts:first_login_link", args=[token_of(world.classmate)])

    page = client.get(reverse("student_accounts:batch", args=[batch.public_id]))
    assert page.status_code == 200
    assert url in page.content.decode()
    assert "no-cache" in page["Cache-Control"]

    download = client.get(reverse("student_accounts:batch_xlsx", args=[batch.public_id]))
    rows = list(openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values)
    assert rows[2] == ("Class", "Student number", "Name", "User name", "First-login link", "Open until")
    assert rows[3][:5] == (
        "专业12101班",
        world.classmate.student_number,
        "刘洋",
        f"HEBUST-{world.classmate.student_number}",
        url,
    )
    assert rows[3][5].date() == dt.date(2024, 3, 29)
    assert len(rows) == 5
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert (log.actor, log.fields, log.detail) == (
        world.office,
        "first_login_links",
        f"batch {batch.public_id}; rows=2",
    )


def test_the_batch_list_counts_accounts_and_passwords_set_in_a_bounded_number_of_queries(
    world: World, as_user, django_assert_max_num_queries
):
    client = as_user(world.office)
    create_selected(client, world.classmate)
    create_selected(client, world.dept2_student)
    accounts.set_first_password(token=token_of(world.dept2_student), password=GOOD_PASSWORD, now=NOW)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("student_accounts:batches"))
    rows = re.findall(
        r"<tr>\s*<td[^>]*><a [^>]*>([^<]+)</a></td>\s*<td>([^<]+)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>",
        page.content.decode(),
    )
    assert rows == [("2024-03-15 10:00", "李主任", "1", "1"), ("2024-03-15 10:00", "李主任", "1", "0")]


def test_one_bad_row_refuses_the_whole_batch_with_a_message_per_row(world: World):
    make_staff(f"hebust-{world.dept2_student.student_number}", None, world.dept2)  # the name is taken
    Student.objects.filter(pk=world.classmate.pk).update(status=StudentStatus.WITHDRAWN)
    with pytest.raises(ValidationError) as caught:
        accounts.create_student_accounts(
            actor=world.office, students=[reload(world.classmate), world.dept2_student, world.own], now=NOW
        )
    assert caught.value.messages == [
        f"刘洋 ({world.classmate.student_number}): has withdrawn from the school and gets no account.",
        f"陈静 ({world.dept2_student.student_number}): the user name HEBUST-{world.dept2_student.student_number} "
        "is taken by another account.",
    ]
    assert (AccountBatch.objects.count(), AccountLink.objects.count()) == (0, 0)
    assert list(User.objects.filter(username__istartswith="hebust-").values_list("username", flat=True)) == [
        f"hebust-{world.dept2_student.student_number}"
    ]
    assert reload(world.dept2_student).user is None


def test_a_refused_selection_goes_back_to_the_list_with_the_row_messages(world: World, as_user):
    Student.objects.filter(pk=world.classmate.pk).update(status=StudentStatus.WITHDRAWN)
    response = create_selected(as_user(world.office), world.classmate, world.dept2_student)
    assert response["Location"] == "/students/?class_unit=x"
    assert [str(m) for m in response.wsgi_request._messages] == [
        f"刘洋 ({world.classmate.student_number}): has withdrawn from the school and gets no account."
    ]
    assert reload(world.dept2_student).user is None


def test_everyone_already_having_an_account_makes_no_batch(world: World, as_user):
    response = create_selected(as_user(world.office), world.own)
    assert response["Location"] == "/students/?class_unit=x"
    assert AccountBatch.objects.count() == 0


def test_accounts_for_the_whole_filtered_list_after_a_confirmation(world: World, as_user):
    client = as_user(world.office)
    query = f"class_unit={world.class1.public_id}"
    page = client.get(f"{reverse('student_accounts:create')}?{query}")
    text = page.content.decode()
    assert "2 students on the filtered list" in text
    assert "1 already has an account and will be skipped" in text
    assert "1 account will be made" in text
    assert "刘洋" in text and "陈静" not in text

    response = client.post(f"{reverse('student_accounts:create')}?{query}", {"all": "1"})
    assert response.status_code == 302
    assert reload(world.classmate).user is not None
    assert reload(world.dept2_student).user is None
    assert AccountBatch.objects.get().skipped == 1


def test_a_student_with_an_e_mail_gets_the_link_by_e_mail(world: World, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        accounts.create_student_accounts(
            actor=world.office,
            students=[world.classmate, world.dept2_student],
            now=NOW,
            emails={world.classmate.pk: "LiuYang@Example.com"},
        )
    assert [m.to for m in mailoutbox] == [["liuyang@example.com"]]
    mail = mailoutbox[0]
    assert mail.subject == "Your Bangfu account: set your password"
    assert f"Your user name: HEBUST-{world.classmate.student_number}" in mail.body
    assert reverse("student_accounts:first_login_link", args=[token_of(world.classmate)]) in mail.body
    assert link_of(world.classmate).emailed_at is not None
    assert link_of(world.dept2_student).emailed_at is None


# ---------------------------------------------------------------------------------------------------------------
# Who may


def test_a_department_leader_makes_accounts_only_in_their_department(world: World, as_user):
    client = as_user(world.leader)
    assert create_selected(client, world.dept2_student).status_code == 404
    assert create_selected(client, world.classmate, world.dept2_student).status_code == 404
    assert reload(world.classmate).user is None

    # The whole list: the leader's department only, whatever the filters say.
    page = client.get(reverse("student_accounts:create"))
    assert "2 students on the filtered list" in page.content.decode()
    client.post(reverse("student_accounts:create"), {"all": "1"})
    assert reload(world.classmate).user is not None
    assert reload(world.dept2_student).user is None


def test_others_may_not_make_accounts(world: World, as_user):
    assert create_selected(as_user(world.counsellor), world.classmate).status_code == 403  # sees, may not create
    assert create_selected(as_user(world.helper), world.own).status_code == 403
    assert create_selected(as_user(world.outsider), world.classmate).status_code == 404
    assert as_user(world.student_user).get(reverse("student_accounts:create")).status_code == 403
    assert as_user(world.principal).get(reverse("student_accounts:batches")).status_code == 403
    assert reload(world.classmate).user is None
    with pytest.raises(PermissionDenied):
        accounts.create_student_accounts(actor=world.counsellor, students=[world.classmate], now=NOW)


def test_a_batch_shows_each_leader_only_their_students(world: World, as_user):
    accounts.create_student_accounts(actor=world.office, students=[world.classmate, world.dept2_student], now=NOW)
    batch = AccountBatch.objects.get()
    url = reverse("student_accounts:batch", args=[batch.public_id])
    page = as_user(world.leader).get(url).content.decode()
    assert "刘洋" in page and "陈静" not in page
    assert as_user(world.outsider).get(url).status_code == 404
    assert as_user(world.counsellor).get(url).status_code == 403
    elsewhere = accounts.create_student_accounts(actor=world.outsider, students=[world.other_school_student], now=NOW)
    assert elsewhere.batch is not None
    other = reverse("student_accounts:batch", args=[elsewhere.batch.public_id])
    assert as_user(world.leader).get(other).status_code == 404
    assert as_user(world.outsider).get(other).status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# The first login


def test_the_first_login_link_sets_the_password_and_logs_the_student_in(world: World):
    accounts.create_student_accounts(actor=world.office, students=[world.classmate], now=NOW)
    client = Client()
    opened = client.get(reverse("student_accounts:first_login_link", args=[token_of(world.classmate)]))
    assert opened["Location"] == reverse("student_accounts:first_login")  # the token leaves the address bar
    form = client.get(opened["Location"])
    assert form.status_code == 200
    assert f"HEBUST-{world.classmate.student_number}" in form.content.decode()

    weak = client.post(opened["Location"], {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200
    assert "This password is too short. It must contain at least 10 characters." in weak.content.decode()
    assert not reload(world.classmate).user.has_usable_password()

    done = client.post(
        opened["Location"],
        {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD, "email": "liuyang@example.com"},
    )
    assert done["Location"] == reverse("home")
    user = reload(world.classmate).user
    assert client.session[SESSION_KEY] == str(user.pk)
    assert user.check_password(GOOD_PASSWORD) and user.email == "liuyang@example.com"
    assert link_of(world.classmate).used_at == NOW
    login = Client().post(reverse("login"), {"username": user.username, "password": GOOD_PASSWORD})
    assert login["Location"] == reverse("home")


def test_a_used_first_login_link_is_refused(world: World):
    accounts.create_student_accounts(actor=world.office, students=[world.classmate], now=NOW)
    token = token_of(world.classmate)
    accounts.set_first_password(token=token, password=GOOD_PASSWORD, now=NOW)
    client = Client()
    client.get(reverse("student_accounts:first_login_link", args=[token]))
    again = client.post(
        reverse("student_accounts:first_login"),
        {"new_password1": "another-pass-99", "new_password2": "another-pass-99"},
    )
    assert again.status_code == 410
    assert (
        "This link has already been used. Log in with your password, or reset it by e-mail." in again.content.decode()
    )
    assert reload(world.classmate).user.check_password(GOOD_PASSWORD)
    assert SESSION_KEY not in client.session


def test_an_expired_first_login_link_is_refused_and_a_guessed_one_does_not_exist(world: World, time_machine):
    accounts.create_student_accounts(actor=world.office, students=[world.classmate], now=NOW)
    token = token_of(world.classmate)
    time_machine.move_to(NOW + dt.timedelta(days=14, seconds=1), tick=False)
    client = Client()
    client.get(reverse("student_accounts:first_login_link", args=[token]))
    page = client.get(reverse("student_accounts:first_login"))
    assert page.status_code == 410
    assert "This link expired on 2024-03-29. Ask your counsellor for a new one." in page.content.decode()
    with pytest.raises(accounts.LinkRefused):
        accounts.set_first_password(token=token, password=GOOD_PASSWORD, now=NOW + dt.timedelta(days=15))
    assert not reload(world.classmate).user.has_usable_password()

    client.get(reverse("student_accounts:first_login_link", args=[token[:-4] + "AAAA"]))
    assert client.get(reverse("student_accounts:first_login")).status_code == 404
    assert Client().get(reverse("student_accounts:first_login")).status_code == 404  # no link at all


def test_renewing_gives_new_links_to_those_without_a_password_and_ends_the_old_ones(
    world: World, as_user, time_machine
):
    result = accounts.create_student_accounts(
        actor=world.office, students=[world.classmate, world.dept2_student], now=NOW
    )
    assert result.batch is not None
    accounts.set_first_password(token=token_of(world.dept2_student), password=GOOD_PASSWORD, now=NOW)
    old = token_of(world.classmate)
    later = NOW + dt.timedelta(days=20)
    time_machine.move_to(later, tick=False)
    response = as_user(world.office).post(reverse("student_accounts:batch_renew", args=[result.batch.public_id]))
    renewed = AccountBatch.objects.exclude(pk=result.batch.pk).get()
    assert response["Location"] == reverse("student_accounts:batch", args=[renewed.public_id])
    fresh = renewed.links.get()
    assert (fresh.user, fresh.expires_at) == (reload(world.classmate).user, later + dt.timedelta(days=14))
    with pytest.raises(accounts.LinkRefused):
        accounts.open_first_login_link(token=old, now=later)
    token = accounts.first_login_token(fresh)
    assert token is not None
    assert accounts.open_first_login_link(token=token, now=later) == fresh


# ---------------------------------------------------------------------------------------------------------------
# Password reset by e-mail


def test_a_student_resets_their_password_by_e_mail(world: World, mailoutbox):
    world.student_user.email = "tianbinchen@example.com"
    world.student_user.save(update_fields=["email"])
    client = Client()
    sent = client.post(reverse("password_reset"), {"email": "TianBinChen@example.com"})
    assert sent["Location"] == reverse("password_reset_done")
    assert "a link to choose a new password is on its way" in client.get(sent["Location"]).content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["tianbinchen@example.com"]
    assert mailoutbox[0].subject == "Reset your Bangfu password"
    assert "Your user name: student" in mailoutbox[0].body
    url = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)

    form_url = client.get(url)["Location"]  # Django moves the token into the session too
    assert "Choose a new password" in client.get(form_url).content.decode()
    done = client.post(form_url, {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD})
    assert done["Location"] == reverse("password_reset_complete")
    assert "Your new password is saved." in client.get(done["Location"]).content.decode()
    world.student_user.refresh_from_db()
    assert world.student_user.check_password(GOOD_PASSWORD)
    assert not world.student_user.check_password(PASSWORD)
    assert "This link has already been used or has expired." in Client().get(url, follow=True).content.decode()


def test_the_reset_page_says_the_same_for_an_unknown_address(world: World, mailoutbox):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_the_login_page_offers_the_reset(client, db):
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()


def test_the_student_list_offers_account_creation_to_those_who_may(world: World, as_user):
    office = text(as_user(world.office).get(reverse("students:list") + "?cohort=2021"))
    assert f'formaction="{reverse("student_accounts:create")}"' in office
    assert f'href="{reverse("student_accounts:create")}?cohort=2021"' in office
    assert 'id="bulk-accounts"' not in text(as_user(world.counsellor).get(reverse("students:list")))
