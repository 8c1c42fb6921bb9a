"""Staff members and their roles (教职工名单): leaders, the employment office, counsellors, teachers.

A row is matched to a user by user name (the staff number when the file has no user names). A new one is
created through `create_staff` with no usable password (they set one through the password reset); a known one
gets the name, unit, phone and e-mail the row gives, and the role if they do not hold it yet. Roles are only
ever added: taking a role away is done on the staff page, where it is seen. The unit is the deepest of the
department, major and class the row names (the school when none); the actor needs MANAGE_STAFF on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bangfu.imports import normalise as norm
from bangfu.imports.headers import Field
from bangfu.imports.orgtree import Tree
from bangfu.imports.targets import Row, Run, Target, register
from bangfu.organisation.models import OrgUnit, Role, RoleGrant, User
from bangfu.organisation.permissions import Perm
from bangfu.organisation.services import create_staff, grant_role

FIELDS = (
    Field("staff_number", gettext_lazy("Staff number"), "工号", "Staff No.", ("职工号", "教工号", "Staff number"),
          example="T2024001"),
    Field("full_name", gettext_lazy("Name"), "姓名", "Name", ("教师姓名", "Full name"), required=True,
          example="张老师"),
    Field("username", gettext_lazy("User name"), "用户名", "User name", ("账号", "登录名", "Username", "Login")),
    Field("department", gettext_lazy("Department"), "院系", "Department", ("学院", "所在院系", "系部", "部门")),
    Field("major", gettext_lazy("Major"), "专业", "Major", ()),
    Field("class_unit", gettext_lazy("Class"), "班级", "Class", ("负责班级",)),
    Field("role", gettext_lazy("Role"), "角色", "Role", ("职务", "岗位", "身份"), required=True, example="辅导员"),
    Field("phone", gettext_lazy("Phone"), "手机号", "Phone", ("联系电话", "手机", "电话", "Mobile")),
    Field("email", gettext_lazy("E-mail"), "邮箱", "E-mail", ("电子邮箱", "Email")),
)  # fmt: skip

_ROLE_WORDS = {
    "校领导": Role.SCHOOL_LEADER,
    "校长": Role.SCHOOL_LEADER,
    "副校长": Role.SCHOOL_LEADER,
    "就业办": Role.EMPLOYMENT_OFFICE,
    "就业处": Role.EMPLOYMENT_OFFICE,
    "招生就业处": Role.EMPLOYMENT_OFFICE,
    "就业指导中心": Role.EMPLOYMENT_OFFICE,
    "院系领导": Role.DEPARTMENT_LEADER,
    "系主任": Role.DEPARTMENT_LEADER,
    "院长": Role.DEPARTMENT_LEADER,
    "书记": Role.DEPARTMENT_LEADER,
    "党总支书记": Role.DEPARTMENT_LEADER,
    "辅导员": Role.COUNSELLOR,
    "教师": Role.TEACHER,
    "专任教师": Role.TEACHER,
    "班主任": Role.TEACHER,
    "专业带头人": Role.TEACHER,
}


@dataclass
class Record:
    row: int
    username: str
    full_name: str
    staff_number: str
    unit: OrgUnit
    role: str
    phone: str | None
    email: str | None


@dataclass
class Plan:
    new: list[Record] = field(default_factory=list)
    changed: list[tuple[Record, User, dict[str, object], bool]] = field(default_factory=list)


class StaffTarget(Target):
    name = "staff"
    label = gettext_lazy("Staff and their roles")
    fields = FIELDS
    perm = Perm.MANAGE_STAFF

    def parse(self, run: Run, rows: list[Row]) -> list[Record]:
        tree = Tree(run.school)
        roles = {**norm.labels(Role), **{norm.key(w): str(r) for w, r in _ROLE_WORDS.items()}}
        roles.pop(norm.key(Role.STUDENT), None)
        validate_username = User.username_validator
        records: list[Record] = []
        seen: dict[str, int] = {}
        for row in rows:
            cells = row.cells
            errors: dict[str, str] = {}
            full_name = norm.name(cells.get("full_name"))
            staff_number = norm.code(cells.get("staff_number"))
            username = norm.code(cells.get("username")) or staff_number
            if not full_name:
                errors["full_name"] = _("A name is required.")
            if not username:
                errors["username" if "username" in cells else "staff_number"] = _("Give a user name or a staff number.")
            else:
                try:
                    validate_username(username)
                except ValidationError as e:
                    errors["username" if "username" in cells else "staff_number"] = " ".join(e.messages)
            role = roles.get(norm.key(cells.get("role")))
            if role is None:
                errors["role"] = _("“%(value)s” is not a role: write 校领导, 就业办, 院系领导, 辅导员 or 教师.") % {
                    "value": norm.text(cells.get("role"))
                }
            unit: OrgUnit = run.school
            if not norm.blank(cells.get("class_unit")):
                place, place_errors = tree.place(
                    department=cells.get("department"),
                    major=cells.get("major"),
                    klass=cells.get("class_unit"),
                    create=False,
                )
                errors.update(place_errors)
                unit = place if isinstance(place, OrgUnit) else run.school
            elif not norm.blank(cells.get("department")):
                try:
                    unit = tree.department(cells.get("department"))
                except norm.Invalid as e:
                    errors["department"] = str(e)
                if not errors and not norm.blank(cells.get("major")):
                    found = [
                        u
                        for u in tree.units.values()
                        if u.parent_id == unit.pk and norm.key(u.name) == norm.key(cells.get("major"))
                    ]
                    if found:
                        unit = found[0]
                    else:
                        errors["major"] = _("Unknown major “%(name)s”%(where)s.") % {
                            "name": norm.text(cells.get("major")),
                            "where": _(" in %(unit)s") % {"unit": unit.name},
                        }
            phone = email = None
            if not norm.blank(cells.get("phone")):
                try:
                    phone = norm.phone(cells.get("phone"))
                except norm.Invalid as e:
                    errors["phone"] = str(e)
            if not norm.blank(cells.get("email")):
                email = norm.code(cells.get("email")).lower()
                if "@" not in email:
                    errors["email"] = _("“%(value)s” is not an e-mail address.") % {"value": email}
            if username and not errors:
                first = seen.setdefault(username, row.number)
                if first != row.number:
                    errors["username" if "username" in cells else "staff_number"] = _(
                        "%(name)s is also on row %(row)d."
                    ) % {"name": username, "row": first}
            for key, message in errors.items():
                run.problem(row.number, key, message)
            if not errors:
                records.append(Record(row.number, username, full_name, staff_number, unit, str(role), phone, email))
        return records

    def plan(self, run: Run, records: list[Record]) -> Plan:
        plan = Plan()
        users = {u.username: u for u in User.objects.filter(username__in=[r.username for r in records])}
        grants = set(RoleGrant.objects.filter(user__in=users.values()).values_list("user_id", "role", "unit_id"))
        for record in records:
            if not run.may(Perm.MANAGE_STAFF, record.unit):
                run.problem(
                    record.row,
                    "department",
                    _("You may not manage the staff of %(unit)s.") % {"unit": record.unit.name},
                )
                continue
            user = users.get(record.username)
            if user is None:
                plan.new.append(record)
                run.counts.created += 1
                continue
            if user.unit is None or not run.school.covers(user.unit):  # someone of another school, or no staff
                run.problem(
                    record.row,
                    "username" if record.username != record.staff_number else "staff_number",
                    _("The user name %(name)s is taken.") % {"name": record.username},
                )
                continue
            changes: dict[str, object] = {}
            for name, value in (
                ("full_name", record.full_name),
                ("staff_number", record.staff_number or user.staff_number),
                ("unit_id", record.unit.pk),
                ("phone", record.phone if record.phone is not None else user.phone),
                ("email", record.email if record.email is not None else user.email),
            ):
                if getattr(user, name) != value:
                    changes[name] = value
            new_grant = (user.pk, record.role, record.unit.pk) not in grants
            if changes or new_grant:
                plan.changed.append((record, user, changes, new_grant))
                run.counts.updated += 1
            else:
                run.counts.unchanged += 1
        return plan

    @transaction.atomic
    def write(self, run: Run, plan: Plan) -> None:
        # Staff files hold hundreds of rows, not thousands: each goes through the organisation services.
        for record in plan.new:
            create_staff(
                username=record.username,
                full_name=record.full_name,
                unit=record.unit,
                email=record.email or "",
                staff_number=record.staff_number,
                roles=[(record.role, record.unit)],
            )
            if record.phone:
                User.objects.filter(username=record.username).update(phone=record.phone)
        for record, user, changes, new_grant in plan.changed:
            if changes:
                User.objects.filter(pk=user.pk).update(**changes)
            if new_grant:
                grant_role(user=user, role=record.role, unit=record.unit)


register(StaffTarget)
