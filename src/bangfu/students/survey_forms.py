"""Forms of the enrolment survey. They parse input only; `students.survey` decides what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bangfu.students.models import Category, EnrolmentSurvey, SurveyStatus
from bangfu.students.survey import ANSWER_FIELDS, NOT_FILLED


class _Bootstrap:
    """Bootstrap classes on every widget; fields stack one under another (fits a phone)."""

    def _style(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            # Django puts a choice list's attrs on its wrapper too, so those keep the browser's look.
            if isinstance(widget, forms.HiddenInput | forms.MultipleHiddenInput | forms.RadioSelect):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the field it names, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        field = form.fields.get(key)
        form.add_error(key if field is not None and not field.widget.is_hidden else None, messages)


class SurveyForm(_Bootstrap, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = EnrolmentSurvey
        fields = ANSWER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "disability_level": _("Only when the student has a disability certificate."),
            "annual_income": _("All members' income over the last year, in yuan."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["household_size"].min_value = 1  # type: ignore[attr-defined]
        self.fields["household_size"].widget.attrs.update({"min": 1, "inputmode": "numeric"})
        self.fields["annual_income"].widget.attrs.update({"min": 0, "step": "0.01", "inputmode": "decimal"})
        self._style()

    def clean_household_size(self) -> int | None:
        size = self.cleaned_data.get("household_size")
        if size is not None and size < 1:
            raise ValidationError(_("A household has at least one member."))
        return size

    def clean_annual_income(self) -> Any:
        income = self.cleaned_data.get("annual_income")
        if income is not None and income < 0:
            raise ValidationError(_("The income cannot be negative."))
        return income

    def answers(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in ANSWER_FIELDS}


class DecisionForm(_Bootstrap, forms.Form):
    categories = forms.MultipleChoiceField(
        label=_("Categories to confirm"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        help_text=_("Required when dismissing; optional when confirming."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, flagged: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [  # type: ignore[attr-defined]
            (c, Category(c).label) for c in flagged if c in Category.values
        ]
        self.fields["categories"].initial = flagged
        self._style()


class SurveyFilterForm(_Bootstrap, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), (NOT_FILLED, _("Not filled yet")), *SurveyStatus.choices],
    )
    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, cohorts: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].choices = [("", _("All")), *((c, str(c)) for c in cohorts)]  # type: ignore[attr-defined]
        self._style()
