"""The access log: who looked at, revealed or exported sensitive data. Changes live in history tables."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    VIEW_SENSITIVE = "view_sensitive", _("Viewed sensitive data")
    REVEAL_ID = "reveal_id", _("Revealed ID number")
    DOWNLOAD_EVIDENCE = "download_evidence", _("Downloaded evidence")
    EXPORT = "export", _("Exported data")


class AccessLog(models.Model):
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    action = models.CharField(_("action"), max_length=32, choices=AccessAction.choices)
    student = models.ForeignKey(
        "students.Student", null=True, blank=True, on_delete=models.SET_NULL, related_name="access_logs"
    )
    fields = models.CharField(_("fields"), max_length=200, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["student", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
