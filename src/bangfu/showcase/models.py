"""Exemplary cases ("six typical cases"): stories of students who succeeded, nominated by a helper or leader,
approved and published by the employment office, shown on a public page only with the student's consent.

A consent is a record of what the student agreed to show, with the date, who recorded it and the signed form; it
is never edited: a new consent replaces the old one, and a withdrawal ends it (and unpublishes the cases).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class CaseType(models.Model):
    """A kind of exemplary case a school publishes (employment role model, self-improvement star, …)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="case_types")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "code"]
        verbose_name = _("case type")
        verbose_name_plural = _("case types")
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="case_type_code_unique")]

    def __str__(self) -> str:
        return self.name

    def display(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class ConsentPurpose(models.TextChoices):
    CASE_PUBLICATION = "case_publication", _("Publication as an exemplary case")


class NameShown(models.TextChoices):
    FULL = "full", _("Full name")
    SURNAME = "surname", _("Surname only (e.g. “Student Wang”)")
    ANONYMOUS = "anonymous", _("No name")


# The fields a consent may allow, in the order the pages list them.
CONSENT_FIELDS = (
    "show_photo",
    "show_department",
    "show_graduation_year",
    "show_employer",
    "show_story",
    "show_family",
)


class Consent(models.Model):
    """What a student agreed to show publicly, from `given_on` until withdrawn or replaced by a newer consent."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(
        _("purpose"), max_length=32, choices=ConsentPurpose.choices, default=ConsentPurpose.CASE_PUBLICATION
    )
    name_shown = models.CharField(_("name shown"), max_length=16, choices=NameShown.choices)
    show_photo = models.BooleanField(_("photo"), default=False)
    show_department = models.BooleanField(_("department and major"), default=False)
    show_graduation_year = models.BooleanField(_("graduation year"), default=False)
    show_employer = models.BooleanField(_("employer and position"), default=False)
    show_story = models.BooleanField(_("story"), default=False)
    show_family = models.BooleanField(_("family situation"), default=False)
    given_on = models.DateField(_("given on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    evidence = models.FileField(_("signed consent form"), upload_to="consents/%Y/%m/", blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_note = models.CharField(_("reason for withdrawing"), max_length=300, blank=True)
    replaced_on = models.DateField(_("replaced on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-given_on", "-created_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "purpose"],
                condition=Q(withdrawn_on__isnull=True, replaced_on__isnull=True),
                name="one_active_consent_per_purpose",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("given_on")),
                name="consent_withdrawn_after_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.given_on}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None and self.replaced_on is None

    def shown_fields(self) -> list[str]:
        """The verbose names of the fields this consent allows, for the pages."""
        return [
            str(getattr(self._meta.get_field(name), "verbose_name", name))
            for name in CONSENT_FIELDS
            if getattr(self, name)
        ]


class CaseStatus(models.TextChoices):
    NOMINATED = "nominated", _("Nominated")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    UNPUBLISHED = "unpublished", _("Unpublished")


class Case(models.Model):
    """One student's story. What the public page shows of it is decided by the linked consent, field by field."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="exemplary_cases")
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="cases", verbose_name=_("type"))
    title = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    story = models.TextField(_("story (Chinese)"))
    story_en = models.TextField(_("story (English)"), blank=True)
    family_story = models.TextField(_("family situation (Chinese)"), blank=True)
    family_story_en = models.TextField(_("family situation (English)"), blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=120, blank=True)
    photo = models.FileField(_("photo"), upload_to="cases/%Y/%m/", blank=True)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.NOMINATED)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("nominated by")
    )
    nominated_on = models.DateField(_("nominated on"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name=_("consent")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("exemplary case")
        verbose_name_plural = _("exemplary cases")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(consent__isnull=False, published_on__isnull=False),
                name="published_case_has_consent",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "published_on"]),
            models.Index(fields=["student", "status"]),
        ]

    def __str__(self) -> str:
        return self.title


class CaseStep(models.Model):
    """Who moved a case to which status, when, and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=CaseStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    on = models.DateField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "at", "id"]
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
