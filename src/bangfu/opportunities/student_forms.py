"""Forms of a student's jobs page. They parse input only; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.forms import BootstrapForm, DateInput
from bangfu.opportunities.models import (
    DeclineReason,
    Employer,
    Evaluation,
    Position,
    PositionKind,
    RecommendationStatus,
)


class SuggestionKindForm(forms.Form):
    """Which kind of position to suggest (a GET filter; jobs unless asked otherwise)."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=PositionKind.choices,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto"}),
    )

    def kind_or_default(self) -> str:
        if self.is_valid() and self.cleaned_data["kind"]:
            return str(self.cleaned_data["kind"])
        return PositionKind.JOB


class RecommendForm(BootstrapForm):
    position = forms.UUIDField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=PositionKind.choices, required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class StepForm(BootstrapForm):
    """One step of a recommendation. The page shows it twice: the step buttons (with the destination code when
    a job can be accepted) and, folded, the decline with its reason."""

    to_status = forms.ChoiceField(choices=RecommendationStatus.choices, widget=forms.HiddenInput)
    on = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.ChoiceField(
        label=_("Why the student declined"), choices=[("", "—"), *DeclineReason.choices], required=False
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    destination_code = forms.ChoiceField(
        label=_("Destination recorded on acceptance"), choices=[], required=False, initial="10"
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, codes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["destination_code"].choices = codes  # type: ignore[attr-defined]
        self.fields["on"].widget.attrs["max"] = timezone.localdate().isoformat()


class InternshipForm(BootstrapForm):
    employer = forms.ModelChoiceField(queryset=Employer.objects.none(), to_field_name="public_id", label=_("Employer"))
    started_on = forms.DateField(label=_("From"), widget=DateInput(), initial=timezone.localdate)
    ended_on = forms.DateField(label=_("Until"), widget=DateInput(), required=False)

    def __init__(self, *args: Any, employers: QuerySet[Employer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["employer"].queryset = employers  # type: ignore[attr-defined]


class EvaluateInternshipForm(BootstrapForm):
    ended_on = forms.DateField(label=_("Until"), widget=DateInput(), required=False)
    evaluation = forms.ChoiceField(label=_("Evaluation"), choices=[("", "—"), *Evaluation.choices], required=False)
    evaluation_note = forms.CharField(
        label=_("Evaluation notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    became_job = forms.BooleanField(label=_("Turned into a job"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class PositionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Position) -> str:  # type: ignore[override]
        return f"{obj.employer.name} · {obj.title}"


class JoinOrderClassForm(BootstrapForm):
    position = PositionChoiceField(queryset=Position.objects.none(), to_field_name="public_id", label=_("Order class"))
    joined_on = forms.DateField(label=_("Joined on"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args: Any, positions: QuerySet[Position], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = positions  # type: ignore[attr-defined]


class LeaveOrderClassForm(BootstrapForm):
    left_on = forms.DateField(label=_("Left on"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason for leaving"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class StartWorkStudyForm(BootstrapForm):
    position = PositionChoiceField(
        queryset=Position.objects.none(), to_field_name="public_id", label=_("Work-study post")
    )
    started_on = forms.DateField(label=_("From"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args: Any, positions: QuerySet[Position], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = positions  # type: ignore[attr-defined]


class EndWorkStudyForm(BootstrapForm):
    ended_on = forms.DateField(label=_("Until"), widget=DateInput(), initial=timezone.localdate)
    version = forms.IntegerField(widget=forms.HiddenInput)


class HoursForm(BootstrapForm):
    worked_on = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    hours = forms.DecimalField(
        label=_("Hours"), max_digits=4, decimal_places=1, widget=forms.NumberInput(attrs={"step": "0.5"})
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
