"""Forms of the student portal. They parse input only (in the student's words); the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.forms import BootstrapForm
from bangfu.opportunities.models import STUDENT_ANSWERS, DeclineReason, RecommendationStatus
from bangfu.portal.models import ResumeVersion

# How the student's answers read on the buttons ("I applied"), in the order of the steps.
ANSWER_LABELS: dict[str, Any] = {
    RecommendationStatus.INTERESTED: _("I'm interested"),
    RecommendationStatus.APPLIED: _("I applied"),
    RecommendationStatus.INTERVIEWED: _("I had an interview"),
    RecommendationStatus.OFFER: _("I received an offer"),
    RecommendationStatus.ACCEPTED: _("I accept the offer"),
    RecommendationStatus.DECLINED: _("I decline"),
}


class AnswerForm(BootstrapForm):
    """The student's answer to one recommendation; a decline says why (and explains "other" in the note)."""

    to_status = forms.ChoiceField(choices=[(s, ANSWER_LABELS[s]) for s in STUDENT_ANSWERS], widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_("Why you decline"), choices=[("", "—"), *DeclineReason.choices], required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to_status") == RecommendationStatus.DECLINED:
            if not data.get("reason"):
                self.add_error("reason", _("Choose why you decline."))
            elif data["reason"] == DeclineReason.OTHER and not (data.get("note") or "").strip():
                self.add_error("note", _("Explain your reason in the note."))
        elif data.get("reason"):
            data["reason"] = ""  # the reason select belongs to the decline; another answer ignores it
        return data


class ResumeForm(BootstrapForm):
    file = forms.FileField(label=_("Résumé"), help_text=_("PDF or Word (.docx)."))
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ResumeVersion) -> str:  # type: ignore[override]
        when = timezone.localtime(obj.uploaded_at).strftime("%Y-%m-%d %H:%M")
        return f"{when} · {obj.uploaded_by}"


class RevisionForm(BootstrapForm):
    """The helper's revised version: what was revised is said in the comment."""

    file = forms.FileField(label=_("Revised résumé"), help_text=_("A PDF: the work ledger keeps it as evidence."))
    comment = forms.CharField(label=_("What you revised"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    revises = VersionChoiceField(
        label=_("Revises the version of"),
        queryset=ResumeVersion.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("No particular version"),
    )

    def __init__(self, *args: Any, versions: QuerySet[ResumeVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["revises"].queryset = versions  # type: ignore[attr-defined]


class ResubmitForm(BootstrapForm):
    """A draft or a returned application: the reason, a new evidence file if needed, then submit."""

    reason = forms.CharField(label=_("Reason for applying"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(
        label=_("Evidence"), required=False, help_text=_("A new file replaces the one on file. PDF, JPEG or PNG.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class WithdrawApplicationForm(BootstrapForm):
    comment = forms.CharField(label=_("Why you withdraw (optional)"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ConfirmDestinationForm(BootstrapForm):
    answer = forms.ChoiceField(
        label=_("Is this record right?"),
        choices=[("confirm", _("Yes, it is right")), ("dispute", _("No, something is wrong"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("What is wrong, or a comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("answer") == "dispute" and not (data.get("note") or "").strip():
            self.add_error("note", _("Say what is wrong with the recorded destination."))
        return data
