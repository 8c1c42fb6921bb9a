"""Placement figures (毕业去向落实率) and the unplaced list, as database aggregates.

A destination is "in force" on a date when it had been recorded by then and not yet replaced; at most one is in
force per student on any date, so each figure is one pass over the students joined to that one destination.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet

from bangfu.outcomes.models import PLACED_GROUPS, Destination, DestinationGroup
from bangfu.students.models import LedgerEntry, Student, StudentStatus

GROUPINGS = ("department", "major", "category", "ledger")


def snapshot_dates(graduation_year: int) -> tuple[dt.date, dt.date]:
    """The two dates on which the year's figures are reported: 31 August and 31 December."""
    return dt.date(graduation_year, 8, 31), dt.date(graduation_year, 12, 31)


def graduates_of(students: QuerySet[Student], graduation_year: int) -> QuerySet[Student]:
    """A cohort (届) is the students who graduate that year; those who withdrew are not graduates."""
    return students.filter(expected_graduation__year=graduation_year).exclude(status=StudentStatus.WITHDRAWN)


def in_force(as_of: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}recorded_on__lte": as_of}) & (
        Q(**{f"{prefix}superseded_on__isnull": True}) | Q(**{f"{prefix}superseded_on__gt": as_of})
    )


def in_ledger_on(as_of: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}joined_on__lte": as_of}) & (
        Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gt": as_of})
    )


@dataclass(frozen=True)
class Figures:
    key: Any
    graduates: int
    known: int
    employed: int
    flexible: int
    further_study: int
    not_seeking: int
    verified: int

    @property
    def placed(self) -> int:
        return self.employed + self.further_study

    @property
    def seeking(self) -> int:
        return self.known - self.placed - self.not_seeking

    @property
    def unknown(self) -> int:
        return self.graduates - self.known

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def placement_rate(self) -> float | None:
        """(employed + further study) ÷ all graduates, in per cent."""
        return self._share(self.placed, self.graduates)

    @property
    def knowledge_rate(self) -> float | None:
        """Graduates whose outcome is known ÷ all graduates (NACE: publish only at 65 % or more)."""
        return self._share(self.known, self.graduates)

    @property
    def verified_share(self) -> float | None:
        """Placed graduates whose destination is verified by evidence ÷ placed graduates."""
        return self._share(self.verified, self.placed)

    @property
    def career_outcomes_rate(self) -> float | None:
        """NACE: positive outcomes ÷ known outcomes, leaving out those not seeking work."""
        return self._share(self.placed, self.known - self.not_seeking)

    def share(self, part: int) -> float | None:
        return self._share(part, self.graduates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "graduates": self.graduates,
            "known": self.known,
            "unknown": self.unknown,
            "employed": self.employed,
            "flexible": self.flexible,
            "further_study": self.further_study,
            "placed": self.placed,
            "seeking": self.seeking,
            "not_seeking": self.not_seeking,
            "verified": self.verified,
            "placement_rate": self.placement_rate,
            "knowledge_rate": self.knowledge_rate,
            "verified_share": self.verified_share,
            "career_outcomes_rate": self.career_outcomes_rate,
            "employed_share": self.share(self.employed),
            "further_study_share": self.share(self.further_study),
            "not_placed_share": self.share(self.graduates - self.placed),
        }


def placement_figures(*, students: QuerySet[Student], as_of: dt.date, by: str | None = None) -> list[Figures]:
    """Figures for `students` (already a cohort, already scoped) as recorded on `as_of`, in one query.

    `by`: None (one row), "department", "major", "category" (a student counts once in each of their ledger
    categories on that date), or "ledger" (key True: ledger students on that date; False: the others).
    """
    qs = students.annotate(dest=FilteredRelation("destinations", condition=in_force(as_of, "destinations__")))
    group = DestinationGroup
    aggregates = {
        "graduates": Count("pk"),
        "known": Count("pk", filter=Q(dest__id__isnull=False)),
        "employed": Count("pk", filter=Q(dest__code__group=group.EMPLOYED)),
        "flexible": Count("pk", filter=Q(dest__code__group=group.EMPLOYED, dest__code__flexible=True)),
        "further_study": Count("pk", filter=Q(dest__code__group=group.FURTHER_STUDY)),
        "not_seeking": Count("pk", filter=Q(dest__code__not_seeking=True)),
        "verified": Count("pk", filter=Q(dest__code__group__in=PLACED_GROUPS, dest__verified_on__lte=as_of)),
    }
    if by is None:
        return [Figures(key=None, **qs.aggregate(**aggregates))]
    if by in ("department", "major"):
        key = f"{by}_id"
    elif by == "category":
        qs = qs.annotate(
            entry=FilteredRelation("ledger_entries", condition=in_ledger_on(as_of, "ledger_entries__"))
        ).filter(entry__categories__category__isnull=False)
        key = "entry__categories__category"
    elif by == "ledger":
        qs = qs.annotate(in_ledger=Exists(LedgerEntry.objects.filter(in_ledger_on(as_of), student=OuterRef("pk"))))
        key = "in_ledger"
    else:
        raise ValueError(f"unknown grouping: {by}")
    rows = qs.values(key).annotate(**aggregates).order_by(key)
    return [Figures(key=row.pop(key), **row) for row in rows]


# Groupings in which every student falls in exactly one row (a student without a major is the row of None).
PARTITIONS = frozenset({"department", "major", "ledger"})


def figures_and_total(*, students: QuerySet[Student], as_of: dt.date, by: str) -> tuple[list[Figures], Figures]:
    """`placement_figures` grouped `by` (or not at all for ""), and the figures of the whole cohort: for a
    grouping that partitions the cohort, the rows' sum (one query fewer over every graduate of the school)."""
    if not by:
        return [], placement_figures(students=students, as_of=as_of)[0]
    rows = placement_figures(students=students, as_of=as_of, by=by)
    if by not in PARTITIONS:
        return rows, placement_figures(students=students, as_of=as_of)[0]
    names = [f.name for f in fields(Figures) if f.name != "key"]
    return rows, Figures(key=None, **{name: sum(getattr(row, name) for row in rows) for name in names})


def unplaced(students: QuerySet[Student]) -> QuerySet[Student]:
    """Students with no placed destination in force today: the list that counts down to zero (动态清零)."""
    placed = Destination.objects.filter(
        student=OuterRef("pk"), superseded_on__isnull=True, code__group__in=PLACED_GROUPS
    )
    return students.exclude(Exists(placed))


def struck_off(students: QuerySet[Student]) -> QuerySet[Student]:
    """Students placed today, with the date they were struck off the unplaced list (`struck_off_on`)."""
    current = Destination.objects.filter(
        student=OuterRef("pk"), superseded_on__isnull=True, code__group__in=PLACED_GROUPS
    )
    from django.db.models import Subquery

    return students.filter(Exists(current)).annotate(struck_off_on=Subquery(current.values("placed_since")[:1]))
