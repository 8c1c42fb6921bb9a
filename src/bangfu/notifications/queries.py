"""Read side of reminders: what each helper has due and late, each department leader's late helpers, and a
person's own notifications. Everything is read from StudentProgress (never from activities) in a fixed number of
queries, plus one aggregate per department leader.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from bangfu.assistance.labels import next_due_text, risk_label, risk_reason_text
from bangfu.assistance.models import HelperAssignment, RiskLevel
from bangfu.notifications.models import DEFAULT_DIGEST, Notification, NotificationPreference, Reminder, ReminderKind
from bangfu.organisation.models import OrgUnit, Role, RoleGrant, User
from bangfu.organisation.permissions import unit_q

DUE_WINDOW_DAYS = 7


def iso_week(day: dt.date) -> str:
    """The period of weekly reminders, e.g. "2024-W11"; a new week starts on Monday."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Item:
    """Something one person should hear about, keyed by (item, period) so it is told once per period."""

    kind: str
    item: str
    period: str
    student_id: int | None = None
    student_name: str = ""
    student_number: str = ""
    student_public_id: UUID | None = None
    helper_id: int | None = None
    helper_name: str = ""
    metric: str = ""
    due_on: dt.date | None = None
    count: int = 0
    at_risk: int = 0
    risk: int = RiskLevel.NONE
    reasons: tuple[dict[str, Any], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.item, self.period)

    @property
    def due_text(self) -> str:
        return next_due_text(self.metric, self.due_on)

    @property
    def reason_texts(self) -> list[str]:
        return [risk_reason_text(r) for r in self.reasons]

    @property
    def risk_label(self) -> str:
        return risk_label(self.risk)


def helper_items(*, today: dt.date) -> dict[int, list[Item]]:
    """For every active helper: their students' next due actions this week, and their late or at-risk students.

    A due item is told once per due date; a late student once per ISO week while they stay late.
    """
    horizon = today + dt.timedelta(days=DUE_WINDOW_DAYS)
    week = iso_week(today)
    p = "student__progress__"
    rows = (
        HelperAssignment.objects.active()
        .filter(helper__is_active=True)
        .filter(
            Q(**{f"{p}next_due_on__range": (today, horizon)})
            | Q(**{f"{p}overdue_count__gt": 0})
            | Q(**{f"{p}risk": RiskLevel.AT_RISK})
        )
        .values(
            "helper_id",
            "student_id",
            "student__name",
            "student__student_number",
            "student__public_id",
            f"{p}next_due_on",
            f"{p}next_due_metric",
            f"{p}overdue_count",
            f"{p}risk",
            f"{p}risk_reasons",
        )
        .order_by("helper_id", f"{p}next_due_on", "student__student_number")
    )
    items: dict[int, list[Item]] = defaultdict(list)
    for row in rows:
        student = {
            "student_id": row["student_id"],
            "student_name": row["student__name"],
            "student_number": row["student__student_number"],
            "student_public_id": row["student__public_id"],
        }
        due_on, metric = row[f"{p}next_due_on"], row[f"{p}next_due_metric"]
        if due_on is not None and today <= due_on <= horizon:
            items[row["helper_id"]].append(
                Item(
                    kind=ReminderKind.DUE,
                    item=f"due:{row['student_id']}:{metric}",
                    period=due_on.isoformat(),
                    metric=metric,
                    due_on=due_on,
                    **student,
                )
            )
        overdue, risk = row[f"{p}overdue_count"], row[f"{p}risk"]
        if overdue > 0 or risk == RiskLevel.AT_RISK:
            items[row["helper_id"]].append(
                Item(
                    kind=ReminderKind.LATE,
                    item=f"late:{row['student_id']}",
                    period=week,
                    count=overdue,
                    risk=risk,
                    reasons=tuple(row[f"{p}risk_reasons"]),
                    **student,
                )
            )
    return dict(items)


def _leader_units() -> dict[int, list[OrgUnit]]:
    units: dict[int, list[OrgUnit]] = defaultdict(list)
    grants = RoleGrant.objects.filter(role=Role.DEPARTMENT_LEADER, user__is_active=True).select_related("unit")
    for grant in grants.order_by("user_id", "unit__path"):
        units[grant.user_id].append(grant.unit)
    return dict(units)


def late_helpers(*, today: dt.date) -> dict[int, list[Item]]:
    """For every department leader: the helpers in their departments with overdue students, counted in the
    database (one aggregate per leader), most late first. Told once per ISO week."""
    week = iso_week(today)
    overdue = Q(student__progress__overdue_count__gt=0)
    result: dict[int, list[Item]] = {}
    for leader_id, units in _leader_units().items():
        rows = (
            HelperAssignment.objects.active()
            .filter(helper__is_active=True)
            .filter(unit_q(units, prefix="student__"))
            .values("helper_id", "helper__full_name", "helper__username")
            .annotate(
                late=Count("id", filter=overdue),
                at_risk=Count("id", filter=Q(student__progress__risk=RiskLevel.AT_RISK)),
            )
            .filter(late__gt=0)
            .order_by("-late", "helper__full_name", "helper_id")
        )
        items = [
            Item(
                kind=ReminderKind.LATE_HELPER,
                item=f"late_helper:{row['helper_id']}",
                period=week,
                helper_id=row["helper_id"],
                helper_name=row["helper__full_name"] or row["helper__username"],
                count=row["late"],
                at_risk=row["at_risk"],
            )
            for row in rows
        ]
        if items:
            result[leader_id] = items
    return result


def notifications_of(user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first, each with its reminders (two queries per page)."""
    return (
        Notification.objects.filter(user=user)
        .prefetch_related(
            Prefetch(
                "reminders",
                queryset=Reminder.objects.select_related("student", "helper").order_by("kind", "due_on", "id"),
            )
        )
        .order_by("-day", "-id")
    )


def get_notification(user: User, public_id: UUID) -> Notification:
    """One of the user's notifications; anybody else's is a 404."""
    notification = Notification.objects.filter(user=user, public_id=public_id).first()
    if notification is None:
        raise Http404
    return notification


def digest_frequency(user: User) -> str:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.digest if preference else DEFAULT_DIGEST


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
