"""Monday morning at the demo university, for locust (bench/load/README.md; `bench/load/run.py` runs it).

Every simulated person logs in through the log-in form with an account of `setup_users.py` (the file named by
BANGFU_LOAD_USERS) and then, with a few seconds of reading between two clicks:

- helpers (most of the crowd) open "my students" and record check-ins and talks through the board's quick form as
  htmx sends it, sometimes through the API with the page's CSRF token, and look at a student's timeline;
- department leaders open their dashboard, the compliance page and the list of unplaced graduates;
- the employment office opens the school dashboard and exports the work ledger: a background job whose progress
  page it polls, as the browser does, until the file is ready, then downloads it;
- students open their own page and their job recommendations.

A request that does not answer as the page would for a person counts as a failure, with the reason. Every
request's time is also written, when the run ends, to the file named by BANGFU_LOAD_RESULT, in two phases: the
ramp, while people arrive and log in, and the steady state once everyone is in (run.py reports both).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task

ACCOUNTS: dict[str, Any] = json.loads(Path(os.environ["BANGFU_LOAD_USERS"]).read_text())
_next = {role: itertools.cycle(ACCOUNTS[role]) for role in ("helper", "leader", "office", "student")}

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
QUICK_LOG = re.compile(r'action="/help/([0-9a-f-]{36})/log/"')
JOB = re.compile(r"/reports/exports/jobs/([0-9a-f-]{36})/$")
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
STATUS = re.compile(r'data-status="(\w+)"')
TODAY = re.compile(r'name="occurred_on"[^>]*max="(\d{4}-\d\d-\d\d)"')  # the school's today, in its time zone
NOTES = ["电话了解求职进展", "宿舍走访，聊了简历修改", "微信视频，模拟面试", "课间谈心，情绪稳定", "推荐了两家本地企业"]
EXPORT_WAIT = 120  # seconds an export may take before it counts as failed
POLL_EVERY = 2  # seconds, as the progress page's hx-trigger


class Recorder:
    """Each request's time and failure, by phase: "ramp" until every simulated person has logged in, then "steady"."""

    def __init__(self) -> None:
        self.phase = "ramp"
        self.logged_in = 0
        self.started = {"ramp": time.time(), "steady": 0.0}
        self.requests: dict[str, dict[str, Any]] = {"ramp": {}, "steady": {}}
        self.failures: dict[str, dict[str, int]] = {"ramp": defaultdict(int), "steady": defaultdict(int)}

    def arrived(self, environment: Any) -> None:
        self.logged_in += 1
        target = environment.runner.target_user_count if environment.runner else 0
        if self.phase == "ramp" and target and self.logged_in >= target:
            self.phase = "steady"
            self.started["steady"] = time.time()

    def request(self, request_type: str, name: str, response_time: float, exception: Any, **_kwargs: Any) -> None:
        entry = self.requests[self.phase].setdefault(name, {"type": request_type, "times": [], "failures": 0})
        entry["times"].append(round(response_time, 1))
        if exception is not None:
            entry["failures"] += 1
            self.failures[self.phase][f"{request_type} {name}: {exception}"] += 1

    def write(self, **_kwargs: Any) -> None:
        path = os.environ.get("BANGFU_LOAD_RESULT")
        if path:
            ended = time.time()
            seconds = {
                "ramp": (self.started["steady"] or ended) - self.started["ramp"],
                "steady": ended - self.started["steady"] if self.started["steady"] else 0.0,
            }
            Path(path).write_text(
                json.dumps(
                    {"seconds": seconds, "requests": self.requests, "failures": self.failures}, ensure_ascii=False
                )
            )


recorder = Recorder()
events.request.add_listener(recorder.request)
events.quitting.add_listener(recorder.write)


def _status(answer: Any) -> str:
    """HTTP 503, or for no answer at all the connection's error."""
    return f"HTTP {answer.status_code}" if answer.status_code else f"no answer: {answer.error!r}"


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


class Person(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(2, 8)  # reading the page before the next click

    def on_start(self) -> None:
        self.username = next(_next[self.role])
        form = self.client.get("/accounts/login/", name="log in: form")
        with self.client.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": _csrf(form.text), "username": self.username, "password": ACCOUNTS["password"]},
            name="log in",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"{self.username} was not logged in ({_status(answer)})")
        recorder.arrived(self.environment)

    def page(self, path: str, name: str, must_have: str = "") -> Any:
        with self.client.get(path, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(_status(answer))
            elif must_have and must_have not in answer.text:
                title = TITLE.search(answer.text or "")
                answer.failure(f"the page lacks {must_have!r}: {answer.url} {title.group(1) if title else ''}")
        return answer


class Helper(Person):
    weight = 10
    role = "helper"

    def on_start(self) -> None:
        super().on_start()
        self.students: list[str] = []
        self.token = self.today = ""
        self.board()
        self.log_on_the_board()  # what a helper came to do

    @task(3)
    def board(self) -> None:
        answer = self.page("/help/mine/", "helper: my students", must_have='id="board"')
        self.students = QUICK_LOG.findall(answer.text or "")
        self.token = _csrf(answer.text or "") or self.token
        today = TODAY.search(answer.text or "")
        self.today = today.group(1) if today else self.today

    @task(4)
    def log_on_the_board(self) -> None:
        if not self.students:
            return
        kind = random.choice(["check_in", "talk"])
        with self.client.post(
            f"/help/{random.choice(self.students)}/log/",
            data={
                "csrfmiddlewaretoken": self.token,
                "kind": kind,
                "occurred_on": self.today,
                "notes": random.choice(NOTES),
            },
            headers={"HX-Request": "true", "X-CSRFToken": self.token},
            name=f"helper: log a {kind.replace('_', '-')} (board form)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200 or 'role="status"' not in answer.text:
                answer.failure(f"not recorded ({_status(answer)})")

    @task(1)
    def log_through_the_api(self) -> None:
        if not self.students:
            return
        with self.client.post(
            f"/api/v1/students/{random.choice(self.students)}/activities",
            json={"kind": "talk", "occurred_on": self.today, "notes": random.choice(NOTES)},
            headers={"X-CSRFToken": self.token},
            name="helper: log a talk (API)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 201:
                answer.failure(f"{_status(answer)}: {(answer.text or '')[:200]}")

    @task(1)
    def timeline(self) -> None:
        if self.students:
            self.page(f"/help/{random.choice(self.students)}/timeline/", "helper: a student's timeline")


class Leader(Person):
    weight = 3
    role = "leader"

    @task(3)
    def dashboard(self) -> None:
        self.page("/reports/department/", "leader: department dashboard")

    @task(2)
    def compliance(self) -> None:
        self.page("/help/compliance/", "leader: compliance")

    @task(2)
    def unplaced(self) -> None:
        self.page("/outcomes/unplaced/", "leader: unplaced graduates")


class Office(Person):
    fixed_count = 2  # the office is a few people whatever the size of the crowd (and always there)
    role = "office"

    def on_start(self) -> None:
        super().on_start()
        self.export()  # Monday morning: last week's work ledger for the school

    @task(2)
    def dashboard(self) -> None:
        self.page("/reports/school/", "office: school dashboard")

    @task(1)
    def export(self) -> None:
        exports = self.page("/reports/exports/", "office: exports page")
        started = time.monotonic()
        with self.client.post(
            "/reports/exports/work-ledger/?in_ledger=yes",
            data={"csrfmiddlewaretoken": _csrf(exports.text or "")},
            name="office: start a work-ledger export",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            job = JOB.search(answer.headers.get("Location", "")) if answer.status_code == 302 else None
            if job is None:
                answer.failure(f"no export job ({_status(answer)})")
                return
        status = ""
        while time.monotonic() - started < EXPORT_WAIT:
            time.sleep(POLL_EVERY)
            with self.client.get(
                f"/reports/exports/jobs/{job.group(1)}/",
                headers={"HX-Request": "true"},
                name="office: export progress (poll)",
                catch_response=True,
            ) as poll:
                found = STATUS.search(poll.text or "") if poll.status_code == 200 else None
                if found is None:
                    poll.failure(f"no status ({_status(poll)})")
                    return
                status = found.group(1)
            if status not in ("queued", "running"):
                break
        # The time from the click to the file being ready, as a request of its own in the figures.
        events.request.fire(
            request_type="JOB",
            name="office: export ready (start to done)",
            response_time=(time.monotonic() - started) * 1000,
            response_length=0,
            exception=None if status == "done" else RuntimeError(f"the export ended {status or 'in time-out'}"),
            context={},
        )
        if status == "done":
            with self.client.get(
                f"/reports/exports/jobs/{job.group(1)}/download/", name="office: download export", catch_response=True
            ) as download:
                if download.status_code != 200 or not download.content.startswith(b"PK"):
                    download.failure(f"not a workbook ({_status(download)})")


class Student(Person):
    weight = 4
    role = "student"

    @task(2)
    def home(self) -> None:
        self.page("/me/", "student: my page")

    @task(1)
    def recommendations(self) -> None:
        self.page("/me/recommendations/", "student: recommendations")
