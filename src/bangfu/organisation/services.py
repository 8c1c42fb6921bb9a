"""Writes to the organisation: units, staff, grants, API tokens."""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.organisation.models import CHILD_KINDS, ApiToken, OrgUnit, Role, RoleGrant, UnitKind, User


def create_unit(*, kind: str, code: str, name: str, parent: OrgUnit | None = None, name_en: str = "") -> OrgUnit:
    code = code.strip()
    name = name.strip()
    if not code or "/" in code:
        raise ValidationError({"code": _("A unit code is required and may not contain '/'.")})
    if not name:
        raise ValidationError({"name": _("A unit name is required.")})
    if parent is None and kind not in (UnitKind.PROVINCE, UnitKind.SCHOOL):
        raise ValidationError(_("Only a school or a provincial authority can stand at the top of the tree."))
    if parent is not None and kind not in CHILD_KINDS[UnitKind(parent.kind)]:
        raise ValidationError(
            _("A %(kind)s cannot be placed under a %(parent)s.")
            % {"kind": UnitKind(kind).label, "parent": UnitKind(parent.kind).label}
        )
    path = f"{parent.path if parent else '/'}{code}/"
    if OrgUnit.objects.filter(path=path).exists():
        raise ValidationError({"code": _("There is already a unit with code %(code)s here.") % {"code": code}})
    return OrgUnit.objects.create(kind=kind, code=code, name=name, name_en=name_en, parent=parent, path=path)


def ancestors(unit: OrgUnit) -> dict[str, OrgUnit]:
    """The unit and the units above it, by kind, in one query."""
    parts = unit.path.strip("/").split("/")
    paths = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return {u.kind: u for u in OrgUnit.objects.filter(path__in=paths)}


def school_of(unit: OrgUnit) -> OrgUnit:
    return ancestors(unit)[UnitKind.SCHOOL]


@transaction.atomic
def create_staff(
    *,
    username: str,
    full_name: str,
    unit: OrgUnit,
    password: str | None = None,
    email: str = "",
    staff_number: str = "",
    roles: list[tuple[str, OrgUnit]] | None = None,
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("The user name %(name)s is taken.") % {"name": username}})
    user = User(username=username, full_name=full_name, unit=unit, email=email, staff_number=staff_number)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    for role, role_unit in roles or []:
        grant_role(user=user, role=role, unit=role_unit)
    return user


def grant_role(*, user: User, role: str, unit: OrgUnit) -> RoleGrant:
    if role not in Role.values:
        raise ValidationError(_("Unknown role: %(role)s") % {"role": role})
    grant, _created = RoleGrant.objects.get_or_create(user=user, role=role, unit=unit)
    if hasattr(user, "_bangfu_grants"):
        del user._bangfu_grants
    return grant


def create_api_token(*, user: User, name: str = "") -> str:
    """Make a token and return it; only its digest is kept, so it is shown this once."""
    token = "bf_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, digest=hashlib.sha256(token.encode()).hexdigest(), prefix=token[:8])
    return token


def revoke_api_tokens(tokens: QuerySet[ApiToken]) -> int:
    """Revoke these tokens now (kept, with the time of revocation); returns how many were still valid."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def user_for_token(token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    found = (
        ApiToken.objects.filter(digest=digest, revoked_at__isnull=True, user__is_active=True)
        .select_related("user")
        .first()
    )
    return found.user if found else None


def set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])
