"""Progress against the standards: gathered from the facts of a student, evaluated by the rules in force.

`refresh_progress` recomputes one student's row inside the transaction of the write that changed it (an
activity, a hand-over, a ledger change); `rebuild_progress` recomputes every row from grouped aggregates.
Both gather the same `Facts` and share `evaluate`; a property test holds them equal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import TruncMonth

from bangfu import bulk
from bangfu.assistance.models import (
    Activity,
    HelperAssignment,
    Metric,
    Period,
    Response,
    RiskLevel,
    Stage,
    Standard,
    StudentProgress,
)
from bangfu.assistance.rules import (
    DEFAULT_RULES,
    Timeline,
    Versions,
    metric_of,
    stage_on,
    stage_window,
    versions_for_schools,
)
from bangfu.dates import add_months, month_end, month_start, months_between
from bangfu.outcomes.models import Destination
from bangfu.students.models import LedgerEntry, Student, StudentStatus


@dataclass
class Facts:
    student_id: int
    school_id: int
    timeline: Timeline
    joined_on: dt.date
    department_id: int
    class_unit_id: int
    graduates_in: int | None  # the year of the expected graduation; None once withdrawn
    helper_id: int | None  # the active (primary) helper
    destination_group: str  # of the destination in force ("" for none)
    placed_since: dt.date | None  # the day that destination struck the student off the unplaced list
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (stage, metric) → n
    last: dict[tuple[str, str], dt.date] = field(default_factory=dict)  # (stage, metric) → last date
    month_counts: dict[tuple[str, dt.date], int] = field(default_factory=dict)  # (metric, month) → n
    last_contact: dt.date | None = None
    last_check_in: dt.date | None = None
    declines: int = 0


def _counted(qs: Any) -> Any:
    return qs.filter(voided=False)


def _add_activity_rows(facts_by_id: dict[int, Facts], rows: Any) -> None:
    """Fold grouped rows (student, stage, kind, effective, n, last) into facts."""
    for row in rows:
        facts = facts_by_id[row["student_id"]]
        metric = metric_of(row["kind"], row["effective"])
        if metric is None:
            continue
        key = (row["stage"], metric)
        facts.counts[key] = facts.counts.get(key, 0) + row["n"]
        if key not in facts.last or row["last"] > facts.last[key]:
            facts.last[key] = row["last"]


def _monthly_kinds() -> set[str]:
    """Kinds that some standard counts per calendar month (only those need per-month counts)."""
    kinds = {r.metric for r in DEFAULT_RULES.standards if r.period == Period.MONTH}
    kinds |= set(Standard.objects.filter(period=Period.MONTH).values_list("metric", flat=True))
    return kinds - {Metric.EFFECTIVE_RECOMMENDATION}


def _gather(students: Any) -> dict[int, Facts]:
    """Facts for the ledger students of a queryset, in a fixed number of grouped queries."""
    active = HelperAssignment.objects.active().filter(student=OuterRef("pk"))
    in_force = Destination.objects.filter(student=OuterRef("pk"), superseded_on__isnull=True)
    base = (
        students.in_ledger()
        .annotate(
            joined_on=Subquery(
                LedgerEntry.objects.filter(student=OuterRef("pk"), left_on__isnull=True).values("joined_on")[:1]
            ),
            helper_id=Subquery(active.values("helper_id")[:1]),
            destination_group=Subquery(in_force.values("code__group")[:1]),
            placed_since=Subquery(in_force.values("placed_since")[:1]),
        )
        .values(
            "pk",
            "school_id",
            "department_id",
            "class_unit_id",
            "cohort",
            "program_years",
            "expected_graduation",
            "status",
            "joined_on",
            "helper_id",
            "destination_group",
            "placed_since",
        )
    )
    facts_by_id = {
        r["pk"]: Facts(
            student_id=r["pk"],
            school_id=r["school_id"],
            timeline=Timeline(r["cohort"], r["program_years"], r["expected_graduation"]),
            joined_on=r["joined_on"],
            department_id=r["department_id"],
            class_unit_id=r["class_unit_id"],
            graduates_in=None if r["status"] == StudentStatus.WITHDRAWN else r["expected_graduation"].year,
            helper_id=r["helper_id"],
            destination_group=r["destination_group"] or "",
            placed_since=r["placed_since"],
        )
        for r in base
    }
    if not facts_by_id:
        return facts_by_id
    ids = list(facts_by_id)
    activities = _counted(Activity.objects.filter(student_id__in=ids))
    _add_activity_rows(
        facts_by_id,
        activities.values("student_id", "stage", "kind", "effective").annotate(n=Count("id"), last=Max("occurred_on")),
    )
    monthly = activities.filter(kind__in=_monthly_kinds()).annotate(month=TruncMonth("occurred_on"))
    for row in monthly.values("student_id", "kind", "month").annotate(n=Count("id")):
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        facts_by_id[row["student_id"]].month_counts[(row["kind"], month)] = row["n"]
    summary = activities.values("student_id").annotate(
        last_contact=Max("occurred_on"),
        last_check_in=Max("occurred_on", filter=Q(kind=Metric.CHECK_IN)),
        declines=Count("id", filter=Q(response=Response.DECLINED)),
    )
    for row in summary:
        facts = facts_by_id[row["student_id"]]
        facts.last_contact = row["last_contact"]
        facts.last_check_in = row["last_check_in"]
        facts.declines = row["declines"]
    return facts_by_id


def evaluate(facts: Facts, versions: Versions, today: dt.date) -> dict[str, Any]:
    """The progress row's values for a student on `today`."""
    rules = versions.on(today)
    t = facts.timeline
    stage = stage_on(t, today, rules)
    start, end = stage_window(t, stage, rules)
    counted_from = max(start, facts.joined_on)
    meters: list[dict[str, Any]] = []
    for rule in rules.for_stage(stage):
        meter: dict[str, Any] = {"metric": rule.metric, "period": rule.period, "required": rule.min_count}
        done = facts.counts.get((stage, rule.metric), 0)
        overdue = 0
        due_on: dt.date | None = None
        if rule.period == Period.STAGE:
            met = done >= rule.min_count
            due_on = None if met else end
        elif rule.period == Period.MONTH:
            this_month = month_start(today)
            for month in months_between(counted_from, this_month - dt.timedelta(days=1)):
                # Each past month is judged by the version in force in that month.
                then = versions.on(month)
                required = next(
                    (
                        r.min_count
                        for r in then.for_stage(stage)
                        if r.metric == rule.metric and r.period == Period.MONTH
                    ),
                    0,
                )
                if facts.month_counts.get((rule.metric, month), 0) < required:
                    overdue += 1
            done = facts.month_counts.get((rule.metric, this_month), 0)
            met = overdue == 0
            due_on = min(month_end(today), end) if done < rule.min_count else None
        elif rule.period == Period.DAYS:
            assert rule.every_days
            base = facts.last.get((stage, rule.metric), counted_from)
            due_on = max(base, counted_from) + dt.timedelta(days=rule.every_days)
            overdue = 1 if today > due_on else 0
            met = overdue == 0
        else:  # milestones after leaving
            dues = [add_months(t.graduation, m) for m in rule.milestones]
            passed = sum(1 for d in dues if d <= today)
            meter["required"] = passed
            overdue = max(0, passed - done)
            met = overdue == 0
            due_on = dues[done] if done < len(dues) else None
        meter.update(done=done, overdue=overdue, met=met, due_on=due_on.isoformat() if due_on else None)
        meters.append(meter)

    unmet = [m for m in meters if m["due_on"] and not (m["met"] and m["done"] >= m["required"])]
    next_meter = min(unmet, key=lambda m: (m["due_on"], m["metric"]), default=None)
    reasons = _risk_reasons(facts, rules, stage, meters, counted_from, today)
    return {
        "computed_on": today,
        "stage": stage,
        "meters": meters,
        "standards_met": sum(1 for m in meters if m["met"] and m["done"] >= m["required"]),
        "standards_total": len(meters),
        "overdue_count": sum(m["overdue"] for m in meters),
        "next_due_on": dt.date.fromisoformat(next_meter["due_on"]) if next_meter else None,
        "next_due_metric": next_meter["metric"] if next_meter else "",
        "last_contact_on": facts.last_contact,
        "last_check_in_on": facts.last_check_in,
        "declined_count": facts.declines,
        "risk": max((r["level"] for r in reasons), default=RiskLevel.NONE),
        "risk_reasons": reasons,
        **standing_columns(facts),
    }


def standing_columns(facts: Facts) -> dict[str, Any]:
    """Where the student stands on the boards: the columns of the progress row copied from the student."""
    return {
        "school_id": facts.school_id,
        "department_id": facts.department_id,
        "class_unit_id": facts.class_unit_id,
        "graduates_in": facts.graduates_in,
        "helper_id": facts.helper_id,
        "destination_group": facts.destination_group,
        "placed_since": facts.placed_since,
    }


def _risk_reasons(
    facts: Facts, rules: Any, stage: str, meters: list[dict[str, Any]], counted_from: dt.date, today: dt.date
) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = []
    if stage == Stage.CLOSED:
        return reasons
    if facts.helper_id is None:
        reasons.append({"code": "unassigned", "level": RiskLevel.AT_RISK})
    silent_since = facts.last_contact or counted_from
    silent_days = (today - silent_since).days
    if silent_days > rules.risk_no_contact_days:
        reasons.append({"code": "no_contact", "level": RiskLevel.AT_RISK, "days": silent_days})
    if stage == Stage.JOB_SEARCH and today >= add_months(
        facts.timeline.graduation, -rules.risk_months_before_graduation
    ):
        required = sum(m["required"] for m in meters)
        done = sum(min(m["done"], m["required"]) for m in meters)
        share = round(100 * done / required) if required else 100
        if share < rules.risk_min_share:
            reasons.append({"code": "behind_before_graduation", "level": RiskLevel.AT_RISK, "share": share})
    overdue = sum(m["overdue"] for m in meters)
    if overdue:
        reasons.append({"code": "overdue", "level": RiskLevel.WATCH, "count": overdue})
    if facts.declines >= rules.risk_declines:
        reasons.append({"code": "declined", "level": RiskLevel.WATCH, "count": facts.declines})
    return reasons


def _write(rows: list[dict[str, Any]]) -> None:
    """Insert or replace the students' rows, given as {"student_id": …, **evaluate(…)}: one prepared statement
    for them all (`QuerySet.bulk_create` spent two thirds of a rebuild compiling its SQL)."""
    bulk.upsert(StudentProgress, rows, unique="student_id")


def refresh_progress(*, student: Student, today: dt.date) -> StudentProgress | None:
    """Recompute one student's row; called inside the transaction of every write that changes it.

    Two writers for the same student queue on the student's row (FOR NO KEY UPDATE, which does not wait for the
    key-share locks their own inserts hold), so the second counts the first's committed work too.
    """
    with transaction.atomic():
        Student.objects.select_for_update(no_key=True).filter(pk=student.pk).values_list("pk").first()
        facts = _gather(Student.objects.filter(pk=student.pk)).get(student.pk)
        if facts is None:  # not in the ledger: no standards apply
            StudentProgress.objects.filter(student_id=student.pk).delete()
            return None
        versions = versions_for_schools({facts.school_id})[facts.school_id]
        row = {"student_id": student.pk, **evaluate(facts, versions, today)}
        _write([row])
        return StudentProgress(**row)


def rebuild_progress(*, today: dt.date, students: Any = None, batch: int = 5000) -> int:
    """Recompute every ledger student's row from scratch (nightly, and after a policy change). Returns the count."""
    students = students if students is not None else Student.objects.all()
    ids = list(students.in_ledger().order_by("pk").values_list("pk", flat=True))
    written = 0
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        with transaction.atomic():
            facts_by_id = _gather(Student.objects.filter(pk__in=chunk))
            versions = versions_for_schools({f.school_id for f in facts_by_id.values()})
            _write([{"student_id": sid, **evaluate(f, versions[f.school_id], today)} for sid, f in facts_by_id.items()])
            written += len(facts_by_id)
    StudentProgress.objects.exclude(
        student__in=LedgerEntry.objects.filter(left_on__isnull=True).values("student_id")
    ).delete()
    return written
