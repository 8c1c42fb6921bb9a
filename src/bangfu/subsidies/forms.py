"""Forms for the subsidy pages. They parse input only; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bangfu.assistance.forms import BootstrapForm, DateInput
from bangfu.assistance.models import Stage
from bangfu.organisation.models import OrgUnit
from bangfu.students.models import Category
from bangfu.subsidies.models import AmountKind, Application, ApplicationStatus, SubsidyType

CENT = Decimal("0.01")
# The stages in which one may apply; "help completed" is not one of them.
APPLY_STAGES = [(value, label) for value, label in Stage.choices if value != Stage.CLOSED]


class ApplicationFilterForm(BootstrapForm):
    subsidy_type = forms.ChoiceField(label=_("Subsidy"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ApplicationStatus.choices]
    )
    year = forms.IntegerField(label=_("Budget year"), required=False, widget=forms.Select)
    department = forms.ChoiceField(label=_("Department"), required=False)
    waiting = forms.BooleanField(label=_("Waiting for me"), required=False)

    def __init__(
        self,
        *args: Any,
        types: QuerySet[SubsidyType],
        departments: QuerySet[OrgUnit],
        years: list[int],
        language: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subsidy_type"].choices = [  # type: ignore[attr-defined]
            ("", _("Every subsidy")),
            *((str(t.public_id), t.display(language)) for t in types),
        ]
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", _("Every department")),
            *((str(d.public_id), d.display_name(language)) for d in departments),
        ]
        self.fields["year"].widget.choices = [("", _("Every year")), *((y, str(y)) for y in years)]

    def filters(self) -> dict[str, Any]:
        """The chosen filters; a value the form refuses is passed on as given, so it matches nothing (a stale or
        guessed filter only ever shortens the list)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        chosen: dict[str, Any] = {}
        for name in ("subsidy_type", "status", "year", "department"):
            if name in self.errors:
                chosen[name] = self.data.get(name)
            elif self.cleaned_data.get(name) not in (None, ""):
                chosen[name] = self.cleaned_data[name]
        if self.cleaned_data.get("waiting"):
            chosen["waiting"] = True
        return chosen


class SubsidyTypeForm(BootstrapForm):
    code = forms.SlugField(label=_("Code"), max_length=32, help_text=_("Letters, digits, - and _, e.g. job_search."))
    name = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=150)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    categories = forms.MultipleChoiceField(
        label=_("Qualifying ledger categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Any one of them qualifies; none ticked: every student in the ledger."),
    )
    stages = forms.MultipleChoiceField(
        label=_("Stages in which one may apply"),
        choices=APPLY_STAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any stage."),
    )
    once_per_person = forms.BooleanField(label=_("Once per person"), required=False)
    amount_kind = forms.ChoiceField(label=_("Amount"), choices=AmountKind.choices)
    amount = forms.DecimalField(label=_("Amount or cap (yuan)"), max_digits=10, decimal_places=2)
    evidence_required = forms.CharField(
        label=_("Evidence required"),
        max_length=300,
        required=False,
        help_text=_("What the applicant must attach; leave empty when no evidence is needed."),
    )
    receipts_required = forms.BooleanField(label=_("Receipts required"), required=False)
    public_notice_days = forms.IntegerField(
        label=_("Working days of public notice"), min_value=0, max_value=60, help_text=_("0: no public notice.")
    )
    is_active = forms.BooleanField(label=_("Offered now"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @staticmethod
    def initial_for(subsidy_type: SubsidyType) -> dict[str, Any]:
        names = [n for n in SubsidyTypeForm.base_fields if n != "version"]
        return {**{n: getattr(subsidy_type, n) for n in names}, "version": subsidy_type.version}

    def service_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class BudgetForm(BootstrapForm):
    subsidy_type = forms.UUIDField(widget=forms.HiddenInput)
    year = forms.IntegerField(widget=forms.HiddenInput, min_value=2000, max_value=2100)
    amount = forms.DecimalField(label=_("Budget (yuan)"), max_digits=12, decimal_places=2)


class ApplyForm(BootstrapForm):
    """A new application; the receipt fields are there for types that need receipts (travel)."""

    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=10, decimal_places=2)
    reason = forms.CharField(label=_("Reason for applying"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("Evidence"), required=False, help_text=_("PDF, JPEG or PNG."))
    receipt = forms.FileField(label=_("Receipt"), required=False, help_text=_("PDF, JPEG or PNG."))
    receipt_amount = forms.DecimalField(
        label=_("Receipt amount (yuan)"), max_digits=10, decimal_places=2, min_value=CENT, required=False
    )
    receipt_description = forms.CharField(label=_("What the receipt is for"), max_length=200, required=False)

    def __init__(self, *args: Any, subsidy_type: SubsidyType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if subsidy_type.needs_evidence:
            self.fields["evidence"].help_text = subsidy_type.evidence_required
        else:
            del self.fields["evidence"]
        if not subsidy_type.receipts_required:
            for name in ("receipt", "receipt_amount", "receipt_description"):
                del self.fields[name]
        self.fields["amount"].widget.attrs["readonly"] = subsidy_type.amount_kind == AmountKind.FIXED

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("receipt") and data.get("receipt_amount") is None:
            self.add_error("receipt_amount", _("Give the amount on the receipt."))
        return data


class ApplicationEditForm(BootstrapForm):
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=10, decimal_places=2)
    reason = forms.CharField(label=_("Reason for applying"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(
        label=_("Evidence"), required=False, help_text=_("A new file replaces the one on file. PDF, JPEG or PNG.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    @staticmethod
    def initial_for(application: Application) -> dict[str, Any]:
        return {"amount": application.amount, "reason": application.reason, "version": application.version}


class ReceiptForm(BootstrapForm):
    file = forms.FileField(label=_("Receipt"), help_text=_("PDF, JPEG or PNG."))
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=10, decimal_places=2, min_value=CENT)
    description = forms.CharField(label=_("What it is for"), max_length=200, required=False)


class StepForm(BootstrapForm):
    """A workflow step: an optional comment and the version the page showed."""

    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput)


class SchoolApprovalForm(StepForm):
    override_budget = forms.BooleanField(label=_("Approve beyond the remaining budget"), required=False)


class NoticeForm(BootstrapForm):
    """The start of a public notice; the applications are the ticked boxes named `applications`."""

    starts_on = forms.DateField(label=_("Notice starts on"), widget=DateInput(), initial=timezone.localdate)


class ObjectionForm(BootstrapForm):
    content = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"rows": 2}))
    raised_on = forms.DateField(label=_("Raised on"), widget=DateInput(), initial=timezone.localdate)


class ResolveForm(BootstrapForm):
    handling = forms.CharField(label=_("How it was handled"), widget=forms.Textarea(attrs={"rows": 2}))
    upheld = forms.TypedChoiceField(
        label=_("Outcome"),
        choices=[("no", _("Not upheld")), ("yes", _("Upheld"))],
        coerce=lambda v: v == "yes",
    )


class BatchForm(BootstrapForm):
    name = forms.CharField(label=_("Batch name"), max_length=100)
    applications = forms.ModelMultipleChoiceField(
        label=_("Applications approved for payment"),
        queryset=Application.objects.none(),
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one approved application.")},
    )

    def __init__(self, *args: Any, applications: QuerySet[Application], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any application of the school: one that is not payable is refused by the service, row by row.
        self.fields["applications"].queryset = applications  # type: ignore[attr-defined]


class PaidForm(BootstrapForm):
    paid_on = forms.DateField(label=_("Paid on"), widget=DateInput(), initial=timezone.localdate)
    version = forms.IntegerField(widget=forms.HiddenInput)
