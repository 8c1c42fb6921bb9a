"""Forms of the employer, position and recruitment-event pages. They parse input only; the services check every
rule again (credit code, duplicates, majors of the school, salary range)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Model, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from bangfu.opportunities.models import (
    Employer,
    EmployerType,
    EventKind,
    Industry,
    Position,
    PositionKind,
    PositionStatus,
    RecruitmentEvent,
)
from bangfu.opportunities.services import EMPLOYER_FIELDS
from bangfu.organisation.models import OrgUnit
from bangfu.students.forms import BootstrapForm, DateInput, SearchInput
from bangfu.students.models import Student


def _model_field(model: type[Model], name: str, **kwargs: Any) -> forms.Field:
    """The form field Django makes for a model field (label and choices from the model)."""
    field = model._meta.get_field(name).formfield(**kwargs)  # type: ignore[union-attr]
    assert field is not None
    return field


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:  # type: ignore[override]
        return obj.display_name(get_language() or "")


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:  # type: ignore[override]
        return obj.display_name(get_language() or "")


def _school_field() -> UnitChoiceField:
    return UnitChoiceField(label=_("School"), queryset=OrgUnit.objects.none(), to_field_name="public_id")


def _set_schools(form: forms.Form, schools: list[OrgUnit]) -> None:
    """Most users work for one school: then the form has no school field and the view uses that school."""
    if len(schools) > 1:
        field = cast(forms.ModelChoiceField, form.fields["school"])
        field.queryset = OrgUnit.objects.filter(pk__in=[s.pk for s in schools]).order_by("path")
    else:
        del form.fields["school"]


def chosen_school(form: forms.Form, schools: list[OrgUnit]) -> OrgUnit:
    return form.cleaned_data["school"] if "school" in form.fields else schools[0]


# --- Employers --------------------------------------------------------------------------------------------------

PARTNER_CHOICES = [
    ("", _("Partner or not")),
    ("any", _("Any partnership")),
    ("internship", _("Internship base")),
    ("order_class", _("Order-class partner")),
    ("work_study", _("Work-study host")),
]
_PARTNER_Q = {
    "any": Q(is_internship_base=True) | Q(is_order_class_partner=True) | Q(is_work_study_host=True),
    "internship": Q(is_internship_base=True),
    "order_class": Q(is_order_class_partner=True),
    "work_study": Q(is_work_study_host=True),
}


class EmployerFilterForm(BootstrapForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=64, widget=SearchInput)
    partner = forms.ChoiceField(label=_("Partnership"), required=False, choices=PARTNER_CHOICES)
    industry = forms.ChoiceField(
        label=_("Industry"), required=False, choices=_blank(_("All industries")) + list(Industry.choices)
    )
    employer_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=_blank(_("All types")) + list(EmployerType.choices)
    )

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self.fields["q"].widget.attrs.update({"placeholder": _("Name or credit code"), "autocomplete": "off"})

    def apply(self, employers: QuerySet[Employer]) -> QuerySet[Employer]:
        """Filter by the fields that validated; a field with an error is shown and left out."""
        if not self.is_bound:
            return employers
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if q := (data.get("q") or "").strip():
            employers = employers.filter(Q(name__icontains=q) | Q(credit_code__icontains=q.replace(" ", "").upper()))
        if partner := data.get("partner"):
            employers = employers.filter(_PARTNER_Q[partner])
        if industry := data.get("industry"):
            employers = employers.filter(industry=industry)
        if employer_type := data.get("employer_type"):
            employers = employers.filter(employer_type=employer_type)
        return employers

    @property
    def filtering(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(k) for k in ("partner", "industry", "employer_type"))


class EmployerForm(BootstrapForm):
    school = _school_field()
    name = _model_field(Employer, "name")
    # Longer than the 18 characters of a code, so the service's message about the format is the one shown.
    credit_code = _model_field(
        Employer, "credit_code", max_length=40, help_text=_("18 characters, on the business licence.")
    )
    industry = _model_field(Employer, "industry")
    employer_type = _model_field(Employer, "employer_type")
    size = _model_field(Employer, "size")
    province = _model_field(Employer, "province")
    city = _model_field(Employer, "city")
    is_internship_base = _model_field(Employer, "is_internship_base")
    is_order_class_partner = _model_field(Employer, "is_order_class_partner")
    is_work_study_host = _model_field(Employer, "is_work_study_host")
    contact_name = _model_field(Employer, "contact_name")
    contact_phone = _model_field(Employer, "contact_phone")
    contact_email = _model_field(Employer, "contact_email")
    notes = _model_field(Employer, "notes", widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data: Any, *, schools: list[OrgUnit], employer: Employer | None = None) -> None:
        initial = {f: getattr(employer, f) for f in EMPLOYER_FIELDS} if employer else {}
        if employer:
            initial["version"] = employer.version
        super().__init__(data, initial=initial)
        self.fields["credit_code"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        if employer:
            del self.fields["school"]
        else:
            del self.fields["version"]
            _set_schools(self, schools)

    def service_kwargs(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in EMPLOYER_FIELDS}


# --- Positions --------------------------------------------------------------------------------------------------

ALL = "all"
POSITION_STATUS_CHOICES = [
    ("", _("Open now")),
    (PositionStatus.FILLED, PositionStatus.FILLED.label),
    (PositionStatus.CLOSED, PositionStatus.CLOSED.label),
    ("past_deadline", _("Open, but past the deadline")),
    (ALL, _("All positions")),
]


class PositionFilterForm(BootstrapForm):
    """The position list: open positions (deadline not passed) unless another status is asked for."""

    q = forms.CharField(label=_("Search"), required=False, max_length=64, widget=SearchInput)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=_blank(_("All kinds")) + list(PositionKind.choices)
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=POSITION_STATUS_CHOICES)
    employer = forms.ChoiceField(label=_("Employer"), required=False)
    major = forms.ChoiceField(label=_("Major"), required=False)

    def __init__(self, data: Any, *, employers: QuerySet[Employer], majors: QuerySet[OrgUnit]) -> None:
        super().__init__(data)
        self.fields["q"].widget.attrs.update({"placeholder": _("Title or employer"), "autocomplete": "off"})
        _choice(self, "employer").choices = _blank(_("All employers")) + [
            (str(pid), name) for pid, name in employers.values_list("public_id", "name")
        ]
        language = get_language() or ""
        _choice(self, "major").choices = _blank(_("All majors")) + [
            (str(m.public_id), m.display_name(language)) for m in majors
        ]

    def apply(self, positions: QuerySet[Position], today: Any) -> QuerySet[Position]:
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = getattr(self, "cleaned_data", {})
        status = data.get("status") or ""
        if status == "":
            positions = positions.open_on(today)  # type: ignore[attr-defined]
        elif status == "past_deadline":
            positions = positions.filter(status=PositionStatus.OPEN, deadline__lt=today)
        elif status != ALL:
            positions = positions.filter(status=status)
        if q := (data.get("q") or "").strip():
            positions = positions.filter(Q(title__icontains=q) | Q(employer__name__icontains=q))
        if kind := data.get("kind"):
            positions = positions.filter(kind=kind)
        if employer := data.get("employer"):
            positions = positions.filter(employer__public_id=employer)
        if major := data.get("major"):
            # A position that names no major is open to every major.
            wants = Position.majors.through.objects.filter(orgunit__public_id=major).values("position_id")
            positions = positions.filter(Q(pk__in=wants) | Q(majors__isnull=True)).distinct()
        return positions

    @property
    def filtering(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(k) for k in ("kind", "status", "employer", "major"))


class PositionForm(BootstrapForm):
    kind = _model_field(Position, "kind")
    title = _model_field(Position, "title")
    description = _model_field(Position, "description", widget=forms.Textarea(attrs={"rows": 4}))
    majors = UnitMultipleChoiceField(
        label=_("Majors wanted"),
        queryset=OrgUnit.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: open to every major."),
    )
    province = _model_field(Position, "province")
    city = _model_field(Position, "city")
    salary_min = _model_field(Position, "salary_min")
    salary_max = _model_field(Position, "salary_max")
    openings = _model_field(Position, "openings", min_value=1)
    deadline = _model_field(Position, "deadline", widget=DateInput())
    status = _model_field(Position, "status")
    version = forms.IntegerField(widget=forms.HiddenInput)

    FIELDS = (
        "kind",
        "title",
        "description",
        "province",
        "city",
        "salary_min",
        "salary_max",
        "openings",
        "deadline",
        "status",
    )

    def __init__(
        self, data: Any, *, employer: Employer, majors: QuerySet[OrgUnit], position: Position | None = None
    ) -> None:
        if position:
            initial: dict[str, Any] = {f: getattr(position, f) for f in self.FIELDS}
            initial.update(version=position.version, majors=list(position.majors.all()))
        else:
            # A new position is, by default, where the employer is.
            initial = {"province": employer.province, "city": employer.city}
        super().__init__(data, initial=initial)
        cast(forms.ModelMultipleChoiceField, self.fields["majors"]).queryset = majors
        if not position:
            del self.fields["version"]

    def service_kwargs(self) -> dict[str, Any]:
        kwargs = {f: self.cleaned_data[f] for f in self.FIELDS}
        kwargs["majors"] = list(self.cleaned_data["majors"])
        return kwargs


class RecommendForm(forms.Form):
    student = forms.UUIDField()
    note = forms.CharField(required=False, max_length=500)


# --- Recruitment events -----------------------------------------------------------------------------------------


class EventForm(BootstrapForm):
    school = _school_field()
    kind = _model_field(RecruitmentEvent, "kind", initial=EventKind.CAMPUS_FAIR)
    title = _model_field(RecruitmentEvent, "title")
    held_on = _model_field(RecruitmentEvent, "held_on", widget=DateInput())
    place = _model_field(RecruitmentEvent, "place")
    employers = forms.ModelMultipleChoiceField(
        label=_("Employers"),
        queryset=Employer.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = _model_field(RecruitmentEvent, "notes", widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    FIELDS = ("kind", "title", "held_on", "place", "notes")

    def __init__(
        self,
        data: Any,
        *,
        schools: list[OrgUnit],
        employers: QuerySet[Employer],
        event: RecruitmentEvent | None = None,
    ) -> None:
        initial: dict[str, Any] = {}
        if event:
            initial = {f: getattr(event, f) for f in self.FIELDS}
            initial.update(version=event.version, employers=list(event.employers.all()))
        super().__init__(data, initial=initial)
        cast(forms.ModelMultipleChoiceField, self.fields["employers"]).queryset = employers
        if event:
            del self.fields["school"]
        else:
            del self.fields["version"]
            _set_schools(self, schools)

    def service_kwargs(self) -> dict[str, Any]:
        kwargs = {f: self.cleaned_data[f] for f in self.FIELDS}
        kwargs["employers"] = list(self.cleaned_data["employers"])
        return kwargs


class StudentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Student) -> str:  # type: ignore[override]
        return f"{obj.name} ({obj.student_number})"


class AttendanceForm(BootstrapForm):
    student = StudentChoiceField(label=_("Student"), queryset=Student.objects.none(), to_field_name="public_id")
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, data: Any, *, students: QuerySet[Student]) -> None:
        super().__init__(data)
        cast(forms.ModelChoiceField, self.fields["student"]).queryset = students
