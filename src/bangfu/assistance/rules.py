"""A school's rules as plain values: stages by date and the minimum standards of each stage.

A policy version applies from its start date; dates before a school's first version use the article's defaults.
Everything here is a pure function of its arguments, so progress for any past date is exact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bangfu.assistance.models import Metric, Period, Policy, Stage
from bangfu.dates import add_months, semester_of, semester_start


@dataclass(frozen=True)
class Rule:
    stage: str
    metric: str
    min_count: int
    period: str = Period.STAGE
    every_days: int | None = None
    milestones: tuple[int, ...] = ()

    def as_standard_fields(self) -> dict[str, Any]:
        """The fields of a `Standard` row (as `save_policy` and the policy form take them)."""
        return {
            "stage": str(self.stage),
            "metric": str(self.metric),
            "min_count": self.min_count,
            "period": str(self.period),
            "every_days": self.every_days,
            "milestones": ",".join(str(m) for m in self.milestones),
        }


@dataclass(frozen=True)
class Rules:
    valid_from: dt.date = dt.date.min
    enrolment_semesters: int = 1
    job_search_semesters: int = 2
    follow_up_months: int = 12
    close_day: int = 10
    effective_needs_fit: bool = True
    effective_needs_action: bool = True
    risk_no_contact_days: int = 60
    risk_min_share: int = 50
    risk_months_before_graduation: int = 2
    risk_declines: int = 3
    standards: tuple[Rule, ...] = field(default_factory=tuple)

    def for_stage(self, stage: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.standards if r.stage == stage)


# The article's practice (河北科技工程职业技术大学): talk first and recommend work-study posts at enrolment;
# "one-month docking" while studying; 3-3-3-3 in the job-search period; follow-ups at 1, 3, 6, 12 months.
DEFAULT_STANDARDS = (
    Rule(Stage.ENROLMENT, Metric.TALK, 1),
    Rule(Stage.ENROLMENT, Metric.WORK_STUDY_RECOMMENDATION, 1),
    Rule(Stage.STUDY, Metric.CHECK_IN, 1, Period.MONTH),
    Rule(Stage.JOB_SEARCH, Metric.TALK, 3),
    Rule(Stage.JOB_SEARCH, Metric.RESUME_REVISION, 3),
    Rule(Stage.JOB_SEARCH, Metric.EVENT_TOGETHER, 3),
    Rule(Stage.JOB_SEARCH, Metric.EFFECTIVE_RECOMMENDATION, 3),
    Rule(Stage.AFTER_LEAVING, Metric.FOLLOW_UP, 1, Period.MILESTONES, milestones=(1, 3, 6, 12)),
)
DEFAULT_RULES = Rules(standards=DEFAULT_STANDARDS)


def rules_from_policy(policy: Policy) -> Rules:
    return Rules(
        valid_from=policy.valid_from,
        enrolment_semesters=policy.enrolment_semesters,
        job_search_semesters=policy.job_search_semesters,
        follow_up_months=policy.follow_up_months,
        close_day=policy.close_day,
        effective_needs_fit=policy.effective_needs_fit,
        effective_needs_action=policy.effective_needs_action,
        risk_no_contact_days=policy.risk_no_contact_days,
        risk_min_share=policy.risk_min_share,
        risk_months_before_graduation=policy.risk_months_before_graduation,
        risk_declines=policy.risk_declines,
        standards=tuple(
            Rule(s.stage, s.metric, s.min_count, s.period, s.every_days, tuple(s.milestone_months()))
            for s in policy.standards.all()
        ),
    )


class Versions:
    """A school's rule versions in date order; `on(day)` gives the version in force that day."""

    def __init__(self, versions: list[Rules]) -> None:
        self.versions = sorted(versions, key=lambda r: r.valid_from)
        if not self.versions or self.versions[0].valid_from > dt.date.min:
            self.versions.insert(0, DEFAULT_RULES)

    def on(self, day: dt.date) -> Rules:
        current = self.versions[0]
        for version in self.versions:
            if version.valid_from <= day:
                current = version
        return current


def versions_for_schools(school_ids: list[int] | set[int]) -> dict[int, Versions]:
    """Every version of the given schools' rules, in two queries."""
    by_school: dict[int, list[Rules]] = {sid: [] for sid in school_ids}
    for policy in Policy.objects.filter(school_id__in=school_ids).prefetch_related("standards"):
        by_school[policy.school_id].append(rules_from_policy(policy))
    return {sid: Versions(v) for sid, v in by_school.items()}


@dataclass(frozen=True)
class Timeline:
    """What the stage of a student depends on."""

    cohort: int
    program_years: int
    graduation: dt.date


def stage_on(t: Timeline, day: dt.date, rules: Rules) -> str:
    if day > t.graduation:
        return Stage.AFTER_LEAVING if day <= add_months(t.graduation, rules.follow_up_months) else Stage.CLOSED
    semester = semester_of(t.cohort, day)
    if semester <= rules.enrolment_semesters:
        return Stage.ENROLMENT
    if semester >= job_search_semester(t, rules):
        return Stage.JOB_SEARCH
    return Stage.STUDY


def job_search_semester(t: Timeline, rules: Rules) -> int:
    return max(2 * t.program_years - rules.job_search_semesters + 1, rules.enrolment_semesters + 1)


def stage_window(t: Timeline, stage: str, rules: Rules) -> tuple[dt.date, dt.date]:
    """First and last day of a stage for this student (both included)."""
    one_day = dt.timedelta(days=1)
    study_from = semester_start(t.cohort, rules.enrolment_semesters + 1)
    search_from = min(semester_start(t.cohort, job_search_semester(t, rules)), t.graduation)
    if stage == Stage.ENROLMENT:
        return dt.date.min, study_from - one_day
    if stage == Stage.STUDY:
        return study_from, search_from - one_day
    if stage == Stage.JOB_SEARCH:
        return search_from, t.graduation
    if stage == Stage.AFTER_LEAVING:
        return t.graduation + one_day, add_months(t.graduation, rules.follow_up_months)
    return add_months(t.graduation, rules.follow_up_months) + one_day, dt.date.max


def is_effective(*, kind: str, fits_student: bool, response: str, rules: Rules) -> bool:
    from bangfu.assistance.models import ActivityKind, Response

    if kind != ActivityKind.JOB_RECOMMENDATION:
        return False
    acted = response in (Response.APPLIED, Response.INTERVIEWED, Response.EMPLOYER_ANSWERED)
    return (fits_student or not rules.effective_needs_fit) and (acted or not rules.effective_needs_action)


_METRICS = frozenset(Metric.values)  # `Metric.values` builds a new list on every access


def metric_of(kind: str, effective: bool) -> str | None:
    """The metric an activity counts toward, if any."""
    if kind == "job_recommendation":
        return Metric.EFFECTIVE_RECOMMENDATION if effective else None
    return kind if kind in _METRICS else None
