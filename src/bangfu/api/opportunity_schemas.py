"""Schemas shared by the opportunities and outcomes routers: short references to employers and positions, and the
reasons of a match (a code for programs, a text in the caller's language for people)."""

import datetime as dt
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from bangfu.opportunities.matching import WEIGHTS, Reason
from bangfu.opportunities.models import Employer, Position


class EmployerRef(Schema):
    id: UUID
    name: str

    @staticmethod
    def resolve_id(obj: Employer) -> UUID:
        return obj.public_id


class PositionRef(Schema):
    """A position as other records name it: enough to show it in a list without reading its majors."""

    id: UUID
    kind: str
    title: str
    employer: EmployerRef
    province: str
    city: str
    salary_min: int | None = Field(description="Yuan a month.")
    salary_max: int | None = Field(description="Yuan a month.")
    deadline: dt.date | None
    status: str

    @staticmethod
    def resolve_id(obj: Position) -> UUID:
        return obj.public_id


class ReasonOut(Schema):
    code: str = Field(
        description="major, any_major, home_city, home_province, place, industry, employer_kind, salary, "
        "salary_below, partner or closing_soon."
    )
    points: int
    params: dict[str, Any] = Field(description="The values the text names (city, major, deadline…).")
    text: str = Field(description="The reason in the caller's language.")

    @staticmethod
    def resolve_text(obj: Reason) -> str:
        return obj.text()


def reasons_of(stored: list[dict[str, Any]]) -> list[Reason]:
    """Reasons kept as JSON on a recommendation, back as `Reason` values (unknown codes are skipped)."""
    return [
        Reason(r["code"], int(r.get("points", 0)), dict(r.get("params") or {}))
        for r in stored or []
        if isinstance(r, dict) and r.get("code") in WEIGHTS
    ]
