"""Forms for one-on-one help. They parse input only; the services decide what is allowed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bangfu.organisation.models import User


class BootstrapForm(forms.Form):
    """Renders with Bootstrap classes, one field under another (fits a phone)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
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


def add_service_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: on the field it names (or its alias), else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        name = (aliases or {}).get(key, key)
        field = form.fields.get(name)
        visible = field is not None and not field.widget.is_hidden
        form.add_error(name if visible else None, messages)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class HelperChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        return f"{obj} ({obj.unit})" if obj.unit_id else str(obj)


class AssignForm(BootstrapForm):
    helper = HelperChoiceField(queryset=User.objects.none(), to_field_name="public_id", label=_("Helper"))
    start = forms.DateField(label=_("Start"), widget=DateInput(), initial=timezone.localdate)
    planned_end = forms.DateField(
        label=_("Planned end"),
        widget=DateInput(),
        required=False,
        help_text=_("For example the end of the student's first year after graduation."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args: Any, helpers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["helper"].queryset = helpers  # type: ignore[attr-defined]


class HandOverForm(BootstrapForm):
    helper = HelperChoiceField(queryset=User.objects.none(), to_field_name="public_id", label=_("New helper"))
    on = forms.DateField(label=_("Hand-over date"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(
        label=_("Hand-over note"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the new helper needs to know: the student's situation, what was done, what is next."),
    )
    assignment = forms.UUIDField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, helpers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["helper"].queryset = helpers  # type: ignore[attr-defined]


class EndForm(BootstrapForm):
    assignment = forms.UUIDField(widget=forms.HiddenInput)
    ended_on = forms.DateField(label=_("End date"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)


class UUIDListField(forms.Field):
    """Several UUIDs from repeated inputs with the same name (the student list's checkboxes)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Choose at least one student."),
        "invalid": _("The list of students is not valid."),
    }

    def to_python(self, value: Any) -> list[uuid.UUID]:
        if not value:
            return []
        try:
            return list(dict.fromkeys(uuid.UUID(str(v)) for v in value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkAssignForm(BootstrapForm):
    students = UUIDListField()
    helper = forms.UUIDField(label=_("Helper"))
    start = forms.DateField(label=_("Start"), widget=DateInput(), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_start(self) -> dt.date:
        return self.cleaned_data.get("start") or timezone.localdate()
