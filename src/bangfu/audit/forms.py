"""The filters of the audit pages. A field that does not validate is shown with its error and left out."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bangfu.audit.models import AccessAction
from bangfu.audit.queries import KIND_CHOICES, AccessFilters, ChangeFilters


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class _AuditFilterForm(forms.Form):
    person = forms.CharField(label=_("Person"), required=False, max_length=100)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].widget.attrs["placeholder"] = _("Name or user name")
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound else {}
        return {name: data.get(name) or None for name in self.fields}


class ChangeFilterForm(_AuditFilterForm):
    kind = forms.ChoiceField(
        label=_("Kind of record"), required=False, choices=[("", _("All kinds of record")), *KIND_CHOICES]
    )

    def filters(self) -> ChangeFilters:
        v = self.values()
        return ChangeFilters(
            person=v["person"] or "", kind=v["kind"] or "", date_from=v["date_from"], date_to=v["date_to"]
        )


class AccessFilterForm(_AuditFilterForm):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All actions")), *AccessAction.choices]
    )

    def filters(self) -> AccessFilters:
        v = self.values()
        return AccessFilters(
            person=v["person"] or "", action=v["action"] or "", date_from=v["date_from"], date_to=v["date_to"]
        )
