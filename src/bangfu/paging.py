"""Paging a list whose count the page already holds."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator


class CountedPaginator(Paginator):
    """A paginator told how many rows there are: a list whose page shows its figures (the enrolment survey's
    statuses, the unplaced graduates by department) is counted from them, not by another COUNT over its rows."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._count = count

    @cached_property
    def count(self) -> int:
        return self._count
