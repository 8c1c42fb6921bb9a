"""Forms of the destination pages. They parse input only; the services decide what is allowed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.forms import BootstrapForm, DateInput
from bangfu.opportunities.models import Employer, EmployerType, Industry
from bangfu.organisation.models import OrgUnit
from bangfu.outcomes.models import DestinationCode, DestinationGroup, EvidenceKind, FollowUpStatus
from bangfu.outcomes.services import DESTINATION_FIELDS


def _blank(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


class DestinationForm(BootstrapForm):
    """Record a graduate's destination, or a change of it (the one in force is kept as history)."""

    code = forms.TypedChoiceField(label=_("Destination"), coerce=int)
    employer = forms.ModelChoiceField(
        label=_("Employer known to the school"),
        queryset=Employer.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("Not in the list: write the name below"),
        help_text=_("Choosing one fills in its type, industry, place and partner status."),
    )
    employer_name = forms.CharField(
        label=_("Employer or school"),
        max_length=200,
        required=False,
        help_text=_("For further study: the school or university."),
    )
    position_title = forms.CharField(label=_("Position"), max_length=200, required=False)
    employer_type = forms.ChoiceField(label=_("Employer type"), choices=_blank(EmployerType.choices), required=False)
    industry = forms.ChoiceField(label=_("Industry"), choices=_blank(Industry.choices), required=False)
    work_province = forms.CharField(label=_("Province of work"), max_length=32, required=False)
    work_city = forms.CharField(label=_("City of work"), max_length=32, required=False)
    started_on = forms.DateField(label=_("Start date"), required=False, widget=DateInput())
    salary = forms.IntegerField(
        label=_("Starting salary (yuan a month)"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    matches_major = forms.NullBooleanField(label=_("Matches the major"), required=False)
    employer_is_partner = forms.BooleanField(label=_("The employer is a partner of the school"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # The destination in force when the form was opened ("" for none): a change made meanwhile is not overwritten.
    replaces = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, codes: list[DestinationCode], employers: QuerySet[Employer], language: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.codes = {c.pk: c for c in codes}
        grouped: list[tuple[Any, list[tuple[int, str]]]] = [
            (group.label, [(c.pk, c.display(language)) for c in codes if c.group == group])
            for group in DestinationGroup
        ]
        self.fields["code"].choices = _blank([g for g in grouped if g[1]])  # type: ignore[attr-defined]
        self.fields["employer"].queryset = employers  # type: ignore[attr-defined]

    def clean_code(self) -> DestinationCode:
        code = self.codes.get(self.cleaned_data["code"])
        if code is None:
            raise ValidationError(_("Choose a destination from the list."))
        return code

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "code": data["code"],
            "employer": data["employer"],
            **{name: data[name] for name in DESTINATION_FIELDS},
        }


class EvidenceForm(BootstrapForm):
    evidence = forms.FileField(
        label=_("Document (PDF, JPEG or PNG)"),
        widget=forms.FileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    evidence_kind = forms.ChoiceField(label=_("Kind of document"), choices=_blank(EvidenceKind.choices))
    version = forms.IntegerField(widget=forms.HiddenInput)


class VerifyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class FollowUpForm(BootstrapForm):
    done_on = forms.DateField(label=_("Date"), widget=DateInput())
    status = forms.ChoiceField(
        label=_("Situation"),
        choices=FollowUpStatus.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class UnplacedFilterForm(BootstrapForm):
    year = forms.TypedChoiceField(label=_("Graduating in"), coerce=int, required=False)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=OrgUnit.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("All departments"),
    )

    def __init__(self, *args: Any, years: list[int], departments: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]  # type: ignore[attr-defined]
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


BY_CHOICES = [
    ("", _("Whole scope only")),
    ("department", _("By department")),
    ("major", _("By major")),
    ("category", _("By ledger category")),
    ("ledger", _("Ledger students and the others")),
]


class FiguresForm(BootstrapForm):
    year = forms.TypedChoiceField(label=_("Graduating in"), coerce=int, required=False)
    as_of = forms.DateField(label=_("As of"), required=False, widget=DateInput())
    by = forms.ChoiceField(label=_("Break down"), choices=BY_CHOICES, required=False)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]  # type: ignore[attr-defined]

    def clean_as_of(self) -> dt.date | None:
        day = self.cleaned_data.get("as_of")
        if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise ValidationError(_("Give a date between 2000 and 2100."))
        return day
