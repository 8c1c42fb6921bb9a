"""What the data-safety commands leave behind: a record of each anonymisation run and of who it covered."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnonymisationRun(models.Model):
    """One run of `bangfu anonymise_expired`: when, by whom, under which rule, and how many per school and cohort."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The operating-system account that ran the command (cron runs it without a Bangfu user).
    run_by = models.CharField(_("run by"), max_length=100, blank=True)
    today = models.DateField(_("day judged"))
    retention_years = models.PositiveSmallIntegerField(_("retention (years)"))
    cutoff = models.DateField(_("follow-up ended before"))
    anonymised = models.PositiveIntegerField(_("students anonymised"), default=0)
    # {"<school code>": {"<cohort>": count}}: the statistics of who was anonymised, without identifying anyone.
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("anonymisation run")
        verbose_name_plural = _("anonymisation runs")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} · {self.anonymised}"


class AnonymisedStudent(models.Model):
    """Marks a student as anonymised, so a second run leaves them alone (the command is idempotent)."""

    student = models.OneToOneField(
        "students.Student", on_delete=models.CASCADE, primary_key=True, related_name="anonymisation"
    )
    run = models.ForeignKey(AnonymisationRun, on_delete=models.PROTECT, related_name="students")
    anonymised_at = models.DateTimeField(_("anonymised at"))
    follow_up_ended_on = models.DateField(_("follow-up ended on"))

    class Meta:
        verbose_name = _("anonymised student")
        verbose_name_plural = _("anonymised students")

    def __str__(self) -> str:
        return f"{self.student_id} · {self.anonymised_at:%Y-%m-%d}"
