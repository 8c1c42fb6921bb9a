"""In-app notifications, the reminders they carry, and how often each person wants an e-mail digest.

A reminder is one item a person was told about (a student's next due action, a late student, a late helper) in
one period; the unique key (user, item, period) is what makes the daily job safe to run twice.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.labels import next_due_text, risk_reason_text
from bangfu.assistance.models import Metric, RiskLevel


class DigestFrequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week, on Monday")
    NEVER = "never", _("Never: in the app only")


DEFAULT_DIGEST = DigestFrequency.DAILY


class NotificationPreference(models.Model):
    """How often a person receives the e-mail digest; people without a row get DEFAULT_DIGEST."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest = models.CharField(_("e-mail digest"), max_length=8, choices=DigestFrequency.choices, default=DEFAULT_DIGEST)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user} · {self.digest}"


class Notification(models.Model):
    """What the daily job told one person on one day: the new reminders since the last time."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_notification_per_user_and_day")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.day}"


class ReminderKind(models.TextChoices):
    DUE = "due", _("Due this week")
    LATE = "late", _("Late or at risk")
    LATE_HELPER = "late_helper", _("Helper with late students")


class Reminder(models.Model):
    """One item in a notification, with the figures as they stood when the person was told."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # e.g. "due:41:check_in", "late:41", "late_helper:7"; the period is a due date or an ISO week ("2024-W12").
    item = models.CharField(max_length=64)
    period = models.CharField(max_length=10)
    student = models.ForeignKey("students.Student", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    metric = models.CharField(max_length=32, choices=Metric.choices, blank=True)
    due_on = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(default=0)  # overdue items (late) or late students (late helper)
    at_risk = models.PositiveIntegerField(default=0)  # students at risk among them (late helper)
    risk = models.PositiveSmallIntegerField(choices=RiskLevel.choices, default=RiskLevel.NONE)
    reasons = models.JSONField(default=list, blank=True)  # the student's risk reasons (codes and numbers)

    class Meta:
        ordering = ["kind", "due_on", "id"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["user", "item", "period"], name="one_reminder_per_item_and_period")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.item} · {self.period}"

    @property
    def due_text(self) -> str:
        return next_due_text(self.metric, self.due_on)

    @property
    def reason_texts(self) -> list[str]:
        return [risk_reason_text(r) for r in self.reasons]


class DigestMail(models.Model):
    """An e-mail digest sent (or being sent) to one person for one period: a day or an ISO week."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=10)
    frequency = models.CharField(max_length=8, choices=DigestFrequency.choices)
    items = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("digest e-mail")
        verbose_name_plural = _("digest e-mails")
        constraints = [models.UniqueConstraint(fields=["user", "period"], name="one_digest_per_user_and_period")]

    def __str__(self) -> str:
        return f"{self.user} · {self.period}"
