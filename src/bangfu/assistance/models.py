"""One-on-one help (一对一帮扶): who helps whom, from when to when."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class HelperAssignmentQuerySet(models.QuerySet["HelperAssignment"]):
    def active(self) -> "HelperAssignmentQuerySet":
        return self.filter(ended_on__isnull=True, is_primary=True)


class HelperAssignment(models.Model):
    """A named helper (帮扶责任人) for a student over a period. At most one active primary helper per student."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="helper_assignments")
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("helper"),
    )
    is_primary = models.BooleanField(default=True)
    started_on = models.DateField(_("start"))
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    handover_note = models.TextField(_("hand-over note"), blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=300, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    objects = HelperAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on"]
        verbose_name = _("helper assignment")
        verbose_name_plural = _("helper assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(ended_on__isnull=True, is_primary=True),
                name="one_active_primary_helper",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["helper", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.helper} → {self.student}"
