"""Subsidies: types and budgets (the office's), eligibility, applications through their workflow, objections
during the public notice, and payment batches. The same services and scoping as the pages:

- types are seen by the staff of their school; budgets by those who approve there; payment batches by the office;
- an application is seen by whoever sees its student (404 otherwise), and each step is refused (403) to those
  whose role may not take it; objections are sent only to callers who may view sensitive data (null otherwise).
"""

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models import Value as V
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Path, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS
from bangfu.api.schemas import Pages, SchoolIn
from bangfu.api.subsidy_schemas import (
    ApplicationDetailOut,
    ApplicationEvidenceIn,
    ApplicationFilters,
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    ApplicationStepIn,
    BatchDetailOut,
    BatchFilters,
    BatchIn,
    BatchOut,
    BudgetFilters,
    BudgetIn,
    BudgetOut,
    EligibilityFilters,
    EligibilityOut,
    NoticeIn,
    ObjectionIn,
    ObjectionOut,
    PaidIn,
    ReceiptIn,
    ResolutionIn,
    SchoolApprovalIn,
    SubsidyTypeIn,
    SubsidyTypeOut,
    SubsidyTypePatch,
)
from bangfu.concurrency import StaleEdit
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, has_perm_in, require_perm_in, require_student_perm, staff_schools
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user, student_access
from bangfu.subsidies import services
from bangfu.subsidies.models import (
    COMMITTED,
    Application,
    ApplicationStatus,
    ApplicationStep,
    Budget,
    Objection,
    PaymentBatch,
    Receipt,
    SubsidyType,
)

router = Router(tags=["subsidies"])

MONEY = DecimalField(max_digits=12, decimal_places=2)
ZERO = V(Decimal("0.00"), output_field=MONEY)


# --- Scoping -----------------------------------------------------------------------------------------------------


def _school(user: User, public_id: UUID) -> OrgUnit:
    """A school the caller works in; any other does not exist for them (a refused input, as for a class)."""
    school = next((s for s in staff_schools(user) if s.public_id == public_id), None)
    if school is None:
        raise ValidationError({"school": _("There is no school with this id.")})
    return school


def _approving_schools(user: User, perm: Perm) -> list[OrgUnit]:
    """The schools in which the caller holds `perm` somewhere (budgets: approvers; batches: the office)."""
    return [s for s in staff_schools(user) if has_perm_in(user, perm, s)]


def _types(user: User) -> QuerySet[SubsidyType]:
    return SubsidyType.objects.filter(school__in=staff_schools(user)).select_related("school")


def _type(user: User, public_id: UUID) -> SubsidyType:
    subsidy_type = _types(user).filter(public_id=public_id).first()
    if subsidy_type is None:
        raise Http404
    return subsidy_type


def _applications(user: User) -> QuerySet[Application]:
    return Application.objects.filter(student__in=Student.objects.visible_to(user).values("pk")).select_related(
        "student", "subsidy_type", "applied_by", "batch"
    )


def _application(user: User, public_id: UUID) -> Application:
    """An application of a student the caller may see; otherwise 404."""
    application = _applications(user).filter(public_id=public_id).first()
    if application is None:
        raise Http404
    return application


def _detail(user: User, public_id: UUID) -> Application:
    """The application with its steps, objections and receipts, cleared for what the caller may read."""
    application = (
        _applications(user)
        .select_related("student__school", "student__class_unit")
        .prefetch_related(
            Prefetch("steps", queryset=ApplicationStep.objects.select_related("by").order_by("at", "id")),
            Prefetch("objections", queryset=Objection.objects.select_related("recorded_by", "resolved_by")),
            Prefetch("receipts", queryset=Receipt.objects.select_related("uploaded_by")),
        )
        .filter(public_id=public_id)
        .first()
    )
    if application is None:
        raise Http404
    application.api_show_objections = student_access(user, application.student).can(  # type: ignore[attr-defined]
        Perm.VIEW_SENSITIVE
    )
    return application


def _chosen(user: User, ids: list[UUID], field: str = "applications") -> list[Application]:
    """Applications named in a request body, in its order; an id the caller cannot see is a refused input."""
    found = {a.public_id: a for a in _applications(user).filter(public_id__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationError({field: _("There is no application with this id: %(ids)s") % {"ids": ", ".join(missing)}})
    return [found[i] for i in dict.fromkeys(ids)]


def _budgets(user: User) -> QuerySet[Budget]:
    """Budgets with what is committed against them and what is left, added up by the database."""
    committed = (
        Application.objects.filter(subsidy_type=OuterRef("subsidy_type"), year=OuterRef("year"), status__in=COMMITTED)
        .order_by()
        .values("subsidy_type")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        Budget.objects.filter(subsidy_type__school__in=_approving_schools(user, Perm.APPROVE_DEPARTMENT))
        .select_related("subsidy_type")
        .annotate(committed=Coalesce(Subquery(committed, output_field=MONEY), ZERO, output_field=MONEY))
        .annotate(left=ExpressionWrapper(F("amount") - F("committed"), output_field=MONEY))
        .order_by("-year", "subsidy_type__code")
    )


def _batches(user: User) -> QuerySet[PaymentBatch]:
    return (
        PaymentBatch.objects.filter(school__in=_approving_schools(user, Perm.APPROVE_SCHOOL))
        .select_related("school", "created_by", "paid_by")
        .annotate(count=Count("applications"), total=Coalesce(Sum("applications__amount"), ZERO, output_field=MONEY))
        .order_by("-created_on", "-pk")
    )


def _batch(user: User, public_id: UUID, *, detail: bool = False) -> PaymentBatch:
    batch = _batches(user).filter(public_id=public_id).first()
    if batch is None:
        raise Http404
    if detail:
        batch.api_applications = list(  # type: ignore[attr-defined]
            _applications(user).filter(batch=batch).order_by("student__student_number", "pk")
        )
    return batch


# --- Subsidy types ----------------------------------------------------------------------------------------------


@router.get("/subsidy-types", response={200: list[SubsidyTypeOut], **READ_ERRORS}, summary="List subsidy types")
def subsidy_types_list(request: HttpRequest) -> Any:
    """The types of the schools the caller works in, active and not."""
    return _types(caller(request)).order_by("school__code", "code")


@router.post(
    "/subsidy-types/install-defaults",
    response={201: list[SubsidyTypeOut], **WRITE_ERRORS},
    summary="Add the default subsidy types",
)
def subsidy_types_install_defaults(request: HttpRequest, payload: SchoolIn) -> Any:
    """Add the defaults (national grant, hardship subsidy, job-search subsidy, medical-examination waiver, travel)
    that the school does not have yet, by code; answers the types added (none when it has them all)."""
    user = caller(request)
    installed = services.install_default_types(actor=user, school=_school(user, payload.school))
    return Status(201, _types(user).filter(pk__in=[t.pk for t in installed]).order_by("code"))


@router.post("/subsidy-types", response={201: SubsidyTypeOut, **WRITE_ERRORS}, summary="Create a subsidy type")
def subsidy_types_create(request: HttpRequest, payload: SubsidyTypeIn) -> Any:
    user = caller(request)
    subsidy_type = services.save_subsidy_type(actor=user, school=_school(user, payload.school), **payload.fields())
    return Status(201, _type(user, subsidy_type.public_id))


@router.get("/subsidy-types/{type_id}", response={200: SubsidyTypeOut, **READ_ERRORS}, summary="Get a subsidy type")
def subsidy_types_retrieve(request: HttpRequest, type_id: UUID) -> Any:
    return _type(caller(request), type_id)


@router.patch(
    "/subsidy-types/{type_id}", response={200: SubsidyTypeOut, **EDIT_ERRORS}, summary="Update a subsidy type"
)
def subsidy_types_update(request: HttpRequest, type_id: UUID, payload: SubsidyTypePatch) -> Any:
    """Change the fields sent. Applications already made keep their amount."""
    user = caller(request)
    subsidy_type = _type(user, type_id)
    services.save_subsidy_type(
        actor=user,
        school=subsidy_type.school,
        subsidy_type=subsidy_type,
        expected_version=payload.version,
        **payload.fields(),
    )
    return _type(user, type_id)


# --- Budgets ------------------------------------------------------------------------------------------------------


@router.get("/subsidy-budgets", response={200: list[BudgetOut], **READ_ERRORS}, summary="List budgets")
def subsidy_budgets_list(request: HttpRequest, filters: Query[BudgetFilters]) -> Any:
    """Budgets per type and year with the amount committed (approved by the school and after) and what is left."""
    budgets = _budgets(caller(request))
    if filters.year is not None:
        budgets = budgets.filter(year=filters.year)
    if filters.subsidy_type is not None:
        budgets = budgets.filter(subsidy_type__public_id=filters.subsidy_type)
    return budgets


@router.put(
    "/subsidy-types/{type_id}/budgets/{year}",
    response={200: BudgetOut, 201: BudgetOut, **EDIT_ERRORS},
    summary="Set a budget",
)
def subsidy_budgets_set(
    request: HttpRequest, type_id: UUID, year: Annotated[int, Path(ge=2000, le=2100)], payload: BudgetIn
) -> Any:
    """201 for the type's first budget of the year (sent without `version`), 200 after, with the version read."""
    user = caller(request)
    subsidy_type = _type(user, type_id)
    require_perm_in(user, Perm.APPROVE_SCHOOL, subsidy_type.school)
    try:
        with transaction.atomic():
            current = Budget.objects.select_for_update().filter(subsidy_type=subsidy_type, year=year).first()
            if current is not None and payload.version != current.version:
                raise StaleEdit()  # someone set it since the caller read it (or before they saw one)
            if current is None and payload.version is not None:
                raise ValidationError({"version": _("There is no budget for this year yet: send no version.")})
            budget = services.set_budget(actor=user, subsidy_type=subsidy_type, year=year, amount=payload.amount)
    except IntegrityError:
        raise StaleEdit() from None  # two first budgets at once: the other one was saved first
    return Status(201 if current is None else 200, _budgets(user).get(pk=budget.pk))


# --- Eligibility ------------------------------------------------------------------------------------------------


@router.get(
    "/students/{student_id}/subsidy-eligibility",
    response={200: list[EligibilityOut], **READ_ERRORS},
    summary="Which subsidies a student may apply for",
)
def subsidy_eligibility_list(request: HttpRequest, student_id: UUID, filters: Query[EligibilityFilters]) -> Any:
    """Each subsidy the student's school offers, whether the student may apply today and, if not, every reason."""
    student = get_student_for_user(caller(request), student_id)
    types = SubsidyType.objects.filter(school_id=student.school_id).order_by("code")
    types = types.filter(public_id=filters.subsidy_type) if filters.subsidy_type else types.filter(is_active=True)
    today = timezone.localdate()
    answers = []
    for subsidy_type in types:  # a school offers a handful of types
        verdict = services.eligibility(student, subsidy_type, today)
        answers.append({"subsidy_type": subsidy_type, "eligible": verdict.eligible, "reasons": verdict.reasons})
    return answers


# --- Applications -----------------------------------------------------------------------------------------------


@router.get(
    "/subsidy-applications", response={200: list[ApplicationOut], **READ_ERRORS}, summary="List subsidy applications"
)
@paginate(Pages)
def subsidy_applications_list(request: HttpRequest, filters: Query[ApplicationFilters]) -> Any:
    """The applications of the students the caller may see, newest first."""
    applications = _applications(caller(request))
    if filters.status:
        applications = applications.filter(status=filters.status)
    if filters.subsidy_type:
        applications = applications.filter(subsidy_type__public_id=filters.subsidy_type)
    if filters.year is not None:
        applications = applications.filter(year=filters.year)
    if filters.student:
        applications = applications.filter(student__public_id=filters.student)
    if filters.department:
        applications = applications.filter(student__department__public_id=filters.department)
    if filters.batch:
        applications = applications.filter(batch__public_id=filters.batch)
    if filters.payable is True:
        applications = applications.filter(status=ApplicationStatus.APPROVED, batch__isnull=True)
    elif filters.payable is False:
        applications = applications.exclude(status=ApplicationStatus.APPROVED, batch__isnull=True)
    return applications.order_by("-created_at", "-pk")


@router.post(
    "/students/{student_id}/subsidy-applications",
    response={201: ApplicationDetailOut, **WRITE_ERRORS},
    summary="Apply for a subsidy",
)
def subsidy_applications_create(request: HttpRequest, student_id: UUID, payload: ApplicationIn) -> Any:
    """Start a draft for the student; a student who may not apply is refused with every reason (code
    `not_eligible`). Attach the evidence with `/subsidy-applications/{id}/evidence`, then submit."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.APPLY_SUBSIDY, student)
    # The types of the student's school (a student applying for themself works for no school).
    subsidy_type = SubsidyType.objects.filter(school_id=student.school_id, public_id=payload.subsidy_type).first()
    if subsidy_type is None:
        raise ValidationError({"subsidy_type": _("There is no subsidy type with this id.")})
    application = services.create_application(
        actor=user,
        student=student,
        subsidy_type=subsidy_type,
        amount=payload.amount,
        reason=payload.reason,
        today=timezone.localdate(),
    )
    return Status(201, _detail(user, application.public_id))


@router.post(
    "/subsidy-applications/start-notice",
    response={200: list[ApplicationOut], **EDIT_ERRORS},
    summary="Put applications on public notice",
)
def subsidy_applications_start_notice(request: HttpRequest, payload: NoticeIn) -> Any:
    """School-approved applications go on notice together from `starts_on`, each for its type's working days."""
    user = caller(request)
    noticed = services.start_public_notice(
        actor=user,
        applications=_chosen(user, payload.applications),
        starts_on=payload.starts_on,
        today=timezone.localdate(),
    )
    return list(_applications(user).filter(pk__in=[a.pk for a in noticed]).order_by("student__student_number", "pk"))


@router.get(
    "/subsidy-applications/{application_id}",
    response={200: ApplicationDetailOut, **READ_ERRORS},
    summary="Get a subsidy application",
)
def subsidy_applications_retrieve(request: HttpRequest, application_id: UUID) -> Any:
    return _detail(caller(request), application_id)


@router.patch(
    "/subsidy-applications/{application_id}",
    response={200: ApplicationDetailOut, **EDIT_ERRORS},
    summary="Edit a subsidy application",
)
def subsidy_applications_update(request: HttpRequest, application_id: UUID, payload: ApplicationPatch) -> Any:
    """A draft, or an application returned for revision: change the amount or the reason."""
    user = caller(request)
    changes = payload.changes()
    services.update_application(
        actor=user,
        application=_application(user, application_id),
        expected_version=payload.version,
        today=timezone.localdate(),
        amount=changes.get("amount"),
        reason=changes.get("reason"),
    )
    return _detail(user, application_id)


@router.post(
    "/subsidy-applications/{application_id}/evidence",
    response={200: ApplicationDetailOut, **EDIT_ERRORS},
    summary="Attach the evidence of an application",
)
def subsidy_applications_attach_evidence(
    request: HttpRequest,
    application_id: UUID,
    payload: Form[ApplicationEvidenceIn],
    evidence: File[UploadedFile],
) -> Any:
    """A multipart form: the file (PDF, JPEG or PNG) as `evidence`, and the application's `version`. It replaces
    any evidence attached before."""
    user = caller(request)
    services.update_application(
        actor=user,
        application=_application(user, application_id),
        expected_version=payload.version,
        today=timezone.localdate(),
        evidence=evidence,
    )
    return _detail(user, application_id)


@router.post(
    "/subsidy-applications/{application_id}/receipts",
    response={201: ApplicationDetailOut, **WRITE_ERRORS},
    summary="Add a receipt",
)
def subsidy_applications_add_receipt(
    request: HttpRequest,
    application_id: UUID,
    payload: Form[ReceiptIn],
    file: File[UploadedFile],
) -> Any:
    """A multipart form: the receipt (PDF, JPEG or PNG) as `file`, its `amount` and `description`. The amount
    claimed may not be more than the receipts; answers the application with its receipts."""
    user = caller(request)
    services.add_receipt(
        actor=user,
        application=_application(user, application_id),
        file=file,
        amount=payload.amount,
        description=payload.description,
    )
    return Status(201, _detail(user, application_id))


def _take_step(
    request: HttpRequest, application_id: UUID, step: Any, payload: ApplicationStepIn, **extra: Any
) -> Application:
    user = caller(request)
    step(
        actor=user,
        application=_application(user, application_id),
        today=timezone.localdate(),
        comment=payload.comment,
        expected_version=payload.version,
        **extra,
    )
    return _detail(user, application_id)


STEP_RESPONSES: dict[int, Any] = {200: ApplicationDetailOut, **EDIT_ERRORS}


@router.post("/subsidy-applications/{application_id}/submit", response=STEP_RESPONSES, summary="Submit")
def subsidy_applications_submit(request: HttpRequest, application_id: UUID, payload: ApplicationStepIn) -> Any:
    """Eligibility is checked again; the evidence and the receipts the type requires must be attached."""
    user = caller(request)
    services.submit_application(
        actor=user,
        application=_application(user, application_id),
        today=timezone.localdate(),
        expected_version=payload.version,
    )
    return _detail(user, application_id)


@router.post("/subsidy-applications/{application_id}/withdraw", response=STEP_RESPONSES, summary="Withdraw")
def subsidy_applications_withdraw(request: HttpRequest, application_id: UUID, payload: ApplicationStepIn) -> Any:
    """Until the school has approved it."""
    return _take_step(request, application_id, services.withdraw_application, payload)


@router.post(
    "/subsidy-applications/{application_id}/approve-department",
    response=STEP_RESPONSES,
    summary="Approve for the department",
)
def subsidy_applications_approve_department(
    request: HttpRequest, application_id: UUID, payload: ApplicationStepIn
) -> Any:
    """Not by the applicant (code `self_approval`)."""
    return _take_step(request, application_id, services.approve_by_department, payload)


@router.post(
    "/subsidy-applications/{application_id}/approve-school", response=STEP_RESPONSES, summary="Approve for the school"
)
def subsidy_applications_approve_school(request: HttpRequest, application_id: UUID, payload: SchoolApprovalIn) -> Any:
    """Not by the applicant nor by who approved for the department (`self_approval`, `same_approver`). Beyond what is
    left of the year's budget, 422 with code `over_budget` unless `override_budget` is true and a comment says why.
    A type without public notice is then approved for payment at once."""
    return _take_step(
        request, application_id, services.approve_by_school, payload, override_budget=payload.override_budget
    )


@router.post(
    "/subsidy-applications/{application_id}/approve-final",
    response=STEP_RESPONSES,
    summary="Approve for payment after the notice",
)
def subsidy_applications_approve_final(request: HttpRequest, application_id: UUID, payload: ApplicationStepIn) -> Any:
    """Only after the notice has ended (`notice_running`), with every objection resolved (`objection_open`) and
    none upheld (`objection_upheld`)."""
    return _take_step(request, application_id, services.approve_after_notice, payload)


@router.post("/subsidy-applications/{application_id}/return", response=STEP_RESPONSES, summary="Return for revision")
def subsidy_applications_return(request: HttpRequest, application_id: UUID, payload: ApplicationStepIn) -> Any:
    """A submitted application (the department) or a department-approved one (the school); the comment says what
    to revise."""
    return _take_step(request, application_id, services.return_for_revision, payload)


@router.post("/subsidy-applications/{application_id}/reject", response=STEP_RESPONSES, summary="Reject")
def subsidy_applications_reject(request: HttpRequest, application_id: UUID, payload: ApplicationStepIn) -> Any:
    """From submitted up to the public notice; the comment says why."""
    return _take_step(request, application_id, services.reject_application, payload)


@router.post(
    "/subsidy-applications/{application_id}/objections",
    response={201: ObjectionOut, **WRITE_ERRORS},
    summary="Record an objection",
)
def subsidy_objections_create(request: HttpRequest, application_id: UUID, payload: ObjectionIn) -> Any:
    """An objection raised during the application's public notice."""
    user = caller(request)
    objection = services.record_objection(
        actor=user,
        application=_application(user, application_id),
        content=payload.content,
        raised_on=payload.raised_on,
    )
    return Status(201, objection)


@router.post(
    "/subsidy-objections/{objection_id}/resolve",
    response={200: ObjectionOut, **WRITE_ERRORS},
    summary="Resolve an objection",
)
def subsidy_objections_resolve(request: HttpRequest, objection_id: UUID, payload: ResolutionIn) -> Any:
    user = caller(request)
    objection = (
        Objection.objects.filter(public_id=objection_id, application__in=_applications(user).values("pk"))
        .select_related("application__student")
        .first()
    )
    if objection is None:
        raise Http404
    resolved = services.resolve_objection(
        actor=user, objection=objection, handling=payload.handling, upheld=payload.upheld, today=timezone.localdate()
    )
    return Objection.objects.select_related("recorded_by", "resolved_by").get(pk=resolved.pk)


# --- Payment batches ------------------------------------------------------------------------------------------


@router.get("/payment-batches", response={200: list[BatchOut], **READ_ERRORS}, summary="List payment batches")
@paginate(Pages)
def payment_batches_list(request: HttpRequest, filters: Query[BatchFilters]) -> Any:
    """The office's batches, newest first, each with how many applications it holds and their total."""
    batches = _batches(caller(request))
    if filters.paid is not None:
        batches = batches.filter(paid_on__isnull=not filters.paid)
    return batches


@router.post("/payment-batches", response={201: BatchDetailOut, **WRITE_ERRORS}, summary="Create a payment batch")
def payment_batches_create(request: HttpRequest, payload: BatchIn) -> Any:
    """Applications approved for payment and in no batch yet; if any is not, nothing is created and every problem
    is named (code `not_payable`)."""
    user = caller(request)
    school = _school(user, payload.school)
    require_perm_in(user, Perm.APPROVE_SCHOOL, school)
    batch = services.create_payment_batch(
        actor=user,
        school=school,
        name=payload.name,
        applications=_chosen(user, payload.applications),
        today=timezone.localdate(),
    )
    return Status(201, _batch(user, batch.public_id, detail=True))


@router.get("/payment-batches/{batch_id}", response={200: BatchDetailOut, **READ_ERRORS}, summary="Get a payment batch")
def payment_batches_retrieve(request: HttpRequest, batch_id: UUID) -> Any:
    return _batch(caller(request), batch_id, detail=True)


@router.post(
    "/payment-batches/{batch_id}/mark-paid",
    response={200: BatchDetailOut, **EDIT_ERRORS},
    summary="Mark a payment batch paid",
)
def payment_batches_mark_paid(request: HttpRequest, batch_id: UUID, payload: PaidIn) -> Any:
    """Every application of the batch is paid on `paid_on`; a batch is paid once (code `paid_twice`)."""
    user = caller(request)
    services.mark_batch_paid(
        actor=user,
        batch=_batch(user, batch_id),
        paid_on=payload.paid_on,
        today=timezone.localdate(),
        expected_version=payload.version,
    )
    return _batch(user, batch_id, detail=True)
