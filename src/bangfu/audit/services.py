from bangfu.audit.models import AccessAction, AccessLog
from bangfu.organisation.models import User


def log_access(
    *,
    actor: User,
    action: AccessAction,
    student: object | None = None,
    fields: str = "",
    detail: str = "",
    ip_address: str | None = None,
) -> AccessLog:
    return AccessLog.objects.create(
        actor=actor, action=action, student=student, fields=fields, detail=detail[:300], ip_address=ip_address
    )
