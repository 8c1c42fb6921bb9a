"""Read side of exemplary cases: the staff's scoped cases and consents, and the public page's cards.

Staff see a case or a consent through its student: whoever sees the student (`Student.objects.visible_to`) sees
them; anything else does not exist (404). The public page never hands a student record to a template: it builds
a `PublicCase` holding only what the consent allows, so a withheld field cannot be printed by mistake.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, has_unit_perm, staff_schools
from bangfu.showcase.models import Case, CaseStatus, CaseType, Consent
from bangfu.showcase.names import shown_name
from bangfu.students.models import Student

PAGE_SIZE = 50
PUBLIC_PAGE_SIZE = 24
S = CaseStatus


def as_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Staff -----------------------------------------------------------------------------------------------------


def office_schools(user: User) -> list[OrgUnit]:
    """The schools whose case types and publications `user` handles (the employment office)."""
    return [school for school in staff_schools(user) if has_unit_perm(user, Perm.MANAGE_POLICY, school)]


def pick_school(schools: list[OrgUnit], public_id: Any) -> OrgUnit:
    """The school chosen by `school=<public_id>` among `schools`, or the first one; any other is a 404."""
    if public_id in (None, ""):
        if not schools:
            raise Http404
        return schools[0]
    wanted = as_uuid(public_id)
    for school in schools:
        if school.public_id == wanted:
            return school
    raise Http404


def types_of(schools: list[OrgUnit]) -> QuerySet[CaseType]:
    return CaseType.objects.filter(school__in=[s.pk for s in schools]).select_related("school")


def get_type_for_user(user: User, public_id: uuid.UUID) -> CaseType:
    """A case type of a school where `user` works; 404 otherwise (the service checks the office's permission)."""
    found = types_of(staff_schools(user)).filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found


def cases_for(user: User) -> QuerySet[Case]:
    return Case.objects.filter(student__in=Student.objects.visible_to(user).values("pk")).select_related(
        "student", "student__department", "student__school", "case_type", "nominated_by"
    )


def get_case_for_user(user: User, public_id: uuid.UUID) -> Case:
    """A case of a student `user` may see; otherwise 404, whether it exists or not."""
    case = (
        cases_for(user)
        .select_related("student__major", "student__class_unit", "approved_by", "consent")
        .filter(public_id=public_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


def filter_cases(
    cases: QuerySet[Case], *, status: str | None = None, case_type: Any = None, q: str | None = None
) -> QuerySet[Case]:
    if status:
        cases = cases.filter(status=status)
    if case_type not in (None, ""):
        type_id = as_uuid(case_type)
        if type_id is None:
            return cases.none()
        cases = cases.filter(case_type__public_id=type_id)
    text = (q or "").strip()
    if text:
        cases = cases.filter(
            Q(title__icontains=text) | Q(student__name__icontains=text) | Q(student__student_number__startswith=text)
        )
    return cases


def status_counts(cases: QuerySet[Case]) -> dict[str, int]:
    """How many cases of each status, counted by the database."""
    return cases.aggregate(**{status: Count("pk", filter=Q(status=status)) for status in S.values})


def consents_of(student: Student) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(student=student)
        .select_related("recorded_by", "withdrawn_by")
        .order_by("-given_on", "-created_at", "-pk")
    )


def get_consent_for_user(user: User, public_id: uuid.UUID) -> Consent:
    consent = (
        Consent.objects.filter(student__in=Student.objects.visible_to(user).values("pk"), public_id=public_id)
        .select_related("student", "student__school")
        .first()
    )
    if consent is None:
        raise Http404
    return consent


def student_cases(student: Student) -> QuerySet[Case]:
    return Case.objects.filter(student=student).select_related("case_type").order_by("-created_at", "-pk")


# --- The public page -------------------------------------------------------------------------------------------


def public_cases() -> QuerySet[Case]:
    """Published cases under a consent in force (the services keep the two together; checked here again)."""
    return (
        Case.objects.filter(status=S.PUBLISHED, consent__withdrawn_on__isnull=True, consent__replaced_on__isnull=True)
        .select_related("case_type", "consent", "student", "student__department", "student__major", "student__school")
        .order_by("-published_on", "-pk")
    )


def public_types() -> QuerySet[CaseType]:
    """The case types with at least one published case, for the public page's filter."""
    published = public_cases().values("case_type_id")
    return CaseType.objects.filter(pk__in=published).select_related("school").order_by("school__path", "code")


def get_public_case(public_id: uuid.UUID) -> Case:
    case = public_cases().filter(public_id=public_id).first()
    if case is None:
        raise Http404
    return case


@dataclass(frozen=True)
class PublicCase:
    """What the public page may print of a case: only the consented fields, in the reader's language."""

    public_id: uuid.UUID
    type_name: str
    title: str
    name: str
    school: str
    department: str
    major: str
    graduation_year: int | None
    employer: str
    position: str
    story: str
    family_story: str
    has_photo: bool
    published_on: Any

    @property
    def excerpt(self) -> str:
        return self.story if len(self.story) <= 120 else self.story[:120].rstrip() + "…"


def _pick(language: str, chinese: str, english: str) -> str:
    return english if language == "en" and english.strip() else chinese


def public_card(case: Case, language: str) -> PublicCase:
    consent = case.consent
    assert consent is not None  # a published case always has one (database constraint)
    student = case.student
    return PublicCase(
        public_id=case.public_id,
        type_name=case.case_type.display(language),
        title=_pick(language, case.title, case.title_en),
        name=shown_name(student.name, consent.name_shown, language),
        school=student.school.display_name(language),
        department=student.department.display_name(language) if consent.show_department else "",
        major=student.major.display_name(language) if consent.show_department else "",
        graduation_year=student.expected_graduation.year if consent.show_graduation_year else None,
        employer=case.employer if consent.show_employer else "",
        position=case.position if consent.show_employer else "",
        story=_pick(language, case.story, case.story_en) if consent.show_story else "",
        family_story=_pick(language, case.family_story, case.family_story_en) if consent.show_family else "",
        has_photo=bool(case.photo) and consent.show_photo,
        published_on=case.published_on,
    )
