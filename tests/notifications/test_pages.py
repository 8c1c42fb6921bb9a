"""The notification list, marking as read (with and without htmx), the digest preference page, the nav badge."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.notifications.models import DigestFrequency, Notification, NotificationPreference
from bangfu.notifications.tasks import daily_job
from tests.notifications.conftest import MONDAY, NEXT_MONDAY, Reminders

LIST = reverse("notifications:list")
PREFERENCES = reverse("notifications:preferences")


def read_url(notification: Notification) -> str:
    return reverse("notifications:read", args=[notification.public_id])


@pytest.fixture
def told(reminders: Reminders) -> Reminders:
    daily_job.call(MONDAY.isoformat())
    return reminders


def test_the_list_shows_my_reminders_with_links(told: Reminders, as_user) -> None:
    page = as_user(told.helper).get(LIST).content.decode()
    assert "2024-03-25" in page
    assert "Next: a check-in by 2024-03-31" in page
    assert "No contact for 168 days; 5 items overdue" in page and "At risk" in page
    assert reverse("students:detail", args=[told.late.public_id]) in page
    assert "赵敏" not in page  # another helper's student
    assert "E-mail digest: Every day." in page


def test_the_leader_sees_late_helpers_linked_to_the_caseload_page(told: Reminders, as_user) -> None:
    page = as_user(told.world.leader).get(LIST).content.decode()
    assert "郑银乐" in page and "Anna Li" in page
    assert "1 student with overdue items" in page
    assert reverse("assistance:caseload") in page


def test_nobody_reads_or_marks_anothers_notification(told: Reminders, as_user) -> None:
    theirs = Notification.objects.get(user=told.helper_en)
    client = as_user(told.helper)
    assert client.post(read_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.get(read_url(theirs)).status_code == 405


def test_mark_one_as_read_without_javascript(told: Reminders, as_user) -> None:
    mine = Notification.objects.get(user=told.helper)
    response = as_user(told.helper).post(read_url(mine))
    assert response.status_code == 302 and response["Location"] == LIST
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_mark_one_as_read_with_htmx_returns_the_card(told: Reminders, as_user) -> None:
    mine = Notification.objects.get(user=told.helper)
    response = as_user(told.helper).post(read_url(mine), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{mine.public_id}"' in html and "<html" not in html
    assert "Mark as read" not in html and "王芳" in html


def test_mark_all_as_read_and_the_nav_badge(told: Reminders, as_user) -> None:
    daily_job.call(NEXT_MONDAY.isoformat())
    client = as_user(told.helper)
    nav = client.get(reverse("assistance:my_students")).content.decode()
    assert '2<span class="visually-hidden"> unread</span>' in nav
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(user=told.helper, read_at__isnull=True).exists()
    nav = client.get(LIST).content.decode()
    assert "unread</span>" not in nav
    assert Notification.objects.filter(user=told.helper_en, read_at__isnull=True).count() == 2


def test_the_preference_page_saves_the_choice(told: Reminders, as_user) -> None:
    client = as_user(told.helper)
    page = client.get(PREFERENCES).content.decode()
    assert 'value="daily" id="id_digest_0" checked' in page
    response = client.post(PREFERENCES, {"digest": "weekly"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=told.helper).digest == DigestFrequency.WEEKLY
    assert "Every week, on Monday" in client.get(LIST).content.decode()
    response = client.post(PREFERENCES, {"digest": "hourly"})
    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=told.helper).digest == DigestFrequency.WEEKLY


def test_the_preference_page_warns_without_an_e_mail_address(world, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.counsellor).get(PREFERENCES).content.decode()
    assert "no e-mail address" in page


def test_the_list_makes_a_fixed_number_of_queries(told: Reminders, as_user) -> None:
    client = as_user(told.helper)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for day in range(1, 20):
        daily_job.call(f"2024-05-{day:02d}")
    assert Notification.objects.filter(user=told.helper).count() > 3
    assert count() == few
