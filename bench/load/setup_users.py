"""Accounts for the load test, made in the demo university through the app's own services.

    python bench/load/setup_users.py OUT.json [--helpers 60] [--per-helper 8] [--leaders 14] [--office 4]
                                              [--students 60]

Run with the same environment as the app (DATABASE_URL, BANGFU_VAR_DIR) after `bangfu seed_demo`, whose five
logins are too few for a crowd. New helpers (teachers, `load-helper-NNN`) each take over `--per-helper` ledger
students of their department from the demo's helpers by a hand-over; department leaders (`load-leader-NN`) and
employment-office staff (`load-office-N`) are granted their role; ledger students of the new helpers get a
student account (`<school>-<number>`). All share one password, hashed once (Argon2 is slow on purpose, as in the
demo). The user names and the password go to OUT.json for the locustfile.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

PASSWORD = "bangfu-load-2024"
SURNAMES = "王李张刘赵杨陈高郭孙马周吴徐朱胡田韩董冯"
STAFF_GIVEN = ["建国", "志强", "海军", "立新", "秀英", "晓红", "海燕", "春梅", "玉兰", "雅琴", "伟", "静", "敏", "磊"]


def _names() -> itertools.cycle[str]:
    return itertools.cycle(s + g for g in STAFF_GIVEN for s in SURNAMES)


def build(*, helpers: int, per_helper: int, leaders: int, office: int, students: int) -> dict[str, object]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from bangfu.assistance.models import HelperAssignment
    from bangfu.assistance.services import hand_over
    from bangfu.demo.builder import demo_school
    from bangfu.organisation.models import OrgUnit, Role, UnitKind, User
    from bangfu.organisation.services import create_staff
    from bangfu.portal.accounts import create_student_accounts
    from bangfu.students.models import Student

    school = demo_school()
    if school is None:
        raise SystemExit("No demo school: run `bangfu seed_demo` first.")
    actor = User.objects.get(username="office")
    today = timezone.localdate()
    departments = list(OrgUnit.objects.filter(parent=school, kind=UnitKind.DEPARTMENT).order_by("code"))
    names = _names()
    made: dict[str, list[str]] = {"helper": [], "leader": [], "office": [], "student": []}

    # Each new helper goes to the department with the most ledger students still with a demo helper.
    left = {dept.pk: HelperAssignment.objects.active().filter(student__department=dept).count() for dept in departments}
    with transaction.atomic():
        for n in range(helpers):
            dept = max(departments, key=lambda d: left[d.pk])
            if left[dept.pk] < per_helper:
                raise SystemExit(f"Too few ledger students for {helpers} helpers of {per_helper}: ask for fewer.")
            left[dept.pk] -= per_helper
            user = create_staff(
                username=f"load-helper-{n:03d}", full_name=next(names), unit=dept, roles=[(Role.TEACHER, dept)]
            )
            made["helper"].append(user.username)
            taken = (
                HelperAssignment.objects.active()
                .filter(student__department=dept)
                .exclude(helper__username__startswith="load-")
                .select_related("student")
                .order_by("student__student_number")[:per_helper]
            )
            for assignment in list(taken):
                hand_over(
                    actor=actor,
                    student=assignment.student,
                    new_helper=user,
                    on=today,
                    note="周一早高峰压测：由新帮扶人接手，请尽快联系学生。",
                    today=today,
                )
        for n in range(leaders):
            dept = departments[n % len(departments)]
            user = create_staff(
                username=f"load-leader-{n:02d}",
                full_name=next(names),
                unit=dept,
                roles=[(Role.DEPARTMENT_LEADER, dept)],
            )
            made["leader"].append(user.username)
        for n in range(office):
            user = create_staff(
                username=f"load-office-{n}",
                full_name=next(names),
                unit=school,
                roles=[(Role.EMPLOYMENT_OFFICE, school)],
            )
            made["office"].append(user.username)
        helped = (
            Student.objects.filter(
                user__isnull=True,
                helper_assignments__helper__username__startswith="load-helper-",
                helper_assignments__ended_on__isnull=True,
            )
            .distinct()
            .order_by("student_number")[:students]
        )
        result = create_student_accounts(actor=actor, students=list(helped), now=timezone.now())
        made["student"] = [s.user.username for s in result.created]
        everyone = [name for role in made.values() for name in role]
        User.objects.filter(username__in=everyone).update(password=make_password(PASSWORD))
    return {"password": PASSWORD, "school": school.code, **made}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--helpers", type=int, default=60)
    parser.add_argument("--per-helper", type=int, default=8)
    parser.add_argument("--leaders", type=int, default=14)
    parser.add_argument("--office", type=int, default=4)
    parser.add_argument("--students", type=int, default=60)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bangfu.settings")
    src = str(Path(__file__).resolve().parent.parent.parent / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django

    django.setup()
    started = time.monotonic()
    accounts = build(
        helpers=args.helpers,
        per_helper=args.per_helper,
        leaders=args.leaders,
        office=args.office,
        students=args.students,
    )
    args.out.write_text(json.dumps(accounts, ensure_ascii=False, indent=2) + "\n")
    counts = ", ".join(f"{r}: {len(accounts[r])}" for r in ("helper", "leader", "office", "student"))  # type: ignore[arg-type]
    print(f"load accounts: {counts} in {time.monotonic() - started:.1f} s → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
