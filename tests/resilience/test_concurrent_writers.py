"""Writers at the same moment on PostgreSQL, each thread with its own database connection, every write committed:
activities recorded for one student by several people at once leave the student's progress exactly as a full
rebuild computes it; two people saving the same ledger entry from forms opened on the same version: one is saved,
the other is told someone else saved first, and nothing of the first is lost."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from bangfu.assistance.models import Activity, ActivityKind, StudentProgress
from bangfu.assistance.progress import rebuild_progress
from bangfu.assistance.services import record_activity
from bangfu.concurrency import StaleEdit
from bangfu.students.models import LedgerEntry, Student
from bangfu.students.services import update_ledger_entry
from tests.conftest import TODAY, World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8
ROUNDS = 2
STALE = "Someone else saved this record after you opened it. Reload to see their changes, then edit again."


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0)…work(count-1) in threads released together; each returns its result or the error it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # handed back to the test, which checks it
            results[i] = error
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def progress_of(student: Student) -> dict[str, Any]:
    return StudentProgress.objects.filter(student=student).values().get() | {"id": None}


def test_activities_recorded_at_once_leave_progress_equal_to_a_rebuild(world: World) -> None:
    people = [world.helper, world.leader]  # the helper, and the department leader who may log too
    kinds = [ActivityKind.TALK, ActivityKind.CHECK_IN]
    notes = ["电话沟通求职进展", "宿舍走访，了解简历修改情况", "微信视频，模拟面试", "陪同参加校园招聘会前的准备谈话"]

    def write(i: int, round_: int) -> Activity:
        return record_activity(
            actor=people[i % len(people)],
            student=Student.objects.get(pk=world.own.pk),
            kind=kinds[i % len(kinds)],
            occurred_on=dt.date(2024, 3, 1) + dt.timedelta(days=(i + round_) % 14),
            today=TODAY,
            notes=notes[i % len(notes)],
        )

    for round_ in range(ROUNDS):
        results = at_once(WRITERS, functools.partial(write, round_=round_))
        assert [type(r) for r in results] == [Activity] * WRITERS, results
        assert Activity.objects.filter(student=world.own).count() == WRITERS * (round_ + 1)
        written = progress_of(world.own)
        rebuild_progress(today=TODAY, students=Student.objects.filter(pk=world.own.pk))
        assert written == progress_of(world.own), f"round {round_ + 1}: progress lost a concurrent activity"
    assert written["last_contact_on"] == dt.date(2024, 3, 1) + dt.timedelta(days=(WRITERS - 1) + (ROUNDS - 1))


def _entry(world: World) -> LedgerEntry:
    return LedgerEntry.objects.get(student=world.own, left_on__isnull=True)


def test_the_second_of_two_simultaneous_saves_is_refused_and_the_first_kept(world: World) -> None:
    entry = _entry(world)
    opened = entry.version
    # The first save holds its transaction open, its row lock taken; the second waits on that lock.
    first_saved, release = threading.Event(), threading.Event()

    def first() -> LedgerEntry:
        with transaction.atomic():
            saved = update_ledger_entry(
                actor=world.leader,
                entry=_entry(world),
                expected_version=opened,
                family_situation="父亲去年因病去世，母亲务农，弟弟读初中。",
                today=TODAY,
            )
            first_saved.set()
            release.wait(timeout=30)
        return saved

    def second() -> LedgerEntry:
        first_saved.wait(timeout=30)
        return update_ledger_entry(
            actor=world.counsellor, entry=_entry(world), expected_version=opened, hardship_level="general", today=TODAY
        )

    def waiting_on_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(cursor.fetchone()[0])

    outcome: list[Any] = []
    watcher = threading.Thread(target=lambda: outcome.extend(at_once(2, lambda i: (first, second)[i]())))
    watcher.start()
    assert first_saved.wait(timeout=30)
    for _ in range(600):  # the second save blocks on the row lock rather than reading the old version
        if waiting_on_a_lock():
            break
        threading.Event().wait(0.05)
    else:
        pytest.fail("the second save never waited for the first one's lock")
    release.set()
    watcher.join(timeout=60)

    saved, refused = outcome
    assert isinstance(saved, LedgerEntry) and isinstance(refused, StaleEdit)
    assert refused.messages == [STALE]
    entry.refresh_from_db()
    assert entry.version == opened + 1
    assert entry.family_situation == "父亲去年因病去世，母亲务农，弟弟读初中。"
    assert entry.hardship_level == "special"  # the refused change did not land
    assert entry.history.count() == 2  # joining, and the one save


def test_two_people_posting_the_ledger_form_at_once_one_is_told_to_reload(world: World) -> None:
    entry = _entry(world)
    url = reverse("students:ledger_edit", args=[world.own.public_id])
    base = {
        "categories": ["poverty_alleviated", "orphan"],
        "hardship_level": "special",
        "disability_level": "",
        "family_situation": entry.family_situation,
        "intends_to_work": "on",
        "source": entry.source,
        "version": entry.version,
    }
    posts = [
        (world.leader, {**base, "family_situation": "祖父母年迈，靠低保生活。"}),
        (world.counsellor, {**base, "categories": ["poverty_alleviated", "orphan", "student_loan"]}),
    ]

    def post(i: int) -> tuple[int, str]:
        client = Client()
        client.force_login(posts[i][0], backend="django.contrib.auth.backends.ModelBackend")
        response = client.post(url, posts[i][1])
        return response.status_code, response.content.decode()

    results = at_once(2, post)
    statuses = sorted(status for status, _body in results)
    assert statuses == [200, 302], results
    winner = next(i for i, (status, _body) in enumerate(results) if status == 302)
    loser_page = results[1 - winner][1]
    assert STALE in loser_page
    entry.refresh_from_db()
    assert entry.version == base["version"] + 1
    categories = sorted(entry.categories.values_list("category", flat=True))
    if winner == 0:
        assert (entry.family_situation, categories) == ("祖父母年迈，靠低保生活。", ["orphan", "poverty_alleviated"])
        assert "靠低保生活" not in loser_page  # the form shows what the loser sent, for them to send again
    else:
        assert (entry.family_situation, categories) == (
            base["family_situation"],
            ["orphan", "poverty_alleviated", "student_loan"],
        )
        assert "靠低保生活" in loser_page  # the loser's input is kept for them to re-apply
