"""Read side of the audit: the change history of every tracked record, and the access log, scoped.

The employment office sees what happened in its own school(s); a superuser sees everything. Changes come
from the django-simple-history tables of several models, merged by the database in one UNION ALL that is
filtered, ordered and sliced there: only the page being read reaches Python, and the fields that changed are
worked out for that page alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery, UUIDField, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.models import HelperAssignment
from bangfu.audit.models import AccessLog
from bangfu.organisation.models import OrgUnit, Role, RoleGrant, User
from bangfu.organisation.permissions import Perm, can_browse_audit, unit_q, units_with
from bangfu.students.models import Category, LedgerCategory, LedgerEntry, Student

PAGE_SIZE = 50

# Bookkeeping columns that change with every save and say nothing to a reader.
IGNORED_FIELDS = frozenset({"version", "updated_at", "created_at", "id"})


def audit_units(user: User) -> list[OrgUnit] | None:
    """The units whose records `user` may audit; None means everything (superuser)."""
    if not can_browse_audit(user):
        raise PermissionDenied
    if user.is_superuser:
        return None
    return units_with(user, Perm.BROWSE_AUDIT)


def _path_q(units: list[OrgUnit], lookup: str) -> Q:
    q = Q(pk__in=[])
    for unit in units:
        q |= Q(**{f"{lookup}__startswith": unit.path})
    return q


def _name(prefix: str) -> Coalesce:
    """A person's full name, or their user name when the full name is empty."""
    return Coalesce(NullIf(F(f"{prefix}full_name"), Value("")), F(f"{prefix}username"), output_field=CharField())


@dataclass(frozen=True)
class HistorySource:
    """One tracked model: how to scope its history rows, and what to show for them."""

    kind: str
    label: str | Promise
    model: type[models.Model]
    scope: Callable[[list[OrgUnit]], Q]
    subject: Any  # expression: the name shown in the "record" column
    detail: Any = field(default_factory=lambda: Value("", output_field=CharField()))
    student_public_id: str | None = None  # lookup of the student's public id, to link to their page
    detail_labels: dict[str, str | Promise] = field(default_factory=dict)

    def history(self) -> QuerySet[Any]:
        return self.model.history.all()  # type: ignore[attr-defined]


SOURCES: tuple[HistorySource, ...] = (
    HistorySource(
        kind="student",
        label=_("Student"),
        model=Student,
        scope=lambda units: unit_q(units),
        subject=F("name"),
        detail=F("student_number"),
        student_public_id="public_id",
    ),
    HistorySource(
        kind="ledger_entry",
        label=_("Ledger entry"),
        model=LedgerEntry,
        scope=lambda units: unit_q(units, prefix="student__"),
        subject=F("student__name"),
        detail=F("student__student_number"),
        student_public_id="student__public_id",
    ),
    HistorySource(
        kind="ledger_category",
        label=_("Ledger category"),
        model=LedgerCategory,
        scope=lambda units: unit_q(units, prefix="entry__student__"),
        subject=F("entry__student__name"),
        detail=F("category"),
        student_public_id="entry__student__public_id",
        detail_labels=dict(Category.choices),
    ),
    HistorySource(
        kind="helper_assignment",
        label=_("Helper assignment"),
        model=HelperAssignment,
        scope=lambda units: unit_q(units, prefix="student__"),
        subject=F("student__name"),
        detail=_name("helper__"),
        student_public_id="student__public_id",
    ),
    HistorySource(
        kind="org_unit",
        label=_("Organisation unit"),
        model=OrgUnit,
        scope=lambda units: _path_q(units, "path"),
        subject=F("name"),
        detail=F("code"),
    ),
    HistorySource(
        kind="role_grant",
        label=_("Role grant"),
        model=RoleGrant,
        scope=lambda units: _path_q(units, "unit__path"),
        subject=_name("user__"),
        detail=F("role"),
        detail_labels=dict(Role.choices),
    ),
)
SOURCE_BY_KIND = {s.kind: s for s in SOURCES}
KIND_CHOICES = [(s.kind, s.label) for s in SOURCES]


@dataclass(frozen=True)
class ChangeFilters:
    person: str = ""
    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True)
class AccessFilters:
    person: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _people(person: str) -> QuerySet[User, int]:
    """Users a "person" filter names: by exact user name, or by part of the full name."""
    person = person.strip()
    return User.objects.filter(Q(username=person) | Q(full_name__icontains=person)).values_list("pk", flat=True)


def _date_q(lookup: str, date_from: dt.date | None, date_to: dt.date | None) -> Q:
    """Dates are the reader's local calendar days; the range includes both ends."""
    q = Q()
    if date_from:
        q &= Q(**{f"{lookup}__gte": timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))})
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min)
        q &= Q(**{f"{lookup}__lt": timezone.make_aware(end)})
    return q


def _source_rows(source: HistorySource, units: list[OrgUnit] | None, filters: ChangeFilters) -> QuerySet[Any]:
    rows = source.history().filter(_date_q("history_date", filters.date_from, filters.date_to))
    if units is not None:
        rows = rows.filter(source.scope(units))
    if filters.person:
        rows = rows.filter(history_user__in=_people(filters.person))
    student = (
        Cast(F(source.student_public_id), output_field=UUIDField())
        if source.student_public_id
        else Cast(Value(None), output_field=UUIDField())
    )
    # Every branch of the UNION has the same columns in the same order, with the same types, and no ordering.
    return (
        rows.order_by()
        .annotate(
            record_kind=Value(source.kind, output_field=CharField()),
            subject=Coalesce(source.subject, Value(""), output_field=CharField()),
            detail_value=Coalesce(source.detail, Value(""), output_field=CharField()),
            student_public_id=student,
        )
        .values(
            "record_kind",
            "history_id",
            "history_date",
            "history_type",
            "history_user_id",
            "subject",
            "detail_value",
            "student_public_id",
        )
    )


def changes(user: User, filters: ChangeFilters) -> QuerySet[Any]:
    """Every history row the user may audit, newest first, as dicts; slice it to read a page."""
    units = audit_units(user)
    sources = [SOURCE_BY_KIND[filters.kind]] if filters.kind in SOURCE_BY_KIND else list(SOURCES)
    first, *rest = (_source_rows(s, units, filters) for s in sources)
    merged = first.union(*rest, all=True) if rest else first
    return merged.order_by("-history_date", "-history_id")


@dataclass
class ChangeRow:
    kind: str
    kind_label: str | Promise
    history_date: dt.datetime
    history_type: str
    who: User | None
    subject: str
    detail: str
    student_public_id: Any
    changed_fields: list[str | Promise] = field(default_factory=list)

    @property
    def action(self) -> str | Promise:
        return {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}.get(self.history_type, self.history_type)


def _changed_fields(source: HistorySource, history_ids: list[int]) -> dict[int, list[str | Promise]]:
    """For "changed" rows: the names of the fields that differ from the record's previous version.

    Two queries per model, however many rows: the rows with the id of their predecessor, then the predecessors.
    """
    history = source.history()
    # The previous version is the one written before it (history ids grow with every write).
    previous = (
        history.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values("history_id")[:1]
    )
    rows = list(history.filter(history_id__in=history_ids).annotate(previous_id=Subquery(previous)))
    before = {r.history_id: r for r in history.filter(history_id__in=[r.previous_id for r in rows if r.previous_id])}
    fields = [f for f in source.model.history.model.tracked_fields if f.name not in IGNORED_FIELDS]  # type: ignore[attr-defined]
    result: dict[int, list[str | Promise]] = {}
    for row in rows:
        old = before.get(row.previous_id)
        if old is None:
            continue
        result[row.history_id] = [f.verbose_name for f in fields if getattr(row, f.attname) != getattr(old, f.attname)]
    return result


def change_rows(page: Iterable[dict[str, Any]]) -> list[ChangeRow]:
    """Turn one page of `changes()` into rows for display, with who did it and which fields changed."""
    page = list(page)
    people = User.objects.in_bulk({r["history_user_id"] for r in page if r["history_user_id"]})
    diffs: dict[tuple[str, int], list[str | Promise]] = {}
    for source in SOURCES:
        ids = [r["history_id"] for r in page if r["record_kind"] == source.kind and r["history_type"] == "~"]
        if ids:
            for history_id, names in _changed_fields(source, ids).items():
                diffs[source.kind, history_id] = names
    rows = []
    for r in page:
        source = SOURCE_BY_KIND[r["record_kind"]]
        rows.append(
            ChangeRow(
                kind=source.kind,
                kind_label=source.label,
                history_date=r["history_date"],
                history_type=r["history_type"],
                who=people.get(r["history_user_id"]),
                subject=r["subject"],
                detail=str(source.detail_labels.get(r["detail_value"], r["detail_value"])),
                student_public_id=r["student_public_id"],
                changed_fields=diffs.get((source.kind, r["history_id"]), []),
            )
        )
    return rows


def access_log(user: User, filters: AccessFilters) -> QuerySet[AccessLog]:
    """Access-log rows the user may audit, newest first.

    A row about a student belongs to the student's school; a row about no student (an export of a list)
    belongs to the school of the person who made it.
    """
    units = audit_units(user)
    rows = AccessLog.objects.select_related("actor", "student").filter(
        _date_q("at", filters.date_from, filters.date_to)
    )
    if units is not None:
        rows = rows.filter(
            Q(student__isnull=False) & unit_q(units, prefix="student__")
            | Q(student__isnull=True) & _path_q(units, "actor__unit__path")
        )
    if filters.person:
        rows = rows.filter(actor__in=_people(filters.person))
    if filters.action:
        rows = rows.filter(action=filters.action)
    return rows.order_by("-at", "-pk")


def _field_names() -> dict[str, str | Promise]:
    """Readable names of the codes callers write into an access-log row's `fields`."""
    return {
        "id_number": _("ID number"),
        "enrolment_survey": _("Enrolment survey"),
        **{f.name: f.verbose_name for f in LedgerEntry._meta.fields},
        **dict(Category.choices),
    }


def access_rows(page: Iterable[AccessLog]) -> list[AccessLog]:
    """One page of `access_log()` for display: each row gets `field_labels`; unknown codes stay as they are."""
    names = _field_names()
    rows = list(page)
    for row in rows:
        codes = [code.strip() for code in row.fields.split(",") if code.strip()]
        row.field_labels = [names.get(code, code) for code in codes]  # type: ignore[attr-defined]
    return rows
