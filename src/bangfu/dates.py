"""Calendar arithmetic used by the rules: months, semesters."""

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from `first`'s month to `last`'s month, both included."""
    out: list[dt.date] = []
    current = month_start(first)
    while current <= last:
        out.append(current)
        current = add_months(current, 1)
    return out


def semester_start(cohort: int, n: int) -> dt.date:
    """Semester 1 starts on 1 September of the enrolment year, semester 2 on 1 March, and so on."""
    if n % 2:
        return dt.date(cohort + (n - 1) // 2, 9, 1)
    return dt.date(cohort + n // 2, 3, 1)


def semester_of(cohort: int, day: dt.date) -> int:
    """The semester a day falls in (1 for anything before the first semester starts)."""
    if day.month >= 9:
        n = 2 * (day.year - cohort) + 1
    elif day.month >= 3:
        n = 2 * (day.year - cohort)
    else:
        n = 2 * (day.year - 1 - cohort) + 1
    return max(n, 1)
