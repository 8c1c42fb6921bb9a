"""The five employment promotion tracks (plus entrepreneurship): track types with their milestones as data, per
school; a student's enrolment on a track; and each milestone reached, with its date.

A track type's `milestones` is an ordered list of steps, e.g. public exam: registered → written exam → interview →
admitted / not admitted. Each item is `{"code", "label", "label_en", "final", "outcome"}`: the steps come first
(`final` false, `outcome` null), the final milestones last (`final` true, `outcome` "success" or "failure"); reaching
a final milestone closes the enrolment with its outcome.
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Outcome(models.TextChoices):
    NONE = "", _("Open")
    SUCCESS = "success", _("Succeeded")
    FAILURE = "failure", _("Did not succeed")


def _label(item: dict[str, Any], language: str) -> str:
    english = language.startswith("en")
    return str((item.get("label_en") if english else "") or item.get("label") or item.get("code") or "")


class TrackType(models.Model):
    """A track a school runs (签约护航, 考公考编, …), its milestones and, where it has them, its programmes."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="track_types")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position in lists"), default=0)
    # [{"code": "registered", "label": "报名", "label_en": "Registered", "final": false, "outcome": null}, ...]
    milestones = models.JSONField(_("milestones"), default=list)
    # The programmes a student joins the track through (西部计划, 三支一扶, …): [{"code", "label", "label_en"}].
    # Empty: the track has none, and an enrolment names none.
    programmes = models.JSONField(_("programmes"), default=list, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "position", "code"]
        verbose_name = _("track type")
        verbose_name_plural = _("track types")
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="track_type_code_unique")]

    def __str__(self) -> str:
        return self.name

    def display(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name

    def milestone(self, code: str) -> dict[str, Any] | None:
        return next((m for m in self.milestones if m.get("code") == code), None)

    def milestone_label(self, code: str, language: str) -> str:
        found = self.milestone(code)
        return _label(found, language) if found else code

    def programme_label(self, code: str, language: str) -> str:
        found = next((p for p in self.programmes if p.get("code") == code), None)
        return _label(found, language) if found else code

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The milestones that are not final, in order."""
        return [m for m in self.milestones if not m.get("final")]

    @property
    def finals(self) -> list[dict[str, Any]]:
        return [m for m in self.milestones if m.get("final")]


class TrackEnrolmentQuerySet(models.QuerySet["TrackEnrolment"]):
    def open(self) -> "TrackEnrolmentQuerySet":
        return self.filter(left_on__isnull=True)


class TrackEnrolment(models.Model):
    """A student on a track, from joining until a final milestone closes it or the student leaves it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="track_enrolments")
    track = models.ForeignKey(TrackType, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("track"))
    programme = models.CharField(_("programme"), max_length=32, blank=True)
    joined_on = models.DateField(_("joined on"))
    joined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The last milestone reached ("" before the first), kept here so lists and counts never scan the records.
    current_milestone = models.CharField(_("current milestone"), max_length=32, blank=True)
    current_reached_on = models.DateField(_("reached on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, blank=True)
    # Set when a final milestone closes the enrolment (its date) or when the student leaves the track.
    left_on = models.DateField(_("left on"), null=True, blank=True)
    left_reason = models.CharField(_("reason for leaving"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    objects = TrackEnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["-joined_on", "-id"]
        verbose_name = _("track enrolment")
        verbose_name_plural = _("track enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "track"], condition=Q(left_on__isnull=True), name="one_open_enrolment_per_track"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")), name="track_left_after_joined"
            ),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(left_on__isnull=False), name="track_outcome_only_when_closed"
            ),
        ]
        indexes = [models.Index(fields=["track", "left_on", "current_milestone"])]

    def __str__(self) -> str:
        return f"{self.student} · {self.track}"

    @property
    def is_open(self) -> bool:
        return self.left_on is None

    @property
    def completed(self) -> bool:
        """Closed by a final milestone (rather than left with a reason)."""
        return bool(self.outcome)


class MilestoneRecord(models.Model):
    """One milestone reached on an enrolment: which, on what day, who recorded it and a note."""

    enrolment = models.ForeignKey(TrackEnrolment, on_delete=models.CASCADE, related_name="records")
    milestone = models.CharField(_("milestone"), max_length=32)
    reached_on = models.DateField(_("reached on"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrolment", "reached_on", "id"]
        verbose_name = _("milestone reached")
        verbose_name_plural = _("milestones reached")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "milestone"], name="milestone_once_per_enrolment"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} · {self.milestone} · {self.reached_on}"
