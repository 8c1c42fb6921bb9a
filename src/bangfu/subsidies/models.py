"""Subsidies ("four subsidies" and grants): types with eligibility rules as data, applications through
department and school approval and a public notice, yearly budgets, and payment batches."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class AmountKind(models.TextChoices):
    FIXED = "fixed", _("Fixed amount")
    CAPPED = "capped", _("Up to a cap")


class SubsidyType(models.Model):
    """A kind of subsidy a school grants, with who qualifies and how much, as data."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="subsidy_types")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    # Ledger categories that qualify (any one of them); empty: every ledger student.
    categories = models.JSONField(_("qualifying ledger categories"), default=list, blank=True)
    # Stages of help in which one may apply (see assistance.Stage); empty: any stage.
    stages = models.JSONField(_("stages in which one may apply"), default=list, blank=True)
    once_per_person = models.BooleanField(_("once per person"), default=False)
    amount_kind = models.CharField(_("amount"), max_length=8, choices=AmountKind.choices, default=AmountKind.FIXED)
    amount = models.DecimalField(_("amount or cap (yuan)"), max_digits=10, decimal_places=2)
    evidence_required = models.CharField(_("evidence required"), max_length=300, blank=True)
    receipts_required = models.BooleanField(_("receipts required"), default=False)
    public_notice_days = models.PositiveSmallIntegerField(_("working days of public notice"), default=5)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "code"]
        verbose_name = _("subsidy type")
        verbose_name_plural = _("subsidy types")
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="subsidy_type_code_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="subsidy_type_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def display(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name

    @property
    def needs_evidence(self) -> bool:
        return bool(self.evidence_required.strip())


class Budget(models.Model):
    subsidy_type = models.ForeignKey(SubsidyType, on_delete=models.CASCADE, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("budget (yuan)"), max_digits=12, decimal_places=2)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["subsidy_type", "-year"]
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        constraints = [
            models.UniqueConstraint(fields=["subsidy_type", "year"], name="one_budget_per_type_year"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.subsidy_type} {self.year}"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    DEPARTMENT_APPROVED = "department_approved", _("Approved by the department")
    SCHOOL_APPROVED = "school_approved", _("Approved by the school")
    ON_NOTICE = "on_notice", _("On public notice")
    APPROVED = "approved", _("Approved for payment")
    PAID = "paid", _("Paid")
    RETURNED = "returned", _("Returned for revision")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Statuses whose amount is committed against the year's budget.
COMMITTED = (
    ApplicationStatus.SCHOOL_APPROVED,
    ApplicationStatus.ON_NOTICE,
    ApplicationStatus.APPROVED,
    ApplicationStatus.PAID,
)
# Statuses that end an application without money.
CLOSED_WITHOUT_PAYMENT = (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN)


class Application(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="subsidy_applications")
    subsidy_type = models.ForeignKey(SubsidyType, on_delete=models.PROTECT, related_name="applications")
    year = models.PositiveSmallIntegerField(_("budget year"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    reason = models.TextField(_("reason for applying"))
    evidence = models.FileField(_("evidence"), upload_to="subsidies/%Y/%m/", blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("applied by")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_on = models.DateField(_("submitted on"), null=True, blank=True)
    notice_starts_on = models.DateField(_("public notice from"), null=True, blank=True)
    notice_ends_on = models.DateField(_("public notice until"), null=True, blank=True)
    budget_override = models.BooleanField(_("approved beyond the budget"), default=False, editable=False)
    batch = models.ForeignKey(
        "PaymentBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("subsidy application")
        verbose_name_plural = _("subsidy applications")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="application_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_on__isnull=True) | Q(status="paid"), name="paid_date_only_when_paid"
            ),
        ]
        indexes = [
            models.Index(fields=["subsidy_type", "year", "status"]),
            models.Index(fields=["student", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.subsidy_type}"


class Receipt(models.Model):
    """A receipt carried by an application (travel reimbursement)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="receipts")
    file = models.FileField(_("receipt"), upload_to="subsidies/receipts/%Y/%m/")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    description = models.CharField(_("what it is for"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} · {self.description}"


class ApplicationStep(models.Model):
    """Who moved an application to which status, when, and what they said."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(max_length=24, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=ApplicationStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    on = models.DateField()
    comment = models.TextField(blank=True)
    budget_override = models.BooleanField(default=False)

    class Meta:
        ordering = ["application", "at", "id"]
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Objection(models.Model):
    """An objection raised during the public notice, and how it was handled."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="objections")
    raised_on = models.DateField(_("raised on"))
    content = models.TextField(_("objection"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handling = models.TextField(_("how it was handled"), blank=True)
    upheld = models.BooleanField(_("objection upheld"), null=True, blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["application", "raised_on", "id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.application} · {self.raised_on}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_on is not None


class PaymentBatch(models.Model):
    """A list of approved applications handed to finance; marked paid with a date, all at once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="payment_batches")
    name = models.CharField(_("name"), max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField(_("created on"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_on", "-id"]
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")

    def __str__(self) -> str:
        return self.name
