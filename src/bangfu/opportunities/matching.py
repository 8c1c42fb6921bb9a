"""Which positions suit a student, and why: a deterministic score from the student's major, plan and home.

Pure functions of plain values (no database), so the ranking is exact and testable. Each point of the score
comes with a reason the page shows ("in your home city 石家庄", "wants your major"), in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from bangfu.opportunities.models import EmployerType, Industry

# How much each reason weighs. The home place counts only for students who want to work near home.
WEIGHTS = {
    "major": 40,
    "any_major": 15,
    "home_city": 30,
    "home_province": 20,
    "place": 25,
    "industry": 15,
    "employer_kind": 10,
    "salary": 10,
    "salary_below": -10,
    "partner": 5,
    "closing_soon": 5,
}
# Reasons that make a recommendation "fit the student's major or stated intention".
FIT_CODES = frozenset({"major", "any_major", "home_city", "home_province", "place", "industry"})
# Employers that suit a plan's direction beyond an ordinary job.
_DIRECTION_EMPLOYERS = {
    "public_exam": {EmployerType.GOVERNMENT, EmployerType.PUBLIC_INSTITUTION},
    "grassroots": {EmployerType.GOVERNMENT, EmployerType.PUBLIC_INSTITUTION, EmployerType.SOCIAL_ORGANISATION},
    "army": {EmployerType.MILITARY},
}
CLOSING_SOON_DAYS = 14


@dataclass(frozen=True)
class Profile:
    """What matching reads about a student."""

    major_id: int
    major_name: str = ""
    home_province: str = ""
    home_city: str = ""
    direction: str = "job"
    places: str = ""
    industries: str = ""
    near_home: bool = False
    salary_expectation: int | None = None


@dataclass(frozen=True)
class Offer:
    """What matching reads about a position."""

    major_ids: frozenset[int] = frozenset()
    province: str = ""
    city: str = ""
    industry: str = ""
    employer_type: str = ""
    employer_is_partner: bool = False
    salary_max: int | None = None
    deadline: dt.date | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    points: int
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        p = self.params
        texts = {
            "major": lambda: _("Wants your major (%(major)s)") % p,
            "any_major": lambda: _("Open to every major"),
            "home_city": lambda: _("In your home city, %(city)s") % p,
            "home_province": lambda: _("In your home province, %(province)s") % p,
            "place": lambda: _("In a place your plan names: %(place)s") % p,
            "industry": lambda: _("In an industry your plan names: %(industry)s") % p,
            "employer_kind": lambda: _("The kind of employer your direction aims at: %(kind)s") % p,
            "salary": lambda: _("Pays up to %(salary)s yuan, at least what you expect") % p,
            "salary_below": lambda: _("Pays at most %(salary)s yuan, less than you expect") % p,
            "partner": lambda: _("A partner employer of the school"),
            "closing_soon": lambda: _("Closes soon: %(deadline)s") % p,
        }
        return str(texts[self.code]())


@dataclass(frozen=True)
class Match:
    score: int
    reasons: tuple[Reason, ...]

    @property
    def fits(self) -> bool:
        return any(r.code in FIT_CODES for r in self.reasons)

    def as_json(self) -> list[dict[str, Any]]:
        return [{"code": r.code, "points": r.points, "params": r.params} for r in self.reasons]


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,，、;；/|]+", text or "") if len(w) >= 2]


def _place_named(offer: Offer, places: str) -> str | None:
    for word in _words(places):
        for place in (offer.city, offer.province):
            if place and (word in place or place in word):
                return place
    return None


def _industry_named(offer: Offer, industries: str) -> str | None:
    if not offer.industry:
        return None
    label = str(Industry(offer.industry).label)
    # Chinese plans name industries in Chinese; compare with both the English source and the translated label.
    from django.utils.translation import override

    with override("zh-hans"):
        label_zh = str(Industry(offer.industry).label)
    for word in _words(industries):
        if word.lower() in label.lower() or word in label_zh or label_zh in word:
            return label_zh if word in label_zh or label_zh in word else label
    return None


def match(profile: Profile, offer: Offer, today: dt.date) -> Match:
    reasons: list[Reason] = []

    def add(code: str, **params: Any) -> None:
        reasons.append(Reason(code, WEIGHTS[code], params))

    if not offer.major_ids:
        add("any_major")
    elif profile.major_id in offer.major_ids:
        add("major", major=profile.major_name)
    if profile.near_home:
        if offer.city and offer.city == profile.home_city:
            add("home_city", city=offer.city)
        elif offer.province and offer.province == profile.home_province:
            add("home_province", province=offer.province)
    place = _place_named(offer, profile.places)
    if place and not any(r.code.startswith("home_") for r in reasons):
        add("place", place=place)
    industry = _industry_named(offer, profile.industries)
    if industry:
        add("industry", industry=industry)
    if offer.employer_type in _DIRECTION_EMPLOYERS.get(profile.direction, set()):
        add("employer_kind", kind=str(EmployerType(offer.employer_type).label))
    if profile.salary_expectation and offer.salary_max:
        if offer.salary_max >= profile.salary_expectation:
            add("salary", salary=offer.salary_max)
        else:
            add("salary_below", salary=offer.salary_max)
    if offer.employer_is_partner:
        add("partner")
    if offer.deadline and 0 <= (offer.deadline - today).days <= CLOSING_SOON_DAYS:
        add("closing_soon", deadline=offer.deadline.isoformat())
    return Match(sum(r.points for r in reasons), tuple(reasons))


def rank_key(m: Match, deadline: dt.date | None, tiebreak: str) -> tuple[int, dt.date, str]:
    """Best first: higher score, then the earlier deadline (none last), then a stable name."""
    return (-m.score, deadline or dt.date.max, tiebreak)
