"""The organisation tree (province → school → department → major → class), people and role grants."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Provincial authority")
    SCHOOL = "school", _("School")
    DEPARTMENT = "department", _("Department")
    MAJOR = "major", _("Major")
    CLASS = "class", _("Class")


# Which kind of unit may sit under which.
CHILD_KINDS = {
    UnitKind.PROVINCE: {UnitKind.SCHOOL},
    UnitKind.SCHOOL: {UnitKind.DEPARTMENT},
    UnitKind.DEPARTMENT: {UnitKind.MAJOR},
    UnitKind.MAJOR: {UnitKind.CLASS},
    UnitKind.CLASS: set(),
}


def unit_display_name(name: str, name_en: str, language: str) -> str:
    """A unit's name in `language`: the English name in English when there is one."""
    return name_en if language == "en" and name_en else name


class OrgUnit(models.Model):
    """A node of the organisation tree; `path` is the materialised chain of codes, e.g. `/DEMO/CS/SE/SE2101/`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        constraints = [
            models.UniqueConstraint(fields=["parent", "code"], name="orgunit_code_unique_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str) -> str:
        return unit_display_name(self.name, self.name_en, language)

    def covers(self, other: "OrgUnit") -> bool:
        return other.path.startswith(self.path)


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class User(AbstractUser):
    """A person who logs in: staff member or student. Names are kept whole (王小明), not split."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    staff_number = models.CharField(_("staff number"), max_length=32, blank=True)
    unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("home unit"),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username


class Role(models.TextChoices):
    SCHOOL_LEADER = "school_leader", _("School leader")
    EMPLOYMENT_OFFICE = "employment_office", _("Employment office")
    DEPARTMENT_LEADER = "department_leader", _("Department leader")
    COUNSELLOR = "counsellor", _("Counsellor")
    TEACHER = "teacher", _("Teacher")
    STUDENT = "student", _("Student")


class RoleGrant(models.Model):
    """A role held on an org unit; it covers the unit's whole subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="grants", verbose_name=_("unit"))
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="rolegrant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
