"""Students and the disadvantaged-student ledger (困难群体学生台账)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bangfu.organisation.models import OrgUnit


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Level(models.TextChoices):
    VOCATIONAL = "vocational", _("Vocational (3-year)")
    BACHELOR = "bachelor", _("Bachelor (4-year)")
    MASTER = "master", _("Master")


class StudentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    SUSPENDED = "suspended", _("Suspended")
    GRADUATED = "graduated", _("Graduated")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Category(models.TextChoices):
    POVERTY_ALLEVIATED = "poverty_alleviated", _("Household lifted out of poverty (formerly registered poor)")
    SUBSISTENCE_ALLOWANCE = "subsistence_allowance", _("Minimum-living-allowance household")
    ZERO_EMPLOYMENT = "zero_employment", _("Household with no employed member")
    DISABLED = "disabled", _("Student with a disability")
    EXTREME_POVERTY = "extreme_poverty", _("State-supported extreme poverty")
    ORPHAN = "orphan", _("Orphan")
    DISABLED_PARENT = "disabled_parent", _("Child of disabled parent(s)")
    ETHNIC_MINORITY = "ethnic_minority", _("Ethnic minority")
    RURAL = "rural", _("From a rural home")
    STUDENT_LOAN = "student_loan", _("Holds a national student loan")
    LONG_UNEMPLOYED = "long_unemployed", _("Still unemployed long after leaving")
    SCHOOL_IDENTIFIED = "school_identified", _("Hardship identified by the school")


class HardshipLevel(models.TextChoices):
    SPECIAL = "special", _("Special hardship")
    HARDSHIP = "hardship", _("Hardship")
    GENERAL = "general", _("General hardship")


class DisabilityLevel(models.TextChoices):
    GRADE_1 = "1", _("Grade 1")
    GRADE_2 = "2", _("Grade 2")
    GRADE_3 = "3", _("Grade 3")
    GRADE_4 = "4", _("Grade 4")


class LedgerSource(models.TextChoices):
    SURVEY = "survey", _("Enrolment survey")
    REVIEW = "review", _("Semester review")
    SELF_REPORT = "self_report", _("Self-report")
    IMPORT = "import", _("Imported ledger")


class StudentQuerySet(models.QuerySet["Student"]):
    def visible_to(self, user: "settings.AUTH_USER_MODEL", perm: str = "view_student") -> "StudentQuerySet":
        from bangfu.organisation.permissions import Perm, student_q

        return self.filter(student_q(user, Perm(perm)))

    def in_ledger(self) -> "StudentQuerySet":
        return self.filter(ledger_entries__left_on__isnull=True)


class Student(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The class is the student's place in the tree; school and department are kept beside it because
    # every scope filter and every department figure reads them.
    school = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", editable=False)
    department = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", editable=False)
    major = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", editable=False)
    class_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="students", verbose_name=_("class"))
    student_number = models.CharField(_("student number"), max_length=32)
    name = models.CharField(_("name"), max_length=64)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=32, blank=True, default="汉族")
    id_number_cipher = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    home_province = models.CharField(_("home province"), max_length=32, blank=True)
    home_city = models.CharField(_("home city"), max_length=32, blank=True)
    home_county = models.CharField(_("home county"), max_length=32, blank=True)
    address = models.CharField(_("home address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.VOCATIONAL)
    program_years = models.PositiveSmallIntegerField(_("programme length (years)"), default=3)
    cohort = models.PositiveSmallIntegerField(_("cohort (enrolment year)"))
    enrolled_on = models.DateField(_("enrolment date"))
    expected_graduation = models.DateField(_("expected graduation"))
    status = models.CharField(_("status"), max_length=16, choices=StudentStatus.choices, default=StudentStatus.ENROLLED)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="student_record",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["id_number_cipher", "id_number_hash"])

    objects = StudentQuerySet.as_manager()

    class Meta:
        ordering = ["student_number"]
        verbose_name = _("student")
        verbose_name_plural = _("students")
        constraints = [
            models.UniqueConstraint(fields=["school", "student_number"], name="student_number_unique_in_school"),
            models.UniqueConstraint(
                fields=["school", "id_number_hash"],
                condition=~Q(id_number_hash=""),
                name="student_id_number_unique_in_school",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "cohort"]),
            models.Index(fields=["school", "cohort"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.student_number})"


class LedgerEntry(models.Model):
    """A spell of membership of the ledger; leaving closes it, re-joining opens a new one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="ledger_entries")
    source = models.CharField(_("source"), max_length=16, choices=LedgerSource.choices, default=LedgerSource.SURVEY)
    hardship_level = models.CharField(_("hardship level"), max_length=16, choices=HardshipLevel.choices, blank=True)
    disability_level = models.CharField(
        _("disability level"), max_length=2, choices=DisabilityLevel.choices, blank=True
    )
    family_situation = models.TextField(_("family situation"), blank=True)
    intends_to_work = models.BooleanField(_("intends to work"), default=True)
    joined_on = models.DateField(_("joined on"))
    join_reason = models.CharField(_("reason for joining"), max_length=300)
    joined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    left_on = models.DateField(_("left on"), null=True, blank=True)
    leave_reason = models.CharField(_("reason for leaving"), max_length=300, blank=True)
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-joined_on"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(left_on__isnull=True),
                name="one_open_ledger_entry_per_student",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="ledger_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.joined_on}"

    @property
    def is_open(self) -> bool:
        return self.left_on is None


class LedgerCategory(models.Model):
    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="categories")
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    evidence = models.FileField(_("evidence"), upload_to="evidence/%Y/%m/", blank=True)
    verified_on = models.DateField(_("verified on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("ledger category")
        verbose_name_plural = _("ledger categories")
        constraints = [
            models.UniqueConstraint(fields=["entry", "category"], name="ledger_category_unique"),
        ]

    def __str__(self) -> str:
        return self.get_category_display()
