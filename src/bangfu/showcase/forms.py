"""Forms for the exemplary-case pages. They parse input only; the services decide what is allowed."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.forms import BootstrapForm, DateInput
from bangfu.showcase.models import CONSENT_FIELDS, CaseStatus, CaseType, Consent, NameShown


class VersionField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, min_value=1, **kwargs)


class TypeChoiceField(forms.ModelChoiceField):
    def __init__(self, *args: Any, language: str = "zh-hans", **kwargs: Any) -> None:
        self.language = language
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: CaseType) -> str:  # type: ignore[override]
        return obj.display(self.language)


class CaseFilterForm(BootstrapForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=50)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *CaseStatus.choices])
    case_type = forms.ChoiceField(label=_("Type"), required=False)

    def __init__(self, *args: Any, types: QuerySet[CaseType], language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["case_type"]).choices = [
            ("", _("Every type")),
            *((str(t.public_id), t.display(language)) for t in types),
        ]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class CaseForm(BootstrapForm):
    """Nominating a case, and editing it (with `version` and the photo's removal)."""

    case_type = TypeChoiceField(queryset=CaseType.objects.none(), to_field_name="public_id", label=_("Type"))
    title = forms.CharField(label=_("Title (Chinese)"), max_length=120)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    story = forms.CharField(
        label=_("Story (Chinese)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Write it for the public: no ID number, student number or phone, and the name only as consented."),
    )
    story_en = forms.CharField(label=_("Story (English)"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    family_story = forms.CharField(
        label=_("Family situation (Chinese)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Shown only if the student consents to showing their family situation."),
    )
    family_story_en = forms.CharField(
        label=_("Family situation (English)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    employer = forms.CharField(label=_("Employer"), max_length=200, required=False)
    position = forms.CharField(label=_("Position"), max_length=120, required=False)
    photo = forms.FileField(label=_("Photo"), required=False, help_text=_("JPEG or PNG."))
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)
    comment = forms.CharField(label=_("Why this student (for the office)"), max_length=1000, required=False)
    version = VersionField(required=False)

    TEXTS = ("title", "title_en", "story", "story_en", "family_story", "family_story_en", "employer", "position")

    def __init__(self, *args: Any, types: QuerySet[CaseType], language: str, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["case_type"]
        field.queryset = types  # type: ignore[attr-defined]
        field.language = language  # type: ignore[attr-defined]
        if editing:
            del self.fields["comment"]
            self.fields["version"].required = True
        else:
            del self.fields["remove_photo"]
            del self.fields["version"]

    def texts(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.TEXTS}


class StepForm(BootstrapForm):
    version = VersionField()
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea())


class ConsentForm(BootstrapForm):
    name_shown = forms.ChoiceField(
        label=_("Name shown"), choices=NameShown.choices, widget=forms.RadioSelect, initial=NameShown.SURNAME
    )
    shown = forms.MultipleChoiceField(
        label=_("The student agrees to show"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, getattr(Consent._meta.get_field(name), "verbose_name", name)) for name in CONSENT_FIELDS],
        help_text=_("Nothing else is ever shown: no ID number, student number or phone."),
    )
    given_on = forms.DateField(label=_("Given on"), widget=DateInput(), initial=timezone.localdate)
    evidence = forms.FileField(label=_("Signed consent form"), required=False, help_text=_("PDF, JPEG or PNG."))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def flags(self) -> dict[str, bool]:
        chosen = set(self.cleaned_data["shown"])
        return {name: name in chosen for name in CONSENT_FIELDS}


class WithdrawForm(BootstrapForm):
    version = VersionField()
    note = forms.CharField(label=_("Reason (optional)"), max_length=300, required=False)


class CaseTypeForm(BootstrapForm):
    code = forms.SlugField(label=_("Code"), max_length=32, help_text=_("Letters, digits, - and _."))
    name = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=150, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    version = VersionField(required=False)

    def fields_for_service(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}
