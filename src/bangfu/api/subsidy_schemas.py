"""Input and output schemas of the subsidies router. Money is in yuan: answers send it as a string with two
decimals ("1500.00"), requests may send a number or a string."""

import datetime as dt
import os
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from bangfu.api.schemas import InputSchema, PatchSchema, PersonRef, StudentRef, UnitRef
from bangfu.assistance.models import Stage
from bangfu.students.models import Category
from bangfu.subsidies.models import (
    AmountKind,
    Application,
    ApplicationStatus,
    Objection,
    PaymentBatch,
    Receipt,
    SubsidyType,
)

CENT = Decimal("0.01")
# The largest amounts the database holds (10 and 12 digits with fen), stated so that the schema shows them.
MAX_AMOUNT = Decimal("99999999.99")
MAX_BUDGET = Decimal("9999999999.99")


def _yuan(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT)


def _version() -> Any:
    return Field(..., ge=1, le=2_000_000_000, description="The version as read; a stale one answers 409.")


# --- Types and budgets -----------------------------------------------------------------------------------------


class SubsidyTypeRef(Schema):
    id: UUID
    code: str
    name: str
    name_en: str

    @staticmethod
    def resolve_id(obj: SubsidyType) -> UUID:
        return obj.public_id


class SubsidyTypeOut(Schema):
    id: UUID
    school: UnitRef
    code: str
    name: str
    name_en: str
    description: str
    categories: list[str] = Field(description="Ledger categories that qualify (any one); empty: every ledger student.")
    stages: list[str] = Field(description="Stages of help in which one may apply; empty: any stage.")
    once_per_person: bool
    amount_kind: str = Field(description="fixed: exactly `amount`; capped: at most `amount`.")
    amount: Decimal
    evidence_required: str = Field(description="What evidence to attach; empty: none.")
    receipts_required: bool
    public_notice_days: int = Field(description="Working days of public notice; 0: no notice.")
    is_active: bool
    version: int

    @staticmethod
    def resolve_id(obj: SubsidyType) -> UUID:
        return obj.public_id


class SubsidyTypeIn(InputSchema):
    school: UUID
    code: str = Field(..., max_length=32)
    name: str = Field(..., max_length=100, description="In Chinese.")
    name_en: str = Field("", max_length=150)
    description: str = Field("", max_length=5000)
    categories: list[Category] = Field([], max_length=20)
    stages: list[Stage] = Field([], max_length=10)
    once_per_person: bool = False
    amount_kind: AmountKind = AmountKind.FIXED
    amount: Decimal = Field(..., max_digits=10, decimal_places=2, le=MAX_AMOUNT)
    evidence_required: str = Field("", max_length=300)
    receipts_required: bool = False
    public_notice_days: int = Field(5, ge=0, le=60)
    is_active: bool = True

    def fields(self) -> dict[str, Any]:
        """The keyword arguments of `save_subsidy_type`, choices as plain codes."""
        fields = self.dict(exclude={"school"})
        fields["categories"] = [str(c) for c in self.categories]
        fields["stages"] = [str(s) for s in self.stages]
        fields["amount_kind"] = str(self.amount_kind)
        return fields


class SubsidyTypePatch(PatchSchema):
    code: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=100)
    name_en: str | None = Field(None, max_length=150)
    description: str | None = Field(None, max_length=5000)
    categories: list[Category] | None = Field(None, max_length=20)
    stages: list[Stage] | None = Field(None, max_length=10)
    once_per_person: bool | None = None
    amount_kind: AmountKind | None = None
    amount: Decimal | None = Field(None, max_digits=10, decimal_places=2, le=MAX_AMOUNT)
    evidence_required: str | None = Field(None, max_length=300)
    receipts_required: bool | None = None
    public_notice_days: int | None = Field(None, ge=0, le=60)
    is_active: bool | None = None

    def fields(self) -> dict[str, Any]:
        fields = self.changes()
        for name in ("categories", "stages"):
            if name in fields:
                fields[name] = [str(v) for v in fields[name]]
        if "amount_kind" in fields:
            fields["amount_kind"] = str(fields["amount_kind"])
        return fields


class BudgetOut(Schema):
    subsidy_type: SubsidyTypeRef
    year: int
    amount: Decimal
    committed: Decimal = Field(description="Approved by the school, on notice, approved for payment or paid.")
    left: Decimal = Field(description="Negative when approvals went beyond the budget with an override.")
    version: int

    # Sums come back from SQLite without their two decimals.
    @staticmethod
    def resolve_committed(obj: Any) -> Decimal:
        return _yuan(obj.committed)

    @staticmethod
    def resolve_left(obj: Any) -> Decimal:
        return _yuan(obj.left)


class BudgetIn(InputSchema):
    amount: Decimal = Field(..., max_digits=12, decimal_places=2, le=MAX_BUDGET)
    version: int | None = Field(
        None, ge=1, le=2_000_000_000, description="The budget's version as read; leave it out to set the first one."
    )


class BudgetFilters(InputSchema):
    year: int | None = Field(None, ge=2000, le=2100)
    subsidy_type: UUID | None = None


class EligibilityOut(Schema):
    subsidy_type: SubsidyTypeRef
    eligible: bool
    reasons: list[str] = Field(description="Why the student may not apply, in the caller's language.")


class EligibilityFilters(InputSchema):
    subsidy_type: UUID | None = Field(None, description="Only this type (also when it is not offered at present).")


# --- Applications --------------------------------------------------------------------------------------------


class BatchRef(Schema):
    id: UUID
    name: str
    paid_on: dt.date | None

    @staticmethod
    def resolve_id(obj: PaymentBatch) -> UUID:
        return obj.public_id


class ApplicationStepOut(Schema):
    from_status: str
    to_status: str
    by: PersonRef
    at: dt.datetime
    on: dt.date
    comment: str
    budget_override: bool


class ObjectionOut(Schema):
    id: UUID
    raised_on: dt.date
    content: str
    recorded_by: PersonRef
    handling: str
    upheld: bool | None
    resolved_on: dt.date | None
    resolved_by: PersonRef | None

    @staticmethod
    def resolve_id(obj: Objection) -> UUID:
        return obj.public_id


class ReceiptOut(Schema):
    amount: Decimal
    description: str
    file_name: str
    uploaded_by: PersonRef
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_file_name(obj: Receipt) -> str:
        return os.path.basename(obj.file.name or "")


class ApplicationOut(Schema):
    id: UUID
    student: StudentRef
    subsidy_type: SubsidyTypeRef
    year: int = Field(description="The budget year.")
    amount: Decimal
    reason: str
    status: str
    has_evidence: bool
    evidence_name: str | None
    applied_by: PersonRef
    created_at: dt.datetime
    submitted_on: dt.date | None
    notice_starts_on: dt.date | None
    notice_ends_on: dt.date | None
    budget_override: bool = Field(description="Approved by the school beyond the year's budget.")
    batch: BatchRef | None
    paid_on: dt.date | None
    version: int = Field(description="Send it back with an edit or a step; a stale one answers 409.")

    @staticmethod
    def resolve_id(obj: Application) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_has_evidence(obj: Application) -> bool:
        return bool(obj.evidence)

    @staticmethod
    def resolve_evidence_name(obj: Application) -> str | None:
        return os.path.basename(obj.evidence.name or "") if obj.evidence else None


class ApplicationDetailOut(ApplicationOut):
    steps: list[ApplicationStepOut] = Field(
        description="Who moved the application, when, with what comment; oldest first."
    )
    objections: list[ObjectionOut] | None = Field(
        description="Raised during the public notice; null unless the caller may view sensitive data."
    )
    receipts: list[ReceiptOut]

    @staticmethod
    def resolve_steps(obj: Application) -> Any:
        return obj.steps.all()

    # Hidden unless the view cleared the caller: forgetting the check hides the objections, never leaks them.
    @staticmethod
    def resolve_objections(obj: Application) -> Any:
        return obj.objections.all() if getattr(obj, "api_show_objections", False) else None

    @staticmethod
    def resolve_receipts(obj: Application) -> Any:
        return obj.receipts.all()


class ApplicationFilters(InputSchema):
    status: ApplicationStatus | None = None
    subsidy_type: UUID | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    student: UUID | None = None
    department: UUID | None = None
    batch: UUID | None = None
    payable: bool | None = Field(None, description="true: approved for payment and in no batch yet.")


class ApplicationIn(InputSchema):
    subsidy_type: UUID
    amount: Decimal | None = Field(
        None, max_digits=10, decimal_places=2, le=MAX_AMOUNT, description="Yuan; leave it out for the type's amount."
    )
    reason: str = Field(..., max_length=5000)


class ApplicationPatch(PatchSchema):
    amount: Decimal | None = Field(None, max_digits=10, decimal_places=2, le=MAX_AMOUNT)
    reason: str | None = Field(None, max_length=5000)


class ApplicationEvidenceIn(InputSchema):
    version: int = _version()


class ReceiptIn(InputSchema):
    amount: Decimal = Field(..., max_digits=10, decimal_places=2, le=MAX_AMOUNT)
    description: str = Field("", max_length=200, description="What it is for, e.g. 石家庄—北京 高铁.")


class ApplicationStepIn(InputSchema):
    version: int = _version()
    comment: str = Field("", max_length=2000, description="Required to return or reject.")


class SchoolApprovalIn(ApplicationStepIn):
    override_budget: bool = Field(
        False, description="Approve beyond what is left of the year's budget (needs a comment; logged)."
    )


class NoticeIn(InputSchema):
    applications: list[UUID] = Field(..., min_length=1, max_length=500)
    starts_on: dt.date = Field(description="Not in the past; the notice runs the type's number of working days.")


class ObjectionIn(InputSchema):
    content: str = Field(..., max_length=5000)
    raised_on: dt.date = Field(description="A day of the public notice.")


class ResolutionIn(InputSchema):
    handling: str = Field(..., max_length=5000)
    upheld: bool = Field(description="An upheld objection stops the final approval: reject the application.")


# --- Payment batches ----------------------------------------------------------------------------------------


class BatchOut(Schema):
    id: UUID
    school: UnitRef
    name: str
    created_by: PersonRef
    created_on: dt.date
    paid_on: dt.date | None
    paid_by: PersonRef | None
    count: int = Field(description="Applications in the batch.")
    total: Decimal = Field(description="Their amounts added up.")
    version: int

    @staticmethod
    def resolve_id(obj: PaymentBatch) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_total(obj: PaymentBatch) -> Decimal:
        return _yuan(obj.total)  # type: ignore[attr-defined]


class BatchDetailOut(BatchOut):
    applications: list[ApplicationOut]

    @staticmethod
    def resolve_applications(obj: PaymentBatch) -> Any:
        return obj.api_applications  # type: ignore[attr-defined]


class BatchIn(InputSchema):
    school: UUID
    name: str = Field(..., max_length=100)
    applications: list[UUID] = Field(..., min_length=1, max_length=1000)


class PaidIn(InputSchema):
    paid_on: dt.date = Field(description="Not in the future.")
    version: int = _version()


class BatchFilters(InputSchema):
    paid: bool | None = None
