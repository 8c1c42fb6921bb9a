from django.http import HttpRequest

from bangfu.assistance.compliance import can_view_compliance
from bangfu.imports.targets import all_targets
from bangfu.organisation.permissions import Perm, can_browse_audit, is_staff_member, is_student_user, units_with


def navigation(request: HttpRequest) -> dict[str, bool]:
    """What the menu shows; the views check access again on their own."""
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "nav_staff": is_staff_member(user),
        "nav_student": is_student_user(user),
        "nav_audit": can_browse_audit(user),
        "nav_leader": user.is_superuser or bool(units_with(user, Perm.ASSIGN_HELPER)),
        "nav_survey": user.is_superuser or bool(units_with(user, Perm.MANAGE_SURVEY)),
        "nav_compliance": can_view_compliance(user),
        "nav_policy": user.is_superuser or bool(units_with(user, Perm.MANAGE_POLICY)),
        "nav_imports": user.is_superuser or any(units_with(user, t.perm) for t in all_targets()),
        "nav_outcomes": user.is_superuser or bool(units_with(user, Perm.VIEW_STUDENT)),
    }
