"""Schemas shared by the API's routers. Every `id` in the API is a `public_id` UUID, never a database key."""

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination
from pydantic import ConfigDict, ValidationInfo, field_validator

from bangfu.organisation.models import OrgUnit, User


class UnitRef(Schema):
    id: UUID
    kind: str
    code: str
    name: str
    name_en: str

    @staticmethod
    def resolve_id(obj: OrgUnit) -> UUID:
        return obj.public_id


@dataclass(frozen=True)
class Person:
    """A person known only by id and name (e.g. from a list annotation), shaped like a user for `PersonRef`."""

    public_id: UUID
    name: str

    def __str__(self) -> str:
        return self.name


class PersonRef(Schema):
    id: UUID
    name: str

    @staticmethod
    def resolve_id(obj: User | Person) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_name(obj: User | Person) -> str:
        return str(obj)


class StudentRef(Schema):
    id: UUID
    student_number: str
    name: str

    @staticmethod
    def resolve_id(obj: Any) -> UUID:
        return obj.public_id  # type: ignore[no-any-return]


class InputSchema(Schema):
    """Base of request bodies: text never carries NUL characters (a database refuses them)."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError(_("Text may not contain NUL characters."))
        return value


class SchoolIn(InputSchema):
    """The school an operation for a whole school (e.g. installing its defaults) acts on."""

    school: UUID


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class PatchSchema(InputSchema):
    """Base of PATCH bodies: every field optional; leaving one out keeps it, `null` only where a value may be empty.

    `version` is the record's version as the caller read it: if someone saved since, the answer is 409.
    """

    model_config = ConfigDict(json_schema_extra=lambda schema, model: _document_nulls(schema, model))

    nullable: ClassVar[frozenset[str]] = frozenset()
    version: int = Field(..., ge=1, le=2_000_000_000)

    # Defaults are not validated, so this runs only for the fields the caller sent.
    @field_validator("*")
    @classmethod
    def _null_only_where_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError(_("This field cannot be empty."))
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, except the version."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


def _document_nulls(schema: dict[str, Any], model: Any) -> None:
    """The fields are optional in Python (`None`: not sent), but only those in `nullable` accept `null`: say so in
    the JSON schema, so that clients (and the fuzzer) are not told that `null` is fine."""
    for name, prop in schema.get("properties", {}).items():
        branches = prop.get("anyOf")
        if name in model.nullable or not branches or {"type": "null"} not in branches:
            continue
        rest = [branch for branch in branches if branch != {"type": "null"}]
        del prop["anyOf"]
        if len(rest) == 1:
            prop.update(rest[0])
        else:
            prop["anyOf"] = rest


def file_download(description: str) -> dict[str, Any]:
    """`openapi_extra` of an operation that answers with an evidence file: a PDF, JPEG or PNG (`bangfu.files`),
    sent with the type its name gives."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    content = dict.fromkeys(("application/pdf", "image/jpeg", "image/png"), binary)
    return {"responses": {200: {"description": description, "content": content}}}


class Pages(PageNumberPagination):
    """`?page=2&page_size=100` (at most 200 a page); the answer has `items` and `count`."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=200)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=50, max_page_size=200, **kwargs)
