"""Students and the disadvantaged-student ledger (困难群体学生台账)."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
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
        open_entry = LedgerEntry.objects.filter(student=models.OuterRef("pk"), left_on__isnull=True)
        return self.filter(models.Exists(open_entry))


class Student(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The class is the student's place in the tree; school and department are kept beside it because
    # every scope filter and every department figure reads them. Their indexes are the (school, …) and
    # (department, cohort) ones below: a one-column index beside them would only slow every insert.
    school = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False)
    department = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False)
    major = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", editable=False)
    class_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="students", verbose_name=_("class"))
    student_number = models.CharField(_("student number"), max_length=32)
    name = models.CharField(_("name"), max_length=64)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=32, blank=True, default="汉族")
    id_number_cipher = models.TextField(blank=True, editable=False)
    # Looked up within a school only: the unique (school, hash) index serves it.
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
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
    # History is read per record (by id) and by date; the other columns need no index there.
    history = HistoricalRecords(
        excluded_fields=["id_number_cipher", "id_number_hash"],
        no_db_index=["public_id", "school", "department", "major", "class_unit", "user"],
    )

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
            # A school's graduates of a year (outcomes.queries.graduates_of): every placement figure, the
            # recommendations of a cohort and the years offered by the placement pages start from it.
            models.Index(fields=["school", "expected_graduation"]),
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
    history = HistoricalRecords(no_db_index=["public_id", "joined_by", "left_by"])

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
    # The unique (entry, category) index starts with the entry: it serves the foreign key too.
    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="categories", db_index=False)
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


# --- Enrolment survey (入学普查) -------------------------------------------------------------------------------


class SurveyStatus(models.TextChoices):
    NOT_FLAGGED = "not_flagged", _("Not flagged")
    CANDIDATE = "candidate", _("Candidate")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class SurveyAnswer(models.TextChoices):
    """The answers a rule can read: yes/no answers, and income figures compared with a threshold."""

    POVERTY_ALLEVIATED = "poverty_alleviated", _("Household registered poor or lifted out of poverty")
    SUBSISTENCE_ALLOWANCE = "subsistence_allowance", _("Household receives the minimum living allowance")
    NO_EMPLOYED_MEMBER = "no_employed_member", _("No member of the household is employed")
    STUDENT_DISABLED = "student_disabled", _("The student has a disability")
    PARENT_DISABLED = "parent_disabled", _("A parent has a disability")
    ORPHAN = "orphan", _("The student is an orphan")
    EXTREME_POVERTY = "extreme_poverty", _("Household receives extreme-poverty support")
    RURAL_HOME = "rural_home", _("Home is in a rural area")
    STUDENT_LOAN = "student_loan", _("The student holds a national student loan")
    INCOME_PER_HEAD = "income_per_head", _("Annual household income per head (yuan)")
    ANNUAL_INCOME = "annual_income", _("Annual household income (yuan)")


# Answers compared with a rule's threshold ("below N yuan"); every other answer is yes/no.
NUMERIC_ANSWERS = frozenset({SurveyAnswer.INCOME_PER_HEAD, SurveyAnswer.ANNUAL_INCOME})


class EnrolmentSurvey(models.Model):
    """One student's answers to the enrolment survey and the decision on the categories they suggest."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.OneToOneField(Student, on_delete=models.CASCADE, related_name="survey")
    poverty_alleviated = models.BooleanField(SurveyAnswer.POVERTY_ALLEVIATED.label, default=False)
    subsistence_allowance = models.BooleanField(SurveyAnswer.SUBSISTENCE_ALLOWANCE.label, default=False)
    no_employed_member = models.BooleanField(SurveyAnswer.NO_EMPLOYED_MEMBER.label, default=False)
    student_disabled = models.BooleanField(SurveyAnswer.STUDENT_DISABLED.label, default=False)
    disability_level = models.CharField(
        _("disability level"), max_length=2, choices=DisabilityLevel.choices, blank=True
    )
    parent_disabled = models.BooleanField(SurveyAnswer.PARENT_DISABLED.label, default=False)
    orphan = models.BooleanField(SurveyAnswer.ORPHAN.label, default=False)
    extreme_poverty = models.BooleanField(SurveyAnswer.EXTREME_POVERTY.label, default=False)
    rural_home = models.BooleanField(SurveyAnswer.RURAL_HOME.label, default=False)
    student_loan = models.BooleanField(SurveyAnswer.STUDENT_LOAN.label, default=False)
    household_size = models.PositiveSmallIntegerField(_("household size"), null=True, blank=True)
    annual_income = models.DecimalField(
        _("annual household income (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    notes = models.TextField(_("family situation and notes"), blank=True)
    # What the rules suggested when the answers were last saved.
    flagged_categories = models.JSONField(_("flagged categories"), default=list, blank=True)
    suggested_hardship_level = models.CharField(
        _("suggested hardship level"), max_length=16, choices=HardshipLevel.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.NOT_FLAGGED, db_index=True
    )
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("filled by")
    )
    filled_at = models.DateTimeField(_("filled at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=300, blank=True)
    ledger_entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("enrolment survey")
        verbose_name_plural = _("enrolment surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(household_size__isnull=True) | Q(household_size__gte=1),
                name="survey_household_size_positive",
            ),
            models.CheckConstraint(
                condition=Q(annual_income__isnull=True) | Q(annual_income__gte=0),
                name="survey_income_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.get_status_display()}"

    @property
    def income_per_head(self) -> "Decimal | None":
        if self.annual_income is None or not self.household_size:
            return None
        return (self.annual_income / self.household_size).quantize(Decimal("0.01"))

    def flagged_category_labels(self) -> list[str]:
        return [str(Category(c).label) for c in self.flagged_categories if c in Category.values]


class SurveyRule(models.Model):
    """A school's rule: an answer in the survey suggests a ledger category (for income: below a threshold)."""

    school = models.ForeignKey(
        OrgUnit,
        on_delete=models.CASCADE,
        related_name="survey_rules",
        limit_choices_to={"kind": "school"},
        verbose_name=_("school"),
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    answer_field = models.CharField(_("answer"), max_length=32, choices=SurveyAnswer.choices)
    threshold = models.DecimalField(
        _("threshold (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Only for income answers: the rule applies when the income is below this amount."),
    )
    hardship_level = models.CharField(
        _("suggested hardship level"),
        max_length=16,
        choices=HardshipLevel.choices,
        blank=True,
        help_text=_("Suggested when this rule applies; the most severe level among the rules that apply wins."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "category", "answer_field", "threshold"]
        verbose_name = _("survey rule")
        verbose_name_plural = _("survey rules")

    def __str__(self) -> str:
        return f"{self.get_answer_field_display()} → {self.get_category_display()}"

    def clean(self) -> None:
        if self.answer_field in NUMERIC_ANSWERS and self.threshold is None:
            raise ValidationError({"threshold": _("An income rule needs a threshold.")})
        if self.answer_field not in NUMERIC_ANSWERS and self.threshold is not None:
            raise ValidationError({"threshold": _("Only income rules have a threshold.")})
        if self.threshold is not None and self.threshold <= 0:
            raise ValidationError({"threshold": _("The threshold must be more than zero.")})
