from typing import TYPE_CHECKING

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.organisation.models import User

if TYPE_CHECKING:
    from bangfu.students.models import Student


def log_access(
    *,
    actor: User,
    action: AccessAction,
    student: "Student | None" = None,
    fields: str = "",
    detail: str = "",
    ip_address: str | None = None,
) -> AccessLog:
    return AccessLog.objects.create(
        actor=actor, action=action, student=student, fields=fields, detail=detail[:300], ip_address=ip_address
    )
