"""Forms of the student pages. They parse input only; every rule is checked again by the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.models import Direction, Stage
from bangfu.organisation.models import OrgUnit, UnitKind, User, unit_display_name
from bangfu.students.models import (
    Category,
    DisabilityLevel,
    Gender,
    HardshipLevel,
    LedgerSource,
    Level,
    StudentStatus,
)
from bangfu.students.queries import cohorts_in_scope, graduation_years_in_scope, helpers_in_scope, units_in_scope


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class SearchInput(forms.TextInput):
    input_type = "search"


class BootstrapForm(forms.Form):
    """Gives every widget its Bootstrap class so the templates stay plain loops."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the named field when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _unit_label(unit: OrgUnit) -> str:
    return unit.display_name(get_language() or "")


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


# ---------------------------------------------------------------------------------------------------------
# The student list


IN_LEDGER_CHOICES = [("", _("In ledger or not")), ("yes", _("In the ledger")), ("no", _("Not in the ledger"))]
# Filters on the progress row, used by the links of the compliance pages.
RISK_CHOICES = [("", _("Any risk")), ("1", _("Watch or at risk")), ("2", _("At risk"))]
OVERDUE_CHOICES = [("", _("Overdue or not")), ("yes", _("With overdue items")), ("no", _("Nothing overdue"))]
COMPLIANT_CHOICES = [("", _("Any progress")), ("yes", _("Meets every standard")), ("no", _("Misses a standard"))]
# Filters on destinations, used by the links of the dashboards (`bangfu.reports`).
PLACED_CHOICES = [("", _("Placed or not")), ("yes", _("Placed")), ("no", _("Not placed"))]
DESTINATION_GROUP_CHOICES = [
    ("", _("Any destination")),
    ("employed", _("Employed")),
    ("further_study", _("Further study")),
    ("not_placed", _("Not placed (recorded)")),
    ("none", _("No destination recorded")),
]
VERIFIED_CHOICES = [("", _("Verified or not")), ("yes", _("Placed and verified")), ("no", _("Placed, not verified"))]
RECOMMENDATION_CHOICES = [
    ("", _("Any recommendation")),
    ("recommended", _("Recommended")),
    ("acted", _("Acted on")),
    ("offered", _("Offer received")),
    ("accepted", _("Accepted")),
    ("declined", _("Declined")),
    ("effective", _("Effective")),
]
SORT_CHOICES = [
    ("number", _("Student number")),
    ("-number", _("Student number, descending")),
    ("name", _("Name")),
    ("-name", _("Name, descending")),
    ("class", _("Class")),
    ("-class", _("Class, descending")),
    ("cohort", _("Cohort")),
    ("-cohort", _("Cohort, newest first")),
]


class StudentFilterForm(BootstrapForm):
    """The list's search, filters and sort; every choice comes from the user's own scope."""

    q = forms.CharField(label=_("Search"), required=False, max_length=64, widget=SearchInput)
    department = forms.ChoiceField(label=_("Department"), required=False)
    major = forms.ChoiceField(label=_("Major"), required=False)
    class_unit = forms.ChoiceField(label=_("Class"), required=False)
    cohort = forms.ChoiceField(label=_("Cohort"), required=False)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_blank(_("All categories")) + list(Category.choices)
    )
    helper = forms.ChoiceField(label=_("Helper"), required=False)
    in_ledger = forms.ChoiceField(label=_("Ledger"), required=False, choices=IN_LEDGER_CHOICES)
    unassigned = forms.BooleanField(label=_("In the ledger without a helper"), required=False)
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=_blank(_("All stages")) + list(Stage.choices))
    compliant = forms.ChoiceField(label=_("Standards"), required=False, choices=COMPLIANT_CHOICES)
    overdue = forms.ChoiceField(label=_("Overdue items"), required=False, choices=OVERDUE_CHOICES)
    risk = forms.ChoiceField(label=_("Risk"), required=False, choices=RISK_CHOICES)
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=_blank(_("All directions")) + list(Direction.choices)
    )
    # Any year is accepted (a dashboard may link to a year nobody in scope graduates in: an empty list).
    graduating = forms.IntegerField(
        label=_("Graduating"), required=False, min_value=1900, max_value=2999, widget=forms.Select
    )
    placed = forms.ChoiceField(label=_("Placement"), required=False, choices=PLACED_CHOICES)
    destination_group = forms.ChoiceField(label=_("Destination"), required=False, choices=DESTINATION_GROUP_CHOICES)
    verified = forms.ChoiceField(label=_("Verification"), required=False, choices=VERIFIED_CHOICES)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    # Narrower filters that only the dashboards' links set: kept in hidden fields, named above the results.
    school = forms.UUIDField(label=_("School"), required=False, widget=forms.HiddenInput)
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.HiddenInput)
    placed_from = forms.DateField(label=_("Struck off from"), required=False, widget=forms.HiddenInput)
    placed_until = forms.DateField(label=_("Struck off until"), required=False, widget=forms.HiddenInput)
    recommended_by = forms.UUIDField(label=_("Recommended by"), required=False, widget=forms.HiddenInput)
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), required=False, choices=RECOMMENDATION_CHOICES, widget=forms.HiddenInput
    )

    def __init__(self, data: Any, *, user: User) -> None:
        super().__init__(data)
        self.user = user
        self.fields["q"].widget.attrs.update({"placeholder": _("Name or student number"), "autocomplete": "off"})
        by_kind: dict[str, list[tuple[str, str]]] = {UnitKind.DEPARTMENT: [], UnitKind.MAJOR: [], UnitKind.CLASS: []}
        # A school's 2,300 units read as values: as model instances they cost about 30 ms a page (docs/benchmarks.md).
        language = get_language() or ""
        units = units_in_scope(user).order_by("path").values_list("public_id", "kind", "name", "name_en")
        for public_id, kind, name, name_en in units:
            by_kind[kind].append((str(public_id), unit_display_name(name, name_en, language)))
        _choice(self, "department").choices = _blank(_("All departments")) + by_kind[UnitKind.DEPARTMENT]
        _choice(self, "major").choices = _blank(_("All majors")) + by_kind[UnitKind.MAJOR]
        _choice(self, "class_unit").choices = _blank(_("All classes")) + by_kind[UnitKind.CLASS]
        _choice(self, "cohort").choices = _blank(_("All cohorts")) + [(str(c), str(c)) for c in cohorts_in_scope(user)]
        helpers = [(str(h.public_id), str(h)) for h in helpers_in_scope(user)]
        if user.is_authenticated and str(user.public_id) not in dict(helpers):
            helpers.insert(0, (str(user.public_id), str(user)))  # "my students" is a valid filter, even when none
        _choice(self, "helper").choices = _blank(_("All helpers")) + helpers
        years = graduation_years_in_scope(user)
        asked = str(self.data.get("graduating") or "") if self.is_bound else ""
        if asked.isdigit() and int(asked) not in years:
            years = sorted([*years, int(asked)], reverse=True)
        self.fields["graduating"].widget.choices = _blank(_("Any year")) + [(str(y), str(y)) for y in years]  # type: ignore[attr-defined]

    def hidden_filters(self) -> list[str]:
        """The hidden filters in force, in words, so the list says why it is narrower than its visible filters."""
        data = self.cleaned_data if self.is_bound else {}
        shown = []
        if data.get("school"):
            school = units_in_scope(self.user, kinds=(UnitKind.SCHOOL,)).filter(public_id=data["school"]).first()
            name = school.display_name(get_language()) if school else str(data["school"])
            shown.append(f"{self.fields['school'].label}: {name}")
        for name in ("as_of", "placed_from", "placed_until"):
            if data.get(name):
                shown.append(f"{self.fields[name].label}: {data[name].isoformat()}")
        if data.get("recommended_by") or data.get("recommendation"):
            stage = dict(RECOMMENDATION_CHOICES).get(data.get("recommendation") or "recommended")
            shown.append(f"{self.fields['recommendation'].label}: {stage}")
        return shown

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `apply_student_filters`; fields that did not validate are left out."""
        data = self.cleaned_data if self.is_bound else {}
        in_ledger = data.get("in_ledger")
        return {
            "q": data.get("q") or None,
            "school": data.get("school") or None,
            "department": data.get("department") or None,
            "major": data.get("major") or None,
            "class_unit": data.get("class_unit") or None,
            "cohort": data.get("cohort") or None,
            "category": data.get("category") or None,
            "helper": data.get("helper") or None,
            "in_ledger": {"yes": True, "no": False}.get(in_ledger or ""),
            "unassigned": bool(data.get("unassigned")),
            "stage": data.get("stage") or None,
            "compliant": {"yes": True, "no": False}.get(data.get("compliant") or ""),
            "overdue": {"yes": True, "no": False}.get(data.get("overdue") or ""),
            "risk": data.get("risk") or None,
            "direction": data.get("direction") or None,
            "graduating": data.get("graduating") or None,
            "placed": {"yes": True, "no": False}.get(data.get("placed") or ""),
            "destination_group": data.get("destination_group") or None,
            "verified": {"yes": True, "no": False}.get(data.get("verified") or ""),
            "as_of": data.get("as_of") or None,
            "placed_from": data.get("placed_from") or None,
            "placed_until": data.get("placed_until") or None,
            "recommended_by": data.get("recommended_by") or None,
            "recommendation": data.get("recommendation") or None,
        }

    def sort_key(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_bound else "") or "number"


class LedgerFilterForm(BootstrapForm):
    department = forms.ChoiceField(label=_("Department"), required=False)

    def __init__(self, data: Any, *, user: User) -> None:
        super().__init__(data)
        departments = units_in_scope(user, kinds=(UnitKind.DEPARTMENT,)).order_by("path")
        _choice(self, "department").choices = _blank(_("All departments")) + [
            (str(u.public_id), _unit_label(u)) for u in departments
        ]


# ---------------------------------------------------------------------------------------------------------
# Student records


class ClassChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return _unit_label(obj)


class StudentForm(BootstrapForm):
    """Create or edit a student record. On edit, a blank ID number keeps the one on file."""

    class_unit = ClassChoiceField(label=_("Class"), queryset=OrgUnit.objects.none(), to_field_name="public_id")
    student_number = forms.CharField(label=_("Student number"), max_length=32, required=False)
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices)
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=32, required=False, initial="汉族")
    id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    home_province = forms.CharField(label=_("Home province"), max_length=32, required=False)
    home_city = forms.CharField(label=_("Home city"), max_length=32, required=False)
    home_county = forms.CharField(label=_("Home county"), max_length=32, required=False)
    address = forms.CharField(label=_("Home address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices)
    program_years = forms.IntegerField(label=_("Programme length (years)"), min_value=1, max_value=8, required=False)
    cohort = forms.IntegerField(label=_("Cohort (enrolment year)"), min_value=1950, max_value=2100)
    enrolled_on = forms.DateField(label=_("Enrolment date"), required=False, widget=DateInput())
    expected_graduation = forms.DateField(label=_("Expected graduation"), required=False, widget=DateInput())
    status = forms.ChoiceField(label=_("Status"), choices=StudentStatus.choices, initial=StudentStatus.ENROLLED)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, classes: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["class_unit"]).queryset = classes
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        if editing:
            # Without the version the form was opened at, a stale save could not be detected.
            self.fields["version"].required = True
            self.fields["id_number"].help_text = _("Leave blank to keep the ID number on file.")
        else:
            del self.fields["status"]
            del self.fields["version"]
            self.fields["program_years"].help_text = _("Blank: 4 years for a bachelor, otherwise 3.")
            self.fields["enrolled_on"].help_text = _("Blank: 1 September of the cohort year.")

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned values as service arguments; blank optional values are left to the service's defaults."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for key in ("program_years", "enrolled_on", "expected_graduation"):
            if data.get(key) in (None, ""):
                data.pop(key, None)
        return data


# ---------------------------------------------------------------------------------------------------------
# The ledger


def _categories_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Categories"), choices=Category.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


def _reason_field(label: Any) -> forms.CharField:
    # Not required here: the service refuses a blank reason with its own message; the browser asks first.
    return forms.CharField(
        label=label, max_length=300, required=False, widget=forms.TextInput(attrs={"required": True})
    )


class LedgerEntryFieldsForm(BootstrapForm):
    categories = _categories_field()
    hardship_level = forms.ChoiceField(
        label=_("Hardship level"), required=False, choices=_blank("—") + list(HardshipLevel.choices)
    )
    disability_level = forms.ChoiceField(
        label=_("Disability level"), required=False, choices=_blank("—") + list(DisabilityLevel.choices)
    )
    family_situation = forms.CharField(
        label=_("Family situation"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    intends_to_work = forms.BooleanField(label=_("Intends to work"), required=False, initial=True)
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=LedgerSource.choices, initial=LedgerSource.SURVEY
    )


class LedgerJoinForm(LedgerEntryFieldsForm):
    joined_on = forms.DateField(label=_("Joined on"), widget=DateInput())
    reason = _reason_field(_("Reason for joining"))

    field_order = ["joined_on", "reason", "categories"]


class LedgerEditForm(LedgerEntryFieldsForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class LedgerLeaveForm(BootstrapForm):
    left_on = forms.DateField(label=_("Left on"), widget=DateInput())
    reason = _reason_field(_("Reason for leaving"))
    version = forms.IntegerField(widget=forms.HiddenInput)


class EvidenceForm(BootstrapForm):
    evidence = forms.FileField(
        label=_("Evidence (PDF, JPEG or PNG)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    verified_on = forms.DateField(label=_("Verified on"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("evidence") and not data.get("verified_on"):
            raise ValidationError(_("Choose a file or enter a verification date."))
        return data
