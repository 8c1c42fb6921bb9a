"""Checks for uploaded evidence: size and real type (by content, not by the name alone)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Signature bytes of the types accepted as evidence.
_SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}


def validate_evidence(upload: UploadedFile) -> None:
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The file is %(size)s; evidence may be at most %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    name = (upload.name or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    signatures = _SIGNATURES.get(suffix)
    if signatures is None:
        raise ValidationError(_("Evidence must be a PDF, JPEG or PNG file."), code="file_type")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(s) for s in signatures):
        raise ValidationError(
            _("The file's content is not a real %(type)s file.") % {"type": suffix[1:].upper()},
            code="file_type",
        )
