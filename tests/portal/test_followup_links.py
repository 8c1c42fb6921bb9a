"""One-time follow-up links: the helper (or the daily job) e-mails a graduate due a follow-up a link to a short
form that works without a password, once, for 30 days; the answer is recorded as the helper's follow-up.

World: `own` (田斌臣) graduates 2024-06-30, is in the ledger and helped by `helper` (郑银乐). On 2024-08-05 the
one-month follow-up (due 2024-07-30) is late.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from bangfu.assistance.models import Activity, ActivityKind
from bangfu.assistance.progress import refresh_progress
from bangfu.assistance.services import assign_helper, end_assignment
from bangfu.outcomes.models import FollowUp
from bangfu.outcomes.services import record_destination
from bangfu.portal import accounts
from bangfu.portal.models import FollowUpLink
from bangfu.portal.tokens import make_token
from bangfu.students.services import join_ledger
from tests.conftest import World
from tests.factories import make_staff, system_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 8, 5, 10, 0, tzinfo=SHANGHAI)
DAY = NOW.date()
ANSWERED = "The graduate answered through a one-time link."


@pytest.fixture
def graduate(world: World, time_machine) -> World:  # type: ignore[no-untyped-def]
    time_machine.move_to(NOW, tick=False)
    world.student_user.email = "tianbinchen@example.com"
    world.student_user.save(update_fields=["email"])
    record_destination(
        actor=world.helper,
        student=world.own,
        code="11",
        today=dt.date(2024, 6, 1),
        employer_name="石家庄华信科技有限公司",
    )
    refresh_progress(student=world.own, today=DAY)
    return world


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def token_in(mail) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r"http://127\.0\.0\.1:8000/f/([A-Za-z0-9_-]+)/", mail.body)
    assert found is not None, mail.body
    return found.group(1)


def send(world: World, mailoutbox, capture) -> str:  # type: ignore[no-untyped-def]
    """The helper sends the link from the list of follow-ups due; returns the token from the e-mail."""
    with capture(execute=True):
        response = Client()
        response.force_login(world.helper, backend="django.contrib.auth.backends.ModelBackend")
        answer = response.post(reverse("followup:send", args=[world.own.public_id]))
    assert answer["Location"] == reverse("followup:due")
    return token_in(mailoutbox[-1])


def answer(token: str, data: dict[str, str], client: Client | None = None):  # type: ignore[no-untyped-def]
    client = client or Client()
    opened = client.get(reverse("followup:link", args=[token]))
    assert opened["Location"] == reverse("followup:answer")
    return client.post(reverse("followup:answer"), data)


# ---------------------------------------------------------------------------------------------------------------
# Sending


def test_the_helper_e_mails_a_link_to_a_graduate_due_a_follow_up(
    graduate: World, mailoutbox, django_capture_on_commit_callbacks
):
    token = send(graduate, mailoutbox, django_capture_on_commit_callbacks)
    link = FollowUpLink.objects.get()
    assert (link.student, link.sent_by, link.sent_to, link.due_on) == (
        graduate.own,
        graduate.helper,
        "tianbinchen@example.com",
        dt.date(2024, 7, 30),
    )
    assert (link.created_at, link.expires_at, link.used_at) == (NOW, NOW + dt.timedelta(days=30), None)
    mail = mailoutbox[0]
    assert mail.to == ["tianbinchen@example.com"]
    assert mail.subject == "How are you doing? A short follow-up from your school"
    assert "郑银乐, your helper at school" in mail.body
    assert "The link works once, until 2024-09-04." in mail.body
    assert accounts.open_follow_up_link(token=token, now=NOW) == link


def test_sending_is_refused_before_graduation_without_an_e_mail_or_while_a_link_is_open(graduate: World):
    with pytest.raises(ValidationError) as early:
        accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW - dt.timedelta(days=60))
    assert early.value.messages == ["田斌臣 has not graduated yet: follow-ups start after leaving (2024-06-30)."]

    accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW)
    with pytest.raises(ValidationError) as twice:
        accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW + dt.timedelta(days=1))
    assert twice.value.messages == ["A link sent on 2024-08-05 is still open until 2024-09-04."]

    graduate.student_user.email = ""
    graduate.student_user.save(update_fields=["email"])
    with pytest.raises(ValidationError) as no_mail:
        accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW + dt.timedelta(days=31))
    assert no_mail.value.messages == ["田斌臣 has no e-mail address in Bangfu: follow up by phone instead."]
    assert FollowUpLink.objects.count() == 1


def test_only_those_who_log_help_for_the_graduate_may_send(graduate: World, as_user):
    url = reverse("followup:send", args=[graduate.own.public_id])
    assert as_user(graduate.counsellor).post(url).status_code == 403  # sees the student, is not the helper
    assert as_user(graduate.student_user).post(url).status_code == 403
    assert as_user(graduate.other_leader).post(url).status_code == 404
    assert as_user(graduate.outsider).post(url).status_code == 404
    assert FollowUpLink.objects.count() == 0
    assert as_user(graduate.student_user).get(reverse("followup:due")).status_code == 403


def test_the_list_of_follow_ups_due_shows_each_helper_their_graduates(
    graduate: World, as_user, django_assert_max_num_queries
):
    client = as_user(graduate.helper)
    with django_assert_max_num_queries(10):  # the same for any number of graduates: no query per row
        page = text(client.get(reverse("followup:due")))
    assert "田斌臣" in page and "due 2024-07-30" in page and "E-mail a follow-up link" in page
    accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW)
    page = text(client.get(reverse("followup:due")))
    assert "link open until 2024-09-04" in page and "E-mail a follow-up link" not in page
    assert "田斌臣" not in text(as_user(graduate.counsellor).get(reverse("followup:due")))


def test_the_daily_job_sends_each_due_graduate_one_link_in_the_helper_s_name(
    graduate: World, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert accounts.send_due_follow_up_links(now=NOW) == 1
    link = FollowUpLink.objects.get()
    assert (link.student, link.sent_by, link.due_on) == (graduate.own, graduate.helper, dt.date(2024, 7, 30))
    assert [m.to for m in mailoutbox] == [["tianbinchen@example.com"]]
    assert accounts.send_due_follow_up_links(now=NOW + dt.timedelta(days=1)) == 0  # still open
    assert accounts.send_due_follow_up_links(now=NOW + dt.timedelta(days=31)) == 0  # sent for this milestone


# ---------------------------------------------------------------------------------------------------------------
# Answering


def test_the_graduate_answers_without_a_password_and_the_helper_s_follow_up_is_recorded(
    graduate: World, mailoutbox, django_capture_on_commit_callbacks
):
    token = send(graduate, mailoutbox, django_capture_on_commit_callbacks)
    client = Client()
    client.get(reverse("followup:link", args=[token]))
    form = client.get(reverse("followup:answer"))
    assert form.status_code == 200
    assert "Hello 田斌臣" in text(form) and "郑银乐 will read your answer" in text(form)

    done = client.post(reverse("followup:answer"), {"status": "changed_job", "notes": "换到了保定的一家电商公司"})
    assert done["Location"] == reverse("followup:thanks")
    follow_up = FollowUp.objects.get()
    assert (follow_up.student, follow_up.status, follow_up.done_on, follow_up.months_after_leaving) == (
        graduate.own,
        "changed_job",
        DAY,
        1,
    )
    assert follow_up.recorded_by == graduate.helper
    assert follow_up.notes == f"{ANSWERED}\n换到了保定的一家电商公司"
    activity = follow_up.activity
    assert (activity.kind, activity.helper, activity.created_by, activity.occurred_on) == (
        ActivityKind.FOLLOW_UP,
        graduate.helper,
        graduate.helper,
        DAY,
    )
    link = FollowUpLink.objects.get()
    assert (link.used_at, link.follow_up) == (NOW, follow_up)
    graduate.own.progress.refresh_from_db()
    meter = next(m for m in graduate.own.progress.meters if m["metric"] == "follow_up")
    assert (meter["done"], meter["due_on"]) == (1, "2024-09-30")


def test_a_used_link_is_refused_with_a_message_and_nothing_is_written(graduate: World):
    accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW)
    link = FollowUpLink.objects.get()
    token = make_token(purpose=accounts.FOLLOW_UP_PURPOSE, public_id=link.public_id)
    assert answer(token, {"status": "still_employed"})["Location"] == reverse("followup:thanks")

    again = answer(token, {"status": "unemployed", "notes": "又失业了"})
    assert again.status_code == 410
    assert "This follow-up has already been answered. Thank you!" in text(again)
    assert list(FollowUp.objects.values_list("status", flat=True)) == ["still_employed"]
    assert Activity.objects.filter(kind=ActivityKind.FOLLOW_UP).count() == 1
    with pytest.raises(accounts.LinkRefused):
        accounts.answer_follow_up(token=token, status="unemployed", now=NOW)


def test_an_expired_link_is_refused_and_nothing_is_written(graduate: World, time_machine):
    accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW)
    token = make_token(purpose=accounts.FOLLOW_UP_PURPOSE, public_id=FollowUpLink.objects.get().public_id)
    time_machine.move_to(NOW + dt.timedelta(days=30, seconds=1), tick=False)
    refused = answer(token, {"status": "still_employed"})
    assert refused.status_code == 410
    assert "This link expired on 2024-09-04. Your helper will contact you." in text(refused)
    assert FollowUp.objects.count() == 0
    assert FollowUpLink.objects.get().used_at is None


def test_a_link_answers_for_its_own_graduate_only(graduate: World):
    other = graduate.classmate
    join_ledger(
        actor=system_user(),
        student=other,
        joined_on=dt.date(2021, 11, 1),
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=dt.date(2021, 11, 1),
    )
    assign_helper(actor=system_user(), student=other, helper=graduate.helper, start=dt.date(2021, 11, 1), today=DAY)
    other_user = make_staff("liuyang", None, graduate.class1, email="liuyang@example.com")
    other.user = other_user
    other.save(update_fields=["user"])
    accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW)
    accounts.send_follow_up_link(actor=graduate.helper, student=other, now=NOW)
    own_link, other_link = (FollowUpLink.objects.get(student=s) for s in (graduate.own, other))

    # A form that names the other graduate still answers for the link's own graduate.
    token = make_token(purpose=accounts.FOLLOW_UP_PURPOSE, public_id=own_link.public_id)
    answer(token, {"status": "further_study", "student": str(other.public_id)})
    assert list(FollowUp.objects.values_list("student", "status")) == [(graduate.own.pk, "further_study")]

    # A token made of the other link's id and this link's signature matches nothing.
    forged = make_token(purpose=accounts.FOLLOW_UP_PURPOSE, public_id=other_link.public_id)[:22] + token[22:]
    refused = answer(forged, {"status": "unemployed"})
    assert refused.status_code == 404
    assert "This link is not valid." in text(refused)
    assert not FollowUp.objects.filter(student=other).exists()
    assert FollowUpLink.objects.get(pk=other_link.pk).used_at is None


def test_a_link_from_a_helper_who_handed_over_is_refused(graduate: World):
    accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW)
    token = make_token(purpose=accounts.FOLLOW_UP_PURPOSE, public_id=FollowUpLink.objects.get().public_id)
    end_assignment(
        actor=system_user(),
        assignment=graduate.own.helper_assignments.get(ended_on__isnull=True),
        ended_on=DAY,
        reason="调岗",
        expected_version=None,
        today=DAY,
    )
    refused = answer(token, {"status": "still_employed"})
    assert refused.status_code == 410
    assert "This link is no longer valid. Your school will contact you." in text(refused)
    assert FollowUp.objects.count() == 0


def test_the_form_needs_a_situation(graduate: World):
    accounts.send_follow_up_link(actor=graduate.helper, student=graduate.own, now=NOW)
    token = make_token(purpose=accounts.FOLLOW_UP_PURPOSE, public_id=FollowUpLink.objects.get().public_id)
    response = answer(token, {"notes": "还好"})
    assert response.status_code == 400
    assert "Choose your situation." in text(response)
    assert FollowUp.objects.count() == 0
    assert FollowUpLink.objects.get().used_at is None
