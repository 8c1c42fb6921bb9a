"""The work ledger (帮扶工作台账): a student's activities, logging one, editing it while its month is open,
correcting it once the month is closed, and downloading its evidence.

The notes and the attachment of an internal activity go only to callers who log help for the student or lead
them; everyone else (the student above all) gets null.
"""

import datetime as dt
import os
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadedfile import UploadedFile as DjangoUploadedFile
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.params.functions import File
from ninja.params.models import Form, FormModel
from ninja.types import DictStrAny

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS, ErrorOut
from bangfu.api.schemas import InputSchema, Pages, PatchSchema, PersonRef, StudentRef, file_download
from bangfu.assistance.models import Activity, ActivityKind, Response, Stage
from bangfu.assistance.rules import Versions, versions_for_schools
from bangfu.assistance.services import is_month_closed, record_activity, update_activity
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.concurrency import lock_current
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, require_student_perm
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user, student_access

router = Router(tags=["activities"])


# --- A body that is JSON, or a multipart form when a file comes with it ------------------------------------------


class _JsonOrFormModel(FormModel):
    @classmethod
    def get_request_data(cls, request: HttpRequest, api: Any, path_params: DictStrAny) -> DictStrAny | None:
        if request.content_type != "application/json":
            return super().get_request_data(request, api, path_params)
        try:
            data = api.parser.parse_body(request) if request.body else {}
        except ValueError:
            raise HttpError(400, _("The request body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise HttpError(400, _("The request body must be a JSON object."))
        return data


class _JsonOrForm(Form):  # type: ignore[misc]
    _model = _JsonOrFormModel

    @classmethod
    def _param_source(cls) -> str:
        # Described (and validated) as the fields of a multipart form; a JSON body carries the same fields.
        return "form"


def _json_too(schema: str) -> dict[str, Any]:
    """`openapi_extra` that offers `application/json` beside the multipart form."""
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"requestBody": {"content": {"application/json": {"schema": ref}}}}


# --- Schemas --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    """What a response about one student's activities depends on, set on the request by the view."""

    today: dt.date
    versions: Versions
    shows_internal: bool


def _reading(context: Any) -> _Reading | None:
    request = (context or {}).get("request")
    return getattr(request, "api_activity_reading", None)


class ActivityOut(Schema):
    id: UUID
    student: StudentRef
    kind: str
    occurred_on: dt.date
    stage: str = Field(description="The student's stage on that day, fixed when the activity was recorded.")
    helper: PersonRef = Field(description="Who gave the help.")
    internal: bool
    notes: str | None = Field(description="null for an internal activity unless the caller logs help or leads.")
    has_attachment: bool
    attachment_name: str | None = Field(description="Download it from `/activities/{id}/attachment`.")
    event_name: str
    employer_name: str
    position_title: str
    fits_student: bool
    response: str
    effective: bool = Field(description="An effective job recommendation (counts toward the standard).")
    corrects: UUID | None = Field(description="The activity this one corrects.")
    corrected_by: UUID | None = Field(description="The correction that replaced this activity.")
    voided: bool = Field(description="Replaced by a correction: no longer counted.")
    closed: bool = Field(description="Its month is closed: it cannot be edited, only corrected.")
    created_by: PersonRef
    created_at: dt.datetime
    version: int = Field(description="Send it back to edit or correct the activity; a stale one answers 409.")

    @staticmethod
    def resolve_id(obj: Activity) -> UUID:
        return obj.public_id

    # Hidden unless the view cleared the caller: forgetting the check hides the note, never leaks it.
    @staticmethod
    def resolve_notes(obj: Activity, context: Any) -> str | None:
        return obj.notes if _shown(obj, context) else None

    @staticmethod
    def resolve_has_attachment(obj: Activity, context: Any) -> bool:
        return bool(obj.attachment) and _shown(obj, context)

    @staticmethod
    def resolve_attachment_name(obj: Activity, context: Any) -> str | None:
        return _file_name(obj) if obj.attachment and _shown(obj, context) else None

    @staticmethod
    def resolve_corrects(obj: Activity) -> UUID | None:
        return obj.corrects.public_id if obj.corrects is not None else None

    @staticmethod
    def resolve_corrected_by(obj: Activity) -> UUID | None:
        return getattr(obj, "corrected_by_public_id", None)

    @staticmethod
    def resolve_closed(obj: Activity, context: Any) -> bool:
        reading = _reading(context)
        if reading is None:
            return True
        return is_month_closed(obj.occurred_on, reading.today, reading.versions.on(obj.occurred_on))


def _file_name(activity: Activity) -> str:
    return os.path.basename(activity.attachment.name or "")


def _shown(obj: Activity, context: Any) -> bool:
    if not obj.internal:
        return True
    reading = _reading(context)
    return reading is not None and reading.shows_internal


class ActivityFilters(InputSchema):
    kind: ActivityKind | None = None
    stage: Stage | None = None
    since: dt.date | None = Field(None, description="Only activities on or after this day.")
    until: dt.date | None = Field(None, description="Only activities on or before this day.")
    include_corrected: bool = Field(False, description="Also list activities that a correction replaced.")


class ActivityIn(InputSchema):
    kind: ActivityKind
    occurred_on: dt.date = Field(description="Not in the future, not before the student's enrolment.")
    notes: str = Field("", max_length=5000)
    internal: bool | None = Field(
        None, description="Not shown to the student. Default: true for psychological guidance, otherwise false."
    )
    event_name: str = Field("", max_length=200, description="Required for a recruitment event together.")
    employer_name: str = Field("", max_length=200, description="Required for a job recommendation.")
    position_title: str = Field("", max_length=200, description="Required for a job recommendation.")
    fits_student: bool = Field(False, description="The position fits the student's major or intention.")
    response: Response = Field(Response.NONE, description="Only for a job recommendation.")

    def details(self) -> dict[str, Any]:
        """The keyword arguments of `record_activity` besides kind and date."""
        details = self.dict(exclude={"kind", "occurred_on", "internal", "version", "keep_attachment"})
        if self.internal is not None:
            details["internal"] = self.internal
        return details


class CorrectionIn(ActivityIn):
    version: int = Field(..., ge=1, le=2_000_000_000, description="The version of the activity being corrected.")
    keep_attachment: bool = Field(
        True, description="Without a new file, copy the corrected activity's attachment (false: none)."
    )


class ActivityPatch(PatchSchema):
    occurred_on: dt.date | None = None
    notes: str | None = Field(None, max_length=5000)
    internal: bool | None = None
    event_name: str | None = Field(None, max_length=200)
    employer_name: str | None = Field(None, max_length=200)
    position_title: str | None = Field(None, max_length=200)
    fits_student: bool | None = None
    response: Response | None = None


# Request bodies: JSON, or a multipart form when evidence is attached.
ActivityBody = Annotated[ActivityIn, _JsonOrForm(...)]
CorrectionBody = Annotated[CorrectionIn, _JsonOrForm(...)]
Attachment = Annotated[UploadedFile | None, File(None, description="Evidence: a PDF, JPEG or PNG file.")]


# --- Reads ----------------------------------------------------------------------------------------------------


def _activities() -> QuerySet[Activity]:
    correction = Activity.objects.filter(corrects=OuterRef("pk")).order_by("-pk").values("public_id")[:1]
    return Activity.objects.select_related("student", "helper", "created_by", "corrects").annotate(
        corrected_by_public_id=Subquery(correction)
    )


def _activity(user: User, public_id: UUID) -> Activity:
    """An activity of a student the user may see; otherwise 404."""
    activity = (
        _activities()
        .select_related("student__school", "student__class_unit")
        .filter(public_id=public_id, student__in=Student.objects.visible_to(user).values("pk"))
        .first()
    )
    if activity is None:
        raise Http404
    return activity


def _shows_internal(user: User, student: Student) -> bool:
    """Internal notes are for those who log help for the student and for leaders, never for the student."""
    access = student_access(user, student)
    return access.can(Perm.LOG_ACTIVITY) or access.is_leader


def _prepare(request: HttpRequest, student: Student, today: dt.date) -> None:
    """Clear the caller for this student's activities: what they may read, and which months are closed."""
    request.api_activity_reading = _Reading(  # type: ignore[attr-defined]
        today=today,
        versions=versions_for_schools({student.school_id})[student.school_id],
        shows_internal=_shows_internal(caller(request), student),
    )


def _one_out(request: HttpRequest, public_id: UUID, today: dt.date) -> Activity:
    activity = _activity(caller(request), public_id)
    _prepare(request, activity.student, today)
    return activity


# --- Endpoints ------------------------------------------------------------------------------------------------


@router.get(
    "/students/{student_id}/activities",
    response={200: list[ActivityOut], **READ_ERRORS},
    summary="A student's activities",
)
@paginate(Pages)
def activities_list(request: HttpRequest, student_id: UUID, filters: Query[ActivityFilters]) -> Any:
    """The student's work ledger, newest first; corrected activities only with `include_corrected=true`."""
    student = get_student_for_user(caller(request), student_id)
    _prepare(request, student, timezone.localdate())
    activities = _activities().filter(student=student)
    if not filters.include_corrected:
        activities = activities.filter(voided=False)
    if filters.kind:
        activities = activities.filter(kind=filters.kind)
    if filters.stage:
        activities = activities.filter(stage=filters.stage)
    if filters.since:
        activities = activities.filter(occurred_on__gte=filters.since)
    if filters.until:
        activities = activities.filter(occurred_on__lte=filters.until)
    return activities.order_by("-occurred_on", "-pk")


@router.post(
    "/students/{student_id}/activities",
    response={201: ActivityOut, **WRITE_ERRORS},
    summary="Log an activity",
    openapi_extra=_json_too("ActivityIn"),
)
def activities_create(
    request: HttpRequest,
    student_id: UUID,
    payload: ActivityBody,
    attachment: Attachment = None,
) -> Any:
    """Log one act of help by the caller. Send JSON, or a multipart form with the evidence as `attachment`
    (PDF, JPEG or PNG; a résumé revision needs the revised résumé)."""
    user = caller(request)
    today = timezone.localdate()
    student = get_student_for_user(user, student_id)
    activity = record_activity(
        actor=user,
        student=student,
        kind=payload.kind,
        occurred_on=payload.occurred_on,
        today=today,
        attachment=attachment,
        **payload.details(),
    )
    return Status(201, _one_out(request, activity.public_id, today))


@router.get("/activities/{activity_id}", response={200: ActivityOut, **READ_ERRORS}, summary="Get an activity")
def activities_retrieve(request: HttpRequest, activity_id: UUID) -> Any:
    return _one_out(request, activity_id, timezone.localdate())


@router.patch("/activities/{activity_id}", response={200: ActivityOut, **EDIT_ERRORS}, summary="Edit an activity")
def activities_update(request: HttpRequest, activity_id: UUID, payload: ActivityPatch) -> Any:
    """Change the fields sent, while the activity's month is open; a closed month answers 422 with code
    `closed` (record a correction instead)."""
    user = caller(request)
    today = timezone.localdate()
    activity = _activity(user, activity_id)
    update_activity(actor=user, activity=activity, expected_version=payload.version, today=today, **payload.changes())
    return _one_out(request, activity_id, today)


@router.post(
    "/activities/{activity_id}/correct",
    response={201: ActivityOut, **EDIT_ERRORS},
    summary="Correct an activity",
    openapi_extra=_json_too("CorrectionIn"),
)
def activities_correct(
    request: HttpRequest,
    activity_id: UUID,
    payload: CorrectionBody,
    attachment: Attachment = None,
) -> Any:
    """Record the activity as it should have been; the corrected one stays in the ledger, no longer counted.
    Answers the correction."""
    user = caller(request)
    today = timezone.localdate()
    original = _activity(user, activity_id)
    student = original.student
    require_student_perm(user, Perm.LOG_ACTIVITY, student)
    upload: DjangoUploadedFile | None = attachment
    if upload is None and payload.keep_attachment and original.attachment:
        with original.attachment.open("rb") as f:
            upload = SimpleUploadedFile(_file_name(original), f.read())
    with transaction.atomic():
        # The caller corrects the activity as they read it: if it changed since, they must look again.
        lock_current(Activity, original.pk, payload.version)
        correction = record_activity(
            actor=user,
            student=student,
            kind=payload.kind,
            occurred_on=payload.occurred_on,
            today=today,
            attachment=upload,
            corrects=original,
            **payload.details(),
        )
    return Status(201, _one_out(request, correction.public_id, today))


@router.get(
    "/activities/{activity_id}/attachment",
    response={200: None, **READ_ERRORS, 403: ErrorOut},
    summary="Download an activity's evidence",
    openapi_extra=file_download("The file: a PDF, JPEG or PNG."),
)
def activities_attachment(request: HttpRequest, activity_id: UUID) -> Any:
    """The file itself; every download is written to the access log."""
    user = caller(request)
    activity = _activity(user, activity_id)
    if not activity.attachment:
        raise Http404
    if activity.internal and not _shows_internal(user, activity.student):
        raise PermissionDenied
    log_access(
        actor=user,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        student=activity.student,
        fields="attachment",
        detail=f"API activity {activity.public_id}",
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    return FileResponse(activity.attachment.open("rb"), as_attachment=True, filename=_file_name(activity))
