"""Graduate destinations (毕业去向) with evidence and verification, and follow-ups after leaving.

A destination is never overwritten: a change records a new destination and closes the previous one
(`superseded_on`). At any date a student has at most one destination in force, so a figure "as of" a past date
is reproducible later: it reads what had been recorded by then.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class DestinationGroup(models.TextChoices):
    EMPLOYED = "employed", _("Employed")
    FURTHER_STUDY = "further_study", _("Further study")
    NOT_PLACED = "not_placed", _("Not placed")


PLACED_GROUPS = (DestinationGroup.EMPLOYED, DestinationGroup.FURTHER_STUDY)


class EvidenceKind(models.TextChoices):
    EMPLOYMENT_AGREEMENT = "employment_agreement", _("Employment agreement")
    LABOUR_CONTRACT = "labour_contract", _("Labour contract")
    HIRING_PROOF = "hiring_proof", _("Proof of hiring from the employer")
    ADMISSION_LETTER = "admission_letter", _("Admission letter")
    ENLISTMENT_NOTICE = "enlistment_notice", _("Enlistment notice")
    PROJECT_LETTER = "project_letter", _("Grassroots project admission")
    BUSINESS_LICENCE = "business_licence", _("Business licence")
    FREELANCE_PROOF = "freelance_proof", _("Proof of freelance work (contracts, income)")
    STUDY_ABROAD_PROOF = "study_abroad_proof", _("Offer or visa for study or work abroad")
    INTERNSHIP_CERTIFICATE = "internship_certificate", _("Internship certificate")
    OTHER = "other", _("Other document")


class DestinationCodeQuerySet(models.QuerySet["DestinationCode"]):
    def for_school(self, school_id: int, day: "object") -> "DestinationCodeQuerySet":
        """The codes a school may use on `day`: the national list and the school's own additions."""
        return self.filter(Q(school__isnull=True) | Q(school_id=school_id), valid_from__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )


class DestinationCode(models.Model):
    """One value of the destination code list. The list is versioned: a code's meaning is never edited in place;
    a new row with a later `valid_from` replaces it. Schools may add their own codes."""

    code = models.CharField(_("code"), max_length=8)
    school = models.ForeignKey(
        "organisation.OrgUnit", null=True, blank=True, on_delete=models.CASCADE, related_name="destination_codes"
    )
    label = models.CharField(_("name (Chinese)"), max_length=100)
    label_en = models.CharField(_("name (English)"), max_length=150)
    group = models.CharField(_("group"), max_length=16, choices=DestinationGroup.choices)
    flexible = models.BooleanField(_("flexible employment"), default=False)
    # Not placed and not seeking work: left out of the career-outcomes rate's denominator.
    not_seeking = models.BooleanField(_("not seeking work"), default=False)
    # Which documents can verify a destination of this code.
    evidence_kinds = models.JSONField(default=list, blank=True)
    list_version = models.CharField(_("list version"), max_length=16)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    objects = DestinationCodeQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-valid_from"]
        verbose_name = _("destination code")
        verbose_name_plural = _("destination codes")
        constraints = [
            models.UniqueConstraint(fields=["school", "code", "valid_from"], name="destination_code_version"),
            models.UniqueConstraint(
                fields=["code", "valid_from"], condition=Q(school__isnull=True), name="national_code_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    def display(self, language: str) -> str:
        return f"{self.code} {self.label_en if language == 'en' else self.label}"

    @property
    def is_placed(self) -> bool:
        return self.group in PLACED_GROUPS


class Confirmation(models.TextChoices):
    PENDING = "pending", _("Not yet confirmed by the graduate")
    CONFIRMED = "confirmed", _("Confirmed by the graduate")
    DISPUTED = "disputed", _("Disputed by the graduate")


class Destination(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="destinations")
    code = models.ForeignKey(DestinationCode, on_delete=models.PROTECT, related_name="+", verbose_name=_("destination"))
    employer = models.ForeignKey(
        "opportunities.Employer", null=True, blank=True, on_delete=models.PROTECT, related_name="destinations"
    )
    # Kept as written even when `employer` is linked, so the record reads the same after the employer changes.
    employer_name = models.CharField(_("employer or school"), max_length=200, blank=True)
    employer_type = models.CharField(_("employer type"), max_length=24, blank=True)
    industry = models.CharField(_("industry"), max_length=1, blank=True)
    position_title = models.CharField(_("position"), max_length=200, blank=True)
    work_province = models.CharField(_("province of work"), max_length=32, blank=True)
    work_city = models.CharField(_("city of work"), max_length=32, blank=True)
    started_on = models.DateField(_("start date"), null=True, blank=True)
    salary = models.PositiveIntegerField(_("starting salary (yuan a month)"), null=True, blank=True)
    matches_major = models.BooleanField(_("matches the major"), null=True, blank=True)
    employer_is_partner = models.BooleanField(_("employer is a partner of the school"), default=False)
    note = models.TextField(_("note"), blank=True)
    recorded_on = models.DateField(_("recorded on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    superseded_on = models.DateField(_("replaced on"), null=True, blank=True, editable=False)
    # The date the student was struck off the unplaced list (销号): kept across job changes, cleared by a fall
    # back to "not placed".
    placed_since = models.DateField(_("struck off the unplaced list on"), null=True, blank=True, editable=False)
    evidence = models.FileField(_("evidence"), upload_to="destinations/%Y/%m/", blank=True)
    evidence_kind = models.CharField(_("kind of evidence"), max_length=24, choices=EvidenceKind.choices, blank=True)
    verified_on = models.DateField(_("verified on"), null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    confirmation = models.CharField(
        _("graduate's confirmation"), max_length=16, choices=Confirmation.choices, default=Confirmation.PENDING
    )
    confirmation_note = models.TextField(_("graduate's comment"), blank=True)
    confirmed_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_on", "-id"]
        verbose_name = _("destination")
        verbose_name_plural = _("destinations")
        constraints = [
            models.UniqueConstraint(
                fields=["student"], condition=Q(superseded_on__isnull=True), name="one_current_destination"
            ),
            models.CheckConstraint(
                condition=Q(superseded_on__isnull=True) | Q(superseded_on__gte=models.F("recorded_on")),
                name="destination_replaced_after_recorded",
            ),
        ]
        indexes = [models.Index(fields=["student", "recorded_on"])]

    def __str__(self) -> str:
        return f"{self.student} · {self.code}"

    @property
    def is_current(self) -> bool:
        return self.superseded_on is None

    @property
    def is_verified(self) -> bool:
        return self.verified_on is not None


class FollowUpStatus(models.TextChoices):
    STILL_EMPLOYED = "still_employed", _("Still in the same job")
    CHANGED_JOB = "changed_job", _("Changed job")
    UNEMPLOYED = "unemployed", _("Unemployed")
    FURTHER_STUDY = "further_study", _("In further study")


class FollowUp(models.Model):
    """A follow-up after leaving (by default at 1, 3, 6 and 12 months): also an activity of the work ledger."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="follow_ups")
    destination = models.ForeignKey(
        Destination, null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    done_on = models.DateField(_("date"))
    months_after_leaving = models.PositiveSmallIntegerField(_("months after leaving"))
    status = models.CharField(_("situation"), max_length=16, choices=FollowUpStatus.choices)
    notes = models.TextField(_("notes"), blank=True)
    activity = models.OneToOneField(
        "assistance.Activity", on_delete=models.PROTECT, related_name="follow_up_record", null=True
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-done_on", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"{self.student} · {self.done_on} · {self.get_status_display()}"
