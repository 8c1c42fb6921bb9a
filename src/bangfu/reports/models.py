"""An export job: a large spreadsheet export written by the background worker for its requester to download."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to run")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


FINISHED = frozenset({ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED})


class ExportJob(models.Model):
    """What was asked (kind, parameters, language) and how far the worker got. The file lives in the export
    directory under the job's public id; only the requester can see the job or download it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("requested by")
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    kind = models.CharField(_("export"), max_length=32)
    params = models.JSONField(default=dict)  # the filters and options, as the export's builder takes them
    language = models.CharField(max_length=8)  # headers and labels are written in the requester's language
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    scope = models.CharField(_("scope"), max_length=300, blank=True)  # what the access log says was exported
    message = models.TextField(_("message"), blank=True)  # why a job failed
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["created_by", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} · {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, 100 * self.rows_done // self.total_rows)
