"""Read side of the policy settings page: which schools a user sets the policy of, and a school's versions."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from bangfu.assistance.labels import metric_label, stage_label
from bangfu.assistance.models import Period, Policy
from bangfu.assistance.rules import DEFAULT_RULES, Rule, Rules, rules_from_policy
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, units_with


def policy_schools(user: User) -> QuerySet[OrgUnit]:
    """The schools whose policy `user` sets (the employment office's school; every school for a superuser)."""
    schools = OrgUnit.objects.filter(kind=UnitKind.SCHOOL).order_by("path")
    if user.is_superuser:
        return schools
    q = Q(pk__in=[])
    for unit in units_with(user, Perm.MANAGE_POLICY):
        q |= Q(path__startswith=unit.path)
    return schools.filter(q)


def get_policy_school(schools: list[OrgUnit], public_id: str | None) -> OrgUnit:
    """The school asked for among the user's `schools` (404 for any other id), else the first of them."""
    if not public_id:
        return schools[0]
    school = next((s for s in schools if str(s.public_id) == public_id.strip().lower()), None)
    if school is None:
        raise Http404
    return school


class Status(StrEnum):
    PAST = "past"
    IN_FORCE = "in_force"
    SCHEDULED = "scheduled"


@dataclass(frozen=True)
class Version:
    """One version of a school's rules as the page shows it; `policy` is None for the article's defaults."""

    policy: Policy | None
    rules: Rules
    valid_from: dt.date | None  # None: from the start
    valid_until: dt.date | None  # None: until further notice
    status: Status

    @property
    def standards(self) -> tuple[Rule, ...]:
        return self.rules.standards

    @property
    def table(self) -> list[StandardRow]:
        return [StandardRow.of(rule) for rule in self.rules.standards]


@dataclass(frozen=True)
class StandardRow:
    """A standard in words, for the versions table."""

    stage: str
    metric: str
    min_count: int
    period: str

    @classmethod
    def of(cls, rule: Rule) -> StandardRow:
        if rule.period == Period.DAYS:
            period = _("every %(days)d days") % {"days": rule.every_days or 0}
        elif rule.period == Period.MILESTONES:
            period = _("at %(months)s months after leaving") % {"months": ", ".join(str(m) for m in rule.milestones)}
        else:
            period = str(Period(rule.period).label)
        return cls(stage_label(rule.stage), metric_label(rule.metric, short=False), rule.min_count, period)


def versions(school: OrgUnit, today: dt.date) -> list[Version]:
    """Every version of the school's policy, newest first, ending with the article's defaults where they apply
    (before the first version, or always when the school has configured none). Two queries."""
    policies = list(
        Policy.objects.filter(school=school)
        .select_related("created_by")
        .prefetch_related("standards")
        .order_by("valid_from")
    )
    chain: list[tuple[Policy | None, Rules, dt.date | None]] = []
    if not policies or policies[0].valid_from > dt.date.min:
        chain.append((None, DEFAULT_RULES, None))
    chain += [(p, rules_from_policy(p), p.valid_from) for p in policies]
    result: list[Version] = []
    for i, (policy, rules, start) in enumerate(chain):
        following = chain[i + 1][2] if i + 1 < len(chain) else None
        until = following - dt.timedelta(days=1) if following else None
        if start is not None and start > today:
            status = Status.SCHEDULED
        elif until is not None and until < today:
            status = Status.PAST
        else:
            status = Status.IN_FORCE
        result.append(Version(policy, rules, start, until, status))
    return list(reversed(result))


def scheduled_version(school: OrgUnit, public_id: str | None, today: dt.date) -> Policy | None:
    """A version that has not started yet, to start the form from (None for an unknown or started one)."""
    if not public_id:
        return None
    try:
        wanted = uuid.UUID(public_id)
    except ValueError:
        return None
    return (
        Policy.objects.filter(school=school, public_id=wanted, valid_from__gt=today)
        .prefetch_related("standards")
        .first()
    )
