"""`{% destination_summary student %}`: the student page's box for the graduate's destination."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from bangfu.outcomes.models import Destination
from bangfu.students.models import Student

register = template.Library()

# The box appears from a year before graduation (the job-search stage), or as soon as a destination exists.
SHOWN_BEFORE_GRADUATION = dt.timedelta(days=366)


@register.inclusion_tag("outcomes/_summary.html")
def destination_summary(student: Student) -> dict[str, Any]:
    current = Destination.objects.filter(student=student, superseded_on__isnull=True).select_related("code").first()
    soon = student.expected_graduation - SHOWN_BEFORE_GRADUATION <= timezone.localdate()
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return {
        "student": student,
        "current": current,
        "code_shown": current.code.display(language) if current else "",
        "shown": current is not None or soon,
    }
