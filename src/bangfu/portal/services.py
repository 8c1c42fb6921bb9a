"""Writes of the student portal: résumé versions.

The student uploads versions of their résumé; the helper (anyone who logs help for the student) uploads a revised
version with a comment, which is also a "résumé revision" activity of the work ledger, so it counts toward the
standard in the same transaction. Every other answer the portal records goes through the domain's own services
(recommendations, subsidies, destinations, consents).
"""

from __future__ import annotations

import datetime as dt
import zipfile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from bangfu.assistance.models import ActivityKind
from bangfu.assistance.services import record_activity
from bangfu.organisation.models import User
from bangfu.organisation.permissions import SELF, Perm, has_student_perm, student_roles
from bangfu.portal.models import ResumeVersion
from bangfu.students.models import Student

PDF = ".pdf"
DOCX = ".docx"
# Parts every Word document (Office Open XML) holds; a zip without them is not a .docx, whatever its name.
_DOCX_PARTS = ("[Content_Types].xml", "word/document.xml")


def resume_suffix(upload: UploadedFile) -> str:
    name = (upload.name or "").lower()
    return name[name.rfind(".") :] if "." in name else ""


def validate_resume(upload: UploadedFile) -> None:
    """A résumé is a PDF or a Word (.docx) file, checked by its content, no larger than evidence may be."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The file is %(size)s; a résumé may be at most %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    suffix = resume_suffix(upload)
    if suffix not in (PDF, DOCX):
        raise ValidationError(_("A résumé must be a PDF or Word (.docx) file."), code="file_type")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if suffix == PDF and head.startswith(b"%PDF-"):
        return
    if suffix == DOCX and head.startswith(b"PK\x03\x04") and _is_docx(upload):
        return
    raise ValidationError(
        _("The file's content is not a real %(type)s file.") % {"type": suffix[1:].upper()}, code="file_type"
    )


def _is_docx(upload: UploadedFile) -> bool:
    try:
        with zipfile.ZipFile(upload) as archive:  # reads the directory only; nothing is extracted
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)
    return all(part in names for part in _DOCX_PARTS)


def is_staff_revision(actor: User, student: Student) -> bool:
    """Whether an upload by `actor` is a helper's revision (they log help for the student) rather than the
    student's own version."""
    return SELF not in student_roles(actor, student) and has_student_perm(actor, Perm.LOG_ACTIVITY, student)


@transaction.atomic
def upload_resume(
    *,
    actor: User,
    student: Student,
    file: UploadedFile,
    today: dt.date,
    comment: str = "",
    revises: ResumeVersion | None = None,
) -> ResumeVersion:
    """A new version of the student's résumé: the student's own (PDF or Word), or the helper's revision with a
    comment, which is also a résumé-revision activity with the file (a PDF) as its evidence."""
    staff = is_staff_revision(actor, student)
    if not staff and SELF not in student_roles(actor, student):
        raise PermissionDenied
    comment = (comment or "").strip()
    if staff and not comment:
        raise ValidationError({"comment": _("Say what you revised.")})
    if revises is not None and revises.student_id != student.pk:
        raise ValidationError({"revises": _("Choose a version of this student's résumé.")})
    try:
        validate_resume(file)
    except ValidationError as e:
        raise ValidationError({"file": e.messages}) from None
    if staff and resume_suffix(file) != PDF:
        # The work ledger keeps the revised résumé as the activity's evidence, and evidence is a PDF.
        raise ValidationError({"file": _("Upload the revised résumé as a PDF: the work ledger keeps it as evidence.")})
    version = ResumeVersion(student=student, uploaded_by=actor, comment=comment, revises=revises)
    if staff:
        activity = record_activity(
            actor=actor,
            student=student,
            kind=ActivityKind.RESUME_REVISION,
            occurred_on=today,
            today=today,
            notes=comment,
            attachment=file,
        )
        version.activity = activity
        version.file = activity.attachment.name  # one stored file for the activity and the version
    else:
        version.file = file
    version.save()
    return version
