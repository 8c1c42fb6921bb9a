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

from bangfu.assistance.models import ActivityKind, Direction, Response
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


# --- The work ledger ---------------------------------------------------------------------------------------


class QuickLogForm(BootstrapForm):
    """Three inputs, for a phone between classes: what, when, a short note."""

    kind = forms.ChoiceField(
        label=_("What"),
        choices=[(ActivityKind.CHECK_IN, _("Check-in")), (ActivityKind.TALK, _("Talk"))],
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    occurred_on = forms.DateField(
        label=_("Date"),
        widget=DateInput(attrs={"class": "form-control form-control-sm w-auto"}),
        initial=timezone.localdate,
    )
    notes = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Short note (optional)")}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()


# The fields each kind of activity has besides kind, date, notes, the internal flag and an attachment.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    ActivityKind.EVENT_TOGETHER: ("event_name",),
    ActivityKind.JOB_RECOMMENDATION: ("employer_name", "position_title", "fits_student", "response"),
}
ALL_KIND_FIELDS = ("event_name", "employer_name", "position_title", "fits_student", "response")


class ActivityForm(BootstrapForm):
    """Any kind of activity; the fields shown are those of `kind`. The service decides what is required."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    occurred_on = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    event_name = forms.CharField(label=_("Recruitment event"), max_length=200, required=False)
    employer_name = forms.CharField(label=_("Employer"), max_length=200, required=False)
    position_title = forms.CharField(label=_("Position"), max_length=200, required=False)
    fits_student = forms.BooleanField(label=_("The position fits the student's major or intention"), required=False)
    response = forms.ChoiceField(label=_("Student's response"), choices=Response.choices, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    internal = forms.BooleanField(label=_("Internal note (not shown to the student)"), required=False)
    attachment = forms.FileField(
        label=_("Evidence"), required=False, help_text=_("A PDF, JPEG or PNG file, for example a photo or a scan.")
    )

    def __init__(self, *args: Any, kind: str, with_attachment: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ALL_KIND_FIELDS:
            if name not in KIND_FIELDS.get(kind, ()):
                del self.fields[name]
        if not with_attachment:
            del self.fields["attachment"]
        elif kind == ActivityKind.RESUME_REVISION:
            self.fields["attachment"].label = _("Revised résumé")
            self.fields["attachment"].help_text = _("The résumé as revised, a PDF, JPEG or PNG file.")
        if kind in (ActivityKind.EVENT_TOGETHER,):
            self.fields["event_name"].widget.attrs["placeholder"] = _("For example: Autumn job fair of Shijiazhuang")

    def details(self) -> dict[str, Any]:
        """The kind's own fields plus notes and the internal flag, as keyword arguments for the services."""
        names = ("notes", "internal", *(n for n in ALL_KIND_FIELDS if n in self.fields))
        return {n: self.cleaned_data[n] for n in names}


def kind_of(value: Any, default: str = ActivityKind.TALK) -> str:
    """A valid activity kind from a request value, else `default`."""
    return value if value in ActivityKind.values else default


class ActivityEditForm(ActivityForm):
    """An open month's activity: the kind and the attachment stay; a correction changes those."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, kind=kind, with_attachment=False, **kwargs)
        del self.fields["kind"]


class PlanForm(BootstrapForm):
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    industries = forms.CharField(label=_("Industries wanted"), max_length=200, required=False)
    places = forms.CharField(
        label=_("Places wanted"),
        max_length=200,
        required=False,
        help_text=_("For example: Shijiazhuang or near home, to care for the grandparents."),
    )
    near_home = forms.BooleanField(label=_("Wants to work near home"), required=False)
    salary_expectation = forms.IntegerField(label=_("Monthly salary expected (yuan)"), min_value=0, required=False)
    strengths = forms.CharField(label=_("Strengths"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    needs = forms.CharField(label=_("Needs"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def fields_for_service(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class PlanReviewForm(BootstrapForm):
    notes = forms.CharField(
        label=_("What the review found"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Progress since the last review, changes to the direction, what comes next."),
    )
