"""`{% work_ledger student %}`: the student page's box for help and plan (progress, timeline, log an activity)."""

from typing import Any

from django import template

from bangfu.assistance.labels import progress_context
from bangfu.assistance.models import StudentProgress
from bangfu.organisation.permissions import Perm
from bangfu.students.models import Student
from bangfu.students.queries import student_access

register = template.Library()


@register.inclusion_tag("assistance/_student_work.html", takes_context=True)
def work_ledger(context: dict[str, Any], student: Student) -> dict[str, Any]:
    access = student_access(context["request"].user, student)
    return {
        **progress_context(StudentProgress.objects.filter(student=student).first()),
        "student": student,
        "can_log": access.can(Perm.LOG_ACTIVITY),
    }
