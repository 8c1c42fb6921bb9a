"""Optimistic concurrency: every editable record carries a version; a save from a stale form is refused."""

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

M = TypeVar("M", bound=models.Model)


class StaleEdit(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            _("Someone else saved this record after you opened it. Reload to see their changes, then edit again."),
            code="stale",
        )


def lock_current(model: type[M], pk: int, expected_version: int | None) -> M:
    """Lock the row for this transaction and check the version the editor started from.

    `expected_version=None` means the caller is not editing from a form (an import, a command).
    """
    obj = model._default_manager.select_for_update().get(pk=pk)
    if expected_version is not None and obj.version != expected_version:  # type: ignore[attr-defined]
        raise StaleEdit()
    obj.version += 1  # type: ignore[attr-defined]
    return obj
