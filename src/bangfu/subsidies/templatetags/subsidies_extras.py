"""Subsidies on other pages: the student page's box, the subsidies received on the timeline and the ledger."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.db.models import Sum
from django.utils.translation import get_language

from bangfu.organisation.permissions import Perm
from bangfu.students.models import Student
from bangfu.students.queries import student_access
from bangfu.subsidies.models import Application, ApplicationStatus
from bangfu.subsidies.queries import received, received_by_student, student_applications

register = template.Library()

SHOWN = 10


def _english() -> bool:
    return (get_language() or "").startswith("en")


@register.inclusion_tag("subsidies/_student_summary.html", takes_context=True)
def subsidy_summary(context: dict[str, Any], student: Student) -> dict[str, Any]:
    """`{% subsidy_summary student %}`: the student's applications, what was paid, and "Apply" for those who may."""
    access = student_access(context["request"].user, student)
    applications = list(student_applications(student)[:SHOWN])
    paid = Application.objects.filter(student=student, status=ApplicationStatus.PAID).aggregate(total=Sum("amount"))
    return {
        "student": student,
        "applications": applications,
        "paid_total": paid["total"],
        "can_apply": access.can(Perm.APPLY_SUBSIDY),
    }


@register.inclusion_tag("subsidies/_received.html")
def subsidies_received(student: Student) -> dict[str, Any]:
    """`{% subsidies_received student %}`: the subsidies paid to the student (type, amount, paid date)."""
    return {"rows": list(received(student))}


@register.simple_tag
def paid_subsidies(students: Iterable[Student]) -> dict[int, list[Application]]:
    """`{% paid_subsidies page as paid %}`: the subsidies paid to each student of a list page, in one query."""
    return received_by_student(students)


@register.filter
def paid_to(paid: dict[int, list[Application]], student: Student) -> list[Application]:
    """`{{ paid|paid_to:student }}`: one student's row of `paid_subsidies`."""
    return paid.get(student.pk, [])


@register.filter
def subsidy_name(application: Application) -> str:
    """The application's subsidy type in the reader's language."""
    return application.subsidy_type.display("en" if _english() else "zh-hans")


@register.filter
def yuan(amount: Decimal | int | str | None) -> str:
    """`{{ amount|yuan }}`: ¥1500.00 (always two decimals, as on the payment list)."""
    if amount in (None, ""):
        return ""
    try:
        return f"¥{Decimal(amount).quantize(Decimal('0.01'))}"
    except (InvalidOperation, TypeError, ValueError):
        return ""
