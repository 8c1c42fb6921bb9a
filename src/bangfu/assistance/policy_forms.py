"""Forms of the policy settings page: a new version's settings and its table of standards.

They parse input and say clearly what is wrong with it; `assistance.services.save_policy` checks again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.forms import BootstrapForm, DateInput
from bangfu.assistance.models import Metric, Period, Policy, Stage
from bangfu.assistance.rules import Rules

# The settings of a version, with the bounds a sensible school stays within.
SETTING_BOUNDS: dict[str, tuple[int, int]] = {
    "enrolment_semesters": (1, 4),
    "job_search_semesters": (1, 4),
    "follow_up_months": (1, 60),
    "close_day": (1, 28),
    "risk_no_contact_days": (1, 365),
    "risk_min_share": (0, 100),
    "risk_months_before_graduation": (0, 12),
    "risk_declines": (1, 20),
}
SETTING_FLAGS = ("effective_needs_fit", "effective_needs_action")
SETTINGS = (*SETTING_BOUNDS, *SETTING_FLAGS)


def _label(name: str) -> Any:
    """The model's own (translated) name for a setting, so the page and the admin say the same."""
    return getattr(Policy._meta.get_field(name), "verbose_name", name)


class PolicyForm(BootstrapForm):
    """A new version of the school's policy, from its start date."""

    valid_from = forms.DateField(
        label=_("In force from"),
        widget=DateInput(),
        help_text=_("Months before this date keep the rules they were judged by."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        self.today = today
        super().__init__(*args, **kwargs)
        for name, (low, high) in SETTING_BOUNDS.items():
            self.fields[name] = forms.IntegerField(label=_label(name), min_value=low, max_value=high)
        for name in SETTING_FLAGS:
            self.fields[name] = forms.BooleanField(label=_label(name), required=False)
        self.order_fields(["valid_from", *SETTINGS, "note"])
        for name, field in self.fields.items():
            if name in SETTING_BOUNDS:
                field.widget.attrs.update({"class": "form-control", "inputmode": "numeric"})
            elif name in SETTING_FLAGS:
                field.widget.attrs.update({"class": "form-check-input"})
        self.fields["close_day"].help_text = _("After this day of the next month, a month's activities are closed.")
        self.fields["effective_needs_fit"].help_text = _("The position fits the student's major or stated intention.")
        self.fields["effective_needs_action"].help_text = _(
            "The student applied or was interviewed, or the employer answered."
        )

    def clean_valid_from(self) -> dt.date:
        day: dt.date = self.cleaned_data["valid_from"]
        if day < self.today:
            raise ValidationError(
                _("A new version starts today or later: past months keep the rules they were judged by.")
            )
        return day

    def settings(self) -> dict[str, Any]:
        """Keyword arguments for `save_policy` besides the start date and the standards."""
        return {name: self.cleaned_data[name] for name in (*SETTINGS, "note")}


def _blank(label: Any, choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    # A blank first choice keeps an unused row of the table blank, so it is skipped rather than refused.
    return [("", label), *choices]


STAGE_CHOICES = [(value, label) for value, label in Stage.choices if value != Stage.CLOSED]


class StandardForm(BootstrapForm):
    """One row of the standards table: at least `min_count` of `metric` in `stage`, counted per `period`."""

    stage = forms.ChoiceField(label=_("Stage"), choices=_blank("—", STAGE_CHOICES))
    metric = forms.ChoiceField(label=_("What is counted"), choices=_blank("—", list(Metric.choices)))
    min_count = forms.IntegerField(label=_("At least"), min_value=1, max_value=100)
    period = forms.ChoiceField(label=_("Counted"), choices=_blank("—", list(Period.choices)))
    every_days = forms.IntegerField(label=_("Every N days"), min_value=1, max_value=366, required=False)
    milestones = forms.CharField(label=_("Months after leaving"), max_length=50, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("min_count", "every_days"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        self.fields["milestones"].widget.attrs["placeholder"] = "1,3,6,12"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stage, period = data.get("stage"), data.get("period")
        every_days, milestones = data.get("every_days"), (data.get("milestones") or "").strip()
        if period == Period.DAYS and not every_days:
            self.add_error("every_days", _("Give the number of days for a standard counted every N days."))
        if period and period != Period.DAYS and every_days:
            self.add_error("every_days", _("Only a standard counted every N days takes a number of days."))
        if period == Period.MILESTONES:
            if stage and stage != Stage.AFTER_LEAVING:
                self.add_error("period", _("Months after leaving apply only to the after-leaving stage."))
            months = _months(milestones)
            if months is None:
                self.add_error(
                    "milestones", _("Give the months after leaving as numbers separated by commas, e.g. 1,3,6,12.")
                )
            else:
                data["milestones"] = ",".join(str(m) for m in months)
        elif period and milestones:
            self.add_error("milestones", _("Only a standard counted at months after leaving takes months."))
        return data

    def standard(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "stage": data["stage"],
            "metric": data["metric"],
            "min_count": data["min_count"],
            "period": data["period"],
            "every_days": data["every_days"] if data["period"] == Period.DAYS else None,
            "milestones": data["milestones"] if data["period"] == Period.MILESTONES else "",
        }


def _months(text: str) -> list[int] | None:
    """ "1, 3，6,12" → [1, 3, 6, 12]; None when a part is not a whole number of months from 1 to 120."""
    parts = [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() and 1 <= int(p) <= 120 for p in parts):
        return None
    return sorted({int(p) for p in parts})


if TYPE_CHECKING:
    _FormSet = forms.BaseFormSet[StandardForm]
else:  # Django's BaseFormSet is not subscriptable at run time
    _FormSet = forms.BaseFormSet


class BaseStandardFormSet(_FormSet):
    def add_fields(self, form: StandardForm, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Remove")
        form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[tuple[str, str]] = set()
        for form in self.kept():
            key = (form.cleaned_data["stage"], form.cleaned_data["metric"])
            if key in seen:
                raise ValidationError(
                    _("%(stage)s has two standards for %(metric)s: keep one.")
                    % {"stage": Stage(key[0]).label, "metric": Metric(key[1]).label}
                )
            seen.add(key)

    def kept(self) -> list[StandardForm]:
        """The filled rows not marked for removal (a blank row is skipped)."""
        return [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]

    def standards(self) -> list[dict[str, Any]]:
        return [form.standard() for form in self.kept()]


_StandardFormSet = forms.formset_factory(
    StandardForm, formset=BaseStandardFormSet, extra=3, can_delete=True, max_num=40, validate_max=True
)


def standard_formset(data: Any = None, initial: list[dict[str, Any]] | None = None) -> BaseStandardFormSet:
    """The standards table. Every row may be left blank (it is then skipped), the rows shown filled too: a
    submitted table is read as it stands, so removing a row is emptying it or ticking "Remove"."""
    formset = _StandardFormSet(
        data, initial=None if data is not None else initial, prefix="standards", form_kwargs={"empty_permitted": True}
    )
    assert isinstance(formset, BaseStandardFormSet)
    return formset


def check_together(form: PolicyForm, formset: BaseStandardFormSet) -> bool:
    """Rules that span the settings and the table; adds the errors and says whether all is well."""
    months = form.cleaned_data["follow_up_months"]
    ok = True
    for row in formset.kept():
        standard = row.standard()
        late = [m for m in _months(standard["milestones"]) or [] if m > months]
        if late:
            row.add_error(
                "milestones",
                _("A follow-up at %(month)d months falls after the %(months)d months of follow-up.")
                % {"month": late[0], "months": months},
            )
            ok = False
    return ok


def initial_from(rules: Rules, valid_from: dt.date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Initial values for a new version, starting from `rules` (the version in force, or a scheduled one)."""
    settings = {name: getattr(rules, name) for name in SETTINGS}
    standards = [r.as_standard_fields() for r in rules.standards]
    return {"valid_from": valid_from, **settings}, standards
