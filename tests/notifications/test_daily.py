"""The daily job with a frozen date: progress moves with the calendar, helpers and leaders are reminded once per
item and period, e-mails follow each person's language and digest preference."""

import datetime as dt

import pytest

from bangfu.assistance.models import Metric, RiskLevel, StudentProgress
from bangfu.notifications.models import DigestFrequency, DigestMail, Notification, Reminder
from bangfu.notifications.services import set_digest_frequency
from bangfu.notifications.tasks import daily_job
from tests.notifications.conftest import MONDAY, NEXT_MONDAY, TUESDAY, Reminders


def run(day: dt.date) -> dict[str, int]:
    return daily_job.call(day.isoformat())


def told(user) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(kind, who, detail) for every reminder the user has had."""
    out = set()
    for r in Reminder.objects.filter(user=user).select_related("student", "helper"):
        who = r.student.name if r.student else str(r.helper)
        detail = {"due": f"{r.metric} {r.due_on}", "late": f"{r.count} {r.risk}", "late_helper": f"{r.count}"}[r.kind]
        out.add((r.kind, who, detail))
    return out


def mail_to(mailoutbox, user):  # type: ignore[no-untyped-def]
    found = [m for m in mailoutbox if m.to == [user.email]]
    assert len(found) == 1, [m.to for m in mailoutbox]
    return found[0]


def test_the_job_refreshes_progress_to_the_day(reminders: Reminders) -> None:
    result = run(MONDAY)
    assert result["progress_rows"] == 4
    row = StudentProgress.objects.get(student=reminders.late)
    assert row.computed_on == MONDAY
    assert (row.overdue_count, row.next_due_on, row.next_due_metric) == (5, dt.date(2024, 3, 31), Metric.CHECK_IN)
    assert row.risk == RiskLevel.AT_RISK


def test_helpers_hear_what_is_due_this_week_and_what_is_late(reminders: Reminders) -> None:
    result = run(MONDAY)
    assert told(reminders.helper) == {
        ("due", "王芳", "check_in 2024-03-31"),
        ("due", "李强", "check_in 2024-03-31"),
        ("late", "李强", "5 2"),
        ("late", "田斌臣", "0 2"),  # job search, nothing overdue yet, but no contact for months
    }
    assert told(reminders.helper_en) == {("due", "赵敏", "check_in 2024-03-31"), ("late", "赵敏", "5 2")}
    # One notification per person and day; the helper's student who is neither due nor late is left out.
    assert Notification.objects.filter(user=reminders.helper, day=MONDAY).count() == 1
    assert result["notifications"] == 3  # two helpers and the department leader
    assert result["reminders"] == 4 + 2 + 2


def test_department_leaders_hear_of_their_late_helpers_only(reminders: Reminders) -> None:
    run(MONDAY)
    world = reminders.world
    assert told(world.leader) == {("late_helper", "郑银乐", "1"), ("late_helper", "Anna Li", "1")}
    assert told(world.other_leader) == set()
    assert not Notification.objects.filter(user__in=[world.other_leader, world.outsider, world.office]).exists()


def test_running_twice_on_the_same_day_creates_nothing_new(reminders: Reminders, mailoutbox) -> None:
    first = run(MONDAY)
    counts = (Notification.objects.count(), Reminder.objects.count(), DigestMail.objects.count(), len(mailoutbox))
    second = run(MONDAY)
    assert (second["notifications"], second["reminders"], second["mails"]) == (0, 0, 0)
    assert first["mails"] == 3
    assert (Notification.objects.count(), Reminder.objects.count(), DigestMail.objects.count(), len(mailoutbox)) == (
        counts
    )


def test_an_item_is_told_once_per_period(reminders: Reminders, mailoutbox) -> None:
    run(MONDAY)
    assert run(TUESDAY)["reminders"] == 0  # same due dates, same week: nothing new
    assert len(mailoutbox) == 3
    # A week later the late students are told again, and 王芳, who missed March, is now late too.
    run(NEXT_MONDAY)
    new = {
        (r.kind, r.student.name) for r in Reminder.objects.filter(user=reminders.helper, notification__day=NEXT_MONDAY)
    }
    assert new == {("late", "王芳"), ("late", "李强"), ("late", "田斌臣")}


def test_a_read_notification_becomes_unread_when_a_new_item_joins_it(reminders: Reminders) -> None:
    run(MONDAY)
    notification = Notification.objects.get(user=reminders.helper)
    Notification.objects.filter(pk=notification.pk).update(read_at=dt.datetime(2024, 3, 25, 9, tzinfo=dt.UTC))
    Reminder.objects.filter(user=reminders.helper, student=reminders.due).delete()
    run(MONDAY)
    notification.refresh_from_db()
    assert notification.read_at is None
    assert Notification.objects.filter(user=reminders.helper).count() == 1


def test_the_digest_is_in_chinese_by_default(reminders: Reminders, mailoutbox, chinese_default) -> None:
    run(MONDAY)
    mail = mail_to(mailoutbox, reminders.helper)
    assert mail.subject.endswith("2024-03-25")
    assert "王芳" in mail.body and "李强" in mail.body and "田斌臣" in mail.body
    assert "有风险" in mail.body  # "At risk"
    assert "At risk" not in mail.body
    assert f"/students/{reminders.due.public_id}/" in mail.body
    assert "/notifications/preferences/" in mail.body


def test_the_digest_is_in_english_for_who_chose_english(reminders: Reminders, mailoutbox) -> None:
    run(MONDAY)
    mail = mail_to(mailoutbox, reminders.helper_en)
    assert "Dear Anna Li," in mail.body
    assert "赵敏" in mail.body
    assert "赵敏 (20210000" in mail.body
    assert "Next: a check-in by 2024-03-31" in mail.body
    assert "No contact for 168 days; 5 items overdue · At risk" in mail.body
    assert "有风险" not in mail.body


def test_the_leaders_digest_names_the_late_helpers(reminders: Reminders, mailoutbox) -> None:
    run(MONDAY)
    body = mail_to(mailoutbox, reminders.world.leader).body
    assert "郑银乐" in body and "Anna Li" in body
    assert "/help/caseload/" in body


def test_weekly_digests_go_out_on_mondays_with_everything_still_due_or_late(reminders: Reminders, mailoutbox) -> None:
    set_digest_frequency(actor=reminders.helper, frequency=DigestFrequency.WEEKLY)
    run(dt.date(2024, 3, 21))  # a Thursday: in-app only
    assert Notification.objects.filter(user=reminders.helper).exists()
    assert [m for m in mailoutbox if m.to == [reminders.helper.email]] == []
    run(MONDAY)
    body = mail_to(mailoutbox, reminders.helper).body
    # Everything still due or late, including what the app already told on Thursday.
    assert "王芳" in body and "李强" in body and "田斌臣" in body
    run(MONDAY)
    mail_to(mailoutbox, reminders.helper)  # still one


def test_never_means_in_app_only(reminders: Reminders, mailoutbox) -> None:
    set_digest_frequency(actor=reminders.helper, frequency=DigestFrequency.NEVER)
    run(MONDAY)
    assert Notification.objects.filter(user=reminders.helper).exists()
    assert [m.to for m in mailoutbox if m.to == [reminders.helper.email]] == []
    assert len(mailoutbox) == 2


def test_people_without_an_e_mail_address_are_told_in_the_app(reminders: Reminders, mailoutbox) -> None:
    reminders.helper_en.email = ""
    reminders.helper_en.save(update_fields=["email"])
    run(MONDAY)
    assert Notification.objects.filter(user=reminders.helper_en).exists()
    assert len(mailoutbox) == 2


def test_a_failed_e_mail_is_tried_again_on_the_next_run(reminders: Reminders, mailoutbox, monkeypatch) -> None:
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    assert run(MONDAY)["failed_mails"] == 3
    assert not DigestMail.objects.exists()
    monkeypatch.undo()
    assert run(MONDAY)["mails"] == 3
    assert len(mailoutbox) == 3


def test_the_digest_preference_is_validated(reminders: Reminders) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="how often"):
        set_digest_frequency(actor=reminders.helper, frequency="hourly")
