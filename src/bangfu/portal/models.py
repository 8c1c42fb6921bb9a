"""The student portal's own records: the versions of a student's résumé.

A version is never edited: the student uploads a new one, or the helper uploads a revised one with comments
(which is also a "résumé revision" activity of the work ledger, so it counts toward the standard).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ResumeVersion(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="resume_versions")
    file = models.FileField(_("file"), upload_to="resumes/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)
    # The version this one revises (the helper's revision of the student's upload), if any.
    revises = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="revisions", verbose_name=_("revises")
    )
    # The work-ledger activity a staff revision is (it counts toward the résumé-revision standard).
    activity = models.OneToOneField(
        "assistance.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="resume_version"
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("résumé version")
        verbose_name_plural = _("résumé versions")
        indexes = [models.Index(fields=["student", "uploaded_at"])]

    def __str__(self) -> str:
        return f"{self.student} · {self.uploaded_at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------------------------------------------
# Student accounts and one-time links (first login, follow-up answers): written by `bangfu.portal.accounts`.
# A link's token is never stored, only its SHA-256 (see `bangfu.portal.tokens`); expiry and single use live here.


class LinkPurpose(models.TextChoices):
    FIRST_LOGIN = "first_login", _("First login")


class AccountBatch(models.Model):
    """Student accounts made together by the office or a department, with the first-login links to hand out."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"))
    skipped = models.PositiveIntegerField(_("skipped (already had an account)"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch of student accounts")
        verbose_name_plural = _("batches of student accounts")

    def __str__(self) -> str:
        return f"{self.created_by} · {self.created_at:%Y-%m-%d %H:%M}"


class AccountLink(models.Model):
    """A one-time link to an account: the first login, where the student sets their password."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_links")
    purpose = models.CharField(_("purpose"), max_length=16, choices=LinkPurpose.choices)
    batch = models.ForeignKey(AccountBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("account link")
        verbose_name_plural = _("account links")
        indexes = [models.Index(fields=["user", "purpose", "used_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.purpose} · {self.expires_at:%Y-%m-%d}"


class FollowUpLink(models.Model):
    """A one-time link e-mailed to a graduate to answer a follow-up without a password.

    The answer is recorded as the follow-up of `sent_by` (the helper whose follow-up it is)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="follow_up_links")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by")
    )
    sent_to = models.EmailField(_("sent to"))
    # The follow-up milestone the link was sent for (the progress row's next due date), if any.
    due_on = models.DateField(_("due on"), null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    follow_up = models.OneToOneField(
        "outcomes.FollowUp", null=True, blank=True, on_delete=models.SET_NULL, related_name="answered_link"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("follow-up link")
        verbose_name_plural = _("follow-up links")
        indexes = [models.Index(fields=["student", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.student} · {self.created_at:%Y-%m-%d}"
