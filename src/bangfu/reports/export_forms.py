"""Forms of the export page: what each report covers. They parse input only; the exports scope the rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from bangfu.reports import exports
from bangfu.students.forms import BootstrapForm, DateInput
from bangfu.subsidies.models import SubsidyType


def _in_range(day: dt.date | None) -> dt.date | None:
    if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise ValidationError(_("Give a date between 2000 and 2100."))
    return day


class PlacementExportForm(BootstrapForm):
    year = forms.TypedChoiceField(label=_("Graduating in"), coerce=int)
    as_of = forms.DateField(label=_("As of"), widget=DateInput())
    ledger_only = forms.BooleanField(label=_("Only graduates in the ledger on that date"), required=False)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]  # type: ignore[attr-defined]

    def clean_as_of(self) -> dt.date | None:
        return _in_range(self.cleaned_data.get("as_of"))

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"year": data["year"], "as_of": data["as_of"].isoformat(), "ledger_only": bool(data["ledger_only"])}


SUBSIDY_STATUS_CHOICES = [
    (exports.SUBSIDY_PAID, _("Paid")),
    (exports.SUBSIDY_APPROVED, _("Approved by the school (paid or not)")),
]


class SubsidyExportForm(BootstrapForm):
    status = forms.ChoiceField(label=_("Applications"), choices=SUBSIDY_STATUS_CHOICES)
    year = forms.TypedChoiceField(label=_("Budget year"), coerce=int, required=False, empty_value=None)
    subsidy_type = forms.ChoiceField(label=_("Subsidy"), required=False)

    def __init__(self, *args: Any, years: list[int], types: QuerySet[SubsidyType], language: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("Every year")), *((y, str(y)) for y in years)]  # type: ignore[attr-defined]
        self.fields["subsidy_type"].choices = [  # type: ignore[attr-defined]
            ("", _("Every subsidy")),
            *((str(t.public_id), t.display(language)) for t in types),
        ]

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"status": data["status"], "year": data["year"], "subsidy_type": data["subsidy_type"] or None}


FOLLOW_UP_STATE_CHOICES = [
    (exports.FOLLOW_UPS_DUE, _("A follow-up is due within a month, or overdue")),
    (exports.FOLLOW_UPS_DONE, _("Followed up at least once")),
    (exports.FOLLOW_UPS_ALL, _("Every ledger graduate")),
]


class FollowUpExportForm(BootstrapForm):
    year = forms.TypedChoiceField(label=_("Graduating in"), coerce=int)
    state = forms.ChoiceField(label=_("Graduates"), choices=FOLLOW_UP_STATE_CHOICES)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]  # type: ignore[attr-defined]

    def params(self, today: dt.date) -> dict[str, Any]:
        data = self.cleaned_data
        return {"year": data["year"], "state": data["state"], "as_of": today.isoformat()}
