"""Forms for the tracks. They parse input only; the services decide what is allowed (order, dates, permissions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.forms import BootstrapForm, DateInput
from bangfu.organisation.models import OrgUnit
from bangfu.tracks.models import Outcome, TrackType


def _label(item: dict[str, Any], language: str) -> str:
    return str((item.get("label_en") if language.startswith("en") else "") or item.get("label") or item["code"])


class JoinForm(BootstrapForm):
    joined_on = forms.DateField(label=_("Joined on"), widget=DateInput(), initial=timezone.localdate)
    programme = forms.ChoiceField(label=_("Programme"), required=False)

    def __init__(self, *args: Any, track: TrackType, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if track.programmes:
            field = self.fields["programme"]
            field.choices = [("", "—"), *((p["code"], _label(p, language)) for p in track.programmes)]  # type: ignore[attr-defined]
            field.required = True
        else:
            del self.fields["programme"]


class MilestoneForm(BootstrapForm):
    # The choices shown are the milestones that may come next; any code is passed on, so that a skipped milestone
    # is refused by the service with its explanation rather than as "not a valid choice".
    milestone = forms.CharField(label=_("Milestone reached"), widget=forms.Select())
    reached_on = forms.DateField(label=_("Reached on"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput(), min_value=1)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["milestone"].widget.choices = choices  # type: ignore[attr-defined]


class LeaveForm(BootstrapForm):
    left_on = forms.DateField(label=_("Left on"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput(), min_value=1)


# --- The office: track types ---------------------------------------------------------------------------------------


class TrackTypeForm(BootstrapForm):
    code = forms.CharField(
        label=_("Code"), max_length=32, help_text=_("Lower-case letters, digits and underscores, e.g. public_exam.")
    )
    name = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=150, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    position = forms.IntegerField(label=_("Position in lists"), min_value=0, max_value=999, initial=0)
    is_active = forms.BooleanField(label=_("Offered"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput(), min_value=1, required=False)

    @staticmethod
    def initial_for(track: TrackType) -> dict[str, Any]:
        return {
            "code": track.code,
            "name": track.name,
            "name_en": track.name_en,
            "description": track.description,
            "position": track.position,
            "is_active": track.is_active,
            "version": track.version,
        }

    def service_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


STEP = "step"
KINDS = [
    (STEP, _("Step")),
    (Outcome.SUCCESS.value, _("Final: succeeded")),
    (Outcome.FAILURE.value, _("Final: did not succeed")),
]


class MilestoneRowForm(BootstrapForm):
    """One milestone of a track, in its row of the formset; a row left without a code is dropped."""

    code = forms.CharField(label=_("Code"), max_length=32, required=False)
    label = forms.CharField(label=_("Label (Chinese)"), max_length=100, required=False)
    label_en = forms.CharField(label=_("Label (English)"), max_length=150, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=KINDS, initial=STEP)

    def item(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("code", "").strip():
            return None
        final = data.get("kind", STEP) != STEP
        return {
            "code": data["code"].strip(),
            "label": data.get("label", ""),
            "label_en": data.get("label_en", ""),
            "final": final,
            "outcome": data["kind"] if final else None,
        }

    @staticmethod
    def initial_of(item: dict[str, Any]) -> dict[str, Any]:
        return {
            "code": item["code"],
            "label": item.get("label", ""),
            "label_en": item.get("label_en", ""),
            "kind": item.get("outcome") or STEP,
        }


class ProgrammeRowForm(BootstrapForm):
    code = forms.CharField(label=_("Code"), max_length=32, required=False)
    label = forms.CharField(label=_("Label (Chinese)"), max_length=100, required=False)
    label_en = forms.CharField(label=_("Label (English)"), max_length=150, required=False)

    def item(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("code", "").strip():
            return None
        return {"code": data["code"].strip(), "label": data.get("label", ""), "label_en": data.get("label_en", "")}


MilestoneFormSet = formset_factory(MilestoneRowForm, extra=2, max_num=30, validate_max=True)
ProgrammeFormSet = formset_factory(ProgrammeRowForm, extra=2, max_num=30, validate_max=True)


def items_of(formset: Any) -> list[dict[str, Any]]:
    """The rows of a valid formset with a code, in their order on the page."""
    return [item for form in formset.forms if (item := form.item()) is not None]


# --- The department view -----------------------------------------------------------------------------------------


class FiguresFilterForm(BootstrapForm):
    """The unit and cohort of the counts, for display: the view reads the query itself (404 for a unit outside
    the user's scope, rather than a form error)."""

    unit = forms.ChoiceField(label=_("Unit"), required=False)
    cohort = forms.ChoiceField(label=_("Cohort"), required=False)

    def __init__(self, *args: Any, units: list[OrgUnit], cohorts: list[int], language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The units are read already: the choices are built from them without another query.
        self.fields["unit"].choices = [(str(u.public_id), u.display_name(language)) for u in units]  # type: ignore[attr-defined]
        self.fields["cohort"].choices = [("", _("All cohorts")), *((str(c), str(c)) for c in cohorts)]  # type: ignore[attr-defined]
