"""Every write to the tracks: the school's track types (defaults installed here, never by a migration), joining a
track, recording the milestones reached, and leaving a track.

Milestones are recorded in order, one after another, on or after the previous one's date and never in the future.
After the last step comes a final milestone: a success (admitted, enlisted, contract signed) only then; a failure
(not admitted, not selected) after any step, because a student can fail the written exam as well as the interview.
A final milestone closes the enrolment with its outcome. A student may be on several tracks at once, on each at
most once at a time.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bangfu.concurrency import lock_current
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, require_student_perm, require_unit_perm
from bangfu.students.models import Student
from bangfu.tracks.models import MilestoneRecord, Outcome, TrackEnrolment, TrackType

CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _step(code: str, label: str, label_en: str) -> dict[str, Any]:
    return {"code": code, "label": label, "label_en": label_en, "final": False, "outcome": None}


def _final(code: str, label: str, label_en: str, outcome: str) -> dict[str, Any]:
    return {"code": code, "label": label, "label_en": label_en, "final": True, "outcome": outcome}


def _programme(code: str, label: str, label_en: str) -> dict[str, str]:
    return {"code": code, "label": label, "label_en": label_en}


SUCCESS, FAILURE = Outcome.SUCCESS.value, Outcome.FAILURE.value

# The defaults a school starts from (DOMAIN.md §5). Chinese and English labels are data, as a school edits them.
DEFAULT_TRACKS: list[dict[str, Any]] = [
    {
        "code": "contract_escort",
        "name": "签约护航",
        "name_en": "Contract-signing escort",
        "description": "帮扶责任人陪伴求职全过程：明确意向、投递简历、参加面试、获得录用、签约。",
        "milestones": [
            _step("intention", "明确求职意向", "Job intention set"),
            _step("applications", "投递简历", "Applications sent"),
            _step("interviews", "参加面试", "Interviews attended"),
            _step("offer", "获得录用意向", "Offer received"),
            _final("contract_signed", "签约", "Contract signed", SUCCESS),
        ],
    },
    {
        "code": "public_exam",
        "name": "考公考编",
        "name_en": "Public-service exam preparation",
        "description": "公务员、事业单位招考：报名、笔试、面试、录用。",
        "milestones": [
            _step("registered", "报名", "Registered"),
            _step("written_exam", "笔试", "Written exam taken"),
            _step("interview", "面试", "Interview"),
            _final("admitted", "录用", "Admitted", SUCCESS),
            _final("not_admitted", "未录用", "Not admitted", FAILURE),
        ],
    },
    {
        "code": "grassroots",
        "name": "基层引导",
        "name_en": "Grassroots guidance",
        "description": "引导到基层就业：西部计划、三支一扶、特岗教师、大学生村官。",
        "programmes": [
            _programme("western", "西部计划", "Western China volunteer programme"),
            _programme("three_supports", "三支一扶", "Three supports and one assistance"),
            _programme("special_post_teacher", "特岗教师", "Special-post teacher programme"),
            _programme("village_official", "大学生村官", "College-graduate village official"),
        ],
        "milestones": [
            _step("applied", "报名", "Applied"),
            _step("selected", "入选", "Selected"),
            _final("serving", "上岗服务", "Serving", SUCCESS),
            _final("not_selected", "未入选", "Not selected", FAILURE),
        ],
    },
    {
        "code": "further_study",
        "name": "升学充电",
        "name_en": "Further study",
        "description": "专升本或考研：报名、考试、录取。",
        "programmes": [
            _programme("upgrade", "专升本", "Upgrade to a bachelor's degree"),
            _programme("postgraduate", "考研", "Postgraduate entrance exam"),
        ],
        "milestones": [
            _step("registered", "报名", "Registered"),
            _step("exam", "参加考试", "Exam taken"),
            _final("admitted", "录取", "Admitted", SUCCESS),
            _final("not_admitted", "未录取", "Not admitted", FAILURE),
        ],
    },
    {
        "code": "army",
        "name": "携笔从戎",
        "name_en": "Enlisting in the army",
        "description": "应征入伍：网上报名、体检、政治考核、入伍。入伍学生享受学费补偿或国家助学贷款代偿。"
        " / Enlisted students have their tuition compensated or their student loan repaid.",
        "milestones": [
            _step("registered", "网上报名", "Registered"),
            _step("physical_exam", "体检", "Physical examination"),
            _step("political_review", "政治考核", "Political review"),
            _final("enlisted", "入伍", "Enlisted", SUCCESS),
            _final("not_enlisted", "未入伍", "Not enlisted", FAILURE),
        ],
    },
    {
        "code": "entrepreneurship",
        "name": "创新创业",
        "name_en": "Innovation and entrepreneurship",
        "description": "创业培训、撰写商业计划书、注册经营。",
        "milestones": [
            _step("training", "创业培训", "Entrepreneurship training"),
            _step("business_plan", "商业计划书", "Business plan written"),
            _final("business_registered", "注册经营", "Business registered", SUCCESS),
        ],
    },
]
TYPE_FIELDS = ("code", "name", "name_en", "description", "position", "milestones", "programmes", "is_active")


def _language() -> str:
    return get_language() or "zh-hans"


# --- Track types ------------------------------------------------------------------------------------------------


def _clean_items(items: Any, *, field: str, milestones: bool) -> list[dict[str, Any]]:
    """The milestones (or programmes) in their stored shape, or a ValidationError naming what is wrong."""
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValidationError({field: _("Give a list of items, each with a code and a label.")})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        code = str(item.get("code") or "").strip()
        label = str(item.get("label") or "").strip()
        label_en = str(item.get("label_en") or "").strip()
        if not CODE.match(code):
            raise ValidationError(
                {
                    field: _(
                        "“%(code)s” is not a valid code: lower-case letters, digits and underscores, starting with "
                        "a letter, at most 32."
                    )
                    % {"code": code}
                }
            )
        if code in seen:
            raise ValidationError({field: _("The code “%(code)s” appears twice.") % {"code": code}})
        seen.add(code)
        if not label or len(label) > 100 or len(label_en) > 150:
            raise ValidationError({field: _("Give “%(code)s” a label (at most 100 characters).") % {"code": code}})
        if not milestones:
            cleaned.append(_programme(code, label, label_en))
            continue
        final = bool(item.get("final"))
        outcome = item.get("outcome") or None
        if final and outcome not in (SUCCESS, FAILURE):
            raise ValidationError({field: _("The final milestone “%(code)s” needs an outcome.") % {"code": code}})
        if not final and outcome is not None:
            raise ValidationError(
                {field: _("Only a final milestone has an outcome (“%(code)s” is not final).") % {"code": code}}
            )
        cleaned.append(_final(code, label, label_en, str(outcome)) if final else _step(code, label, label_en))
    if milestones:
        steps = [m for m in cleaned if not m["final"]]
        if not steps or not any(m["final"] for m in cleaned):
            raise ValidationError({field: _("A track needs at least one step and one final milestone.")})
        if any(m["final"] for m in cleaned[: len(steps)]):
            raise ValidationError({field: _("The final milestones come after every step.")})
    return cleaned


def _check_in_use(track_type: TrackType) -> None:
    """Milestones already reached and programmes already chosen stay, with the same meaning."""
    if track_type.pk is None:
        return
    new = {m["code"]: m for m in track_type.milestones}
    reached = set(MilestoneRecord.objects.filter(enrolment__track=track_type).values_list("milestone", flat=True))
    stored = TrackType.objects.get(pk=track_type.pk)
    missing = sorted(code for code in reached if code not in new)
    if missing:
        raise ValidationError(
            {
                "milestones": _("Students have reached these milestones, so they stay: %(codes)s.")
                % {"codes": ", ".join(missing)}
            }
        )
    for code in sorted(reached):
        old = stored.milestone(code) or {}
        if (old.get("final"), old.get("outcome")) != (new[code]["final"], new[code]["outcome"]):
            raise ValidationError(
                {
                    "milestones": _(
                        "Students have reached “%(code)s”, so whether it is final, and its outcome, stay as they are."
                    )
                    % {"code": code}
                }
            )
    chosen = set(
        TrackEnrolment.objects.filter(track=track_type).exclude(programme="").values_list("programme", flat=True)
    )
    kept = {p["code"] for p in track_type.programmes}
    gone = sorted(chosen - kept)
    if gone:
        raise ValidationError(
            {
                "programmes": _("Students joined through these programmes, so they stay: %(codes)s.")
                % {"codes": ", ".join(gone)}
            }
        )


@transaction.atomic
def save_track_type(
    *,
    actor: User,
    school: OrgUnit,
    track_type: TrackType | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> TrackType:
    """Add a track type to a school, or change one (its milestones included), as the employment office."""
    require_unit_perm(actor, Perm.MANAGE_POLICY, school)
    if school.kind != UnitKind.SCHOOL:
        raise ValidationError(_("A track type belongs to a school."))
    unknown = set(fields) - set(TYPE_FIELDS)
    if unknown:
        raise TypeError(f"unknown track type fields: {sorted(unknown)}")
    if track_type is not None and track_type.school_id != school.pk:
        raise PermissionDenied  # the grant checked above is on `school`, not on the type's school
    current = (
        TrackType(school=school) if track_type is None else lock_current(TrackType, track_type.pk, expected_version)
    )
    for name, value in fields.items():
        setattr(current, name, value.strip() if isinstance(value, str) else value)
    current.milestones = _clean_items(current.milestones, field="milestones", milestones=True)
    current.programmes = _clean_items(current.programmes or [], field="programmes", milestones=False)
    if not CODE.match(current.code or ""):
        raise ValidationError(
            {"code": _("Use lower-case letters, digits and underscores, starting with a letter (at most 32).")}
        )
    if TrackType.objects.filter(school=school, code=current.code).exclude(pk=current.pk).exists():
        raise ValidationError({"code": _("Another track of this school has this code.")})
    _check_in_use(current)
    current.full_clean(exclude=["school"])
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def install_default_tracks(*, actor: User, school: OrgUnit) -> list[TrackType]:
    """Add the default tracks the school does not have yet (by code); a track the school changed stays as it is."""
    require_unit_perm(actor, Perm.MANAGE_POLICY, school)  # also when there is nothing left to add
    have = set(TrackType.objects.filter(school=school).values_list("code", flat=True))
    return [
        save_track_type(
            actor=actor,
            school=school,
            position=position,
            programmes=default.get("programmes", []),
            **{k: v for k, v in default.items() if k != "programmes"},
        )
        for position, default in enumerate(DEFAULT_TRACKS, start=1)
        if default["code"] not in have
    ]


# --- Enrolments --------------------------------------------------------------------------------------------------


def next_milestones(track: TrackType, current: str) -> list[dict[str, Any]]:
    """The milestones that may be recorded after `current` ("" before the first): the next step, or after the
    last step every final milestone; a failure may close the track after any step."""
    steps = track.steps
    if not current:
        return steps[:1]
    index = next((i for i, m in enumerate(steps) if m["code"] == current), None)
    if index is None:
        return []  # a final milestone: the enrolment is closed
    if index + 1 < len(steps):
        return [steps[index + 1], *(m for m in track.finals if m["outcome"] == FAILURE)]
    return track.finals


def _labels(track: TrackType, items: list[dict[str, Any]]) -> str:
    return ", ".join(f"“{track.milestone_label(m['code'], _language())}”" for m in items)


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise ValidationError({field: _("The date cannot be in the future.")})


@transaction.atomic
def join_track(
    *,
    actor: User,
    student: Student,
    track: TrackType,
    joined_on: dt.date,
    today: dt.date,
    programme: str = "",
) -> TrackEnrolment:
    """Put a student on a track (they may be on several); the milestones are recorded afterwards."""
    require_student_perm(actor, Perm.MANAGE_PLAN, student)
    if track.school_id != student.school_id:
        raise ValidationError({"track": _("This track is run by another school.")})
    if not track.is_active:
        raise ValidationError({"track": _("This track is not offered at present.")})
    programme = (programme or "").strip()
    codes = [p["code"] for p in track.programmes]
    if codes and programme not in codes:
        raise ValidationError({"programme": _("Choose the programme the student joins through.")})
    if not codes and programme:
        raise ValidationError({"programme": _("This track has no programmes.")})
    _not_future(joined_on, today, "joined_on")
    already = _("%(name)s is already on this track.") % {"name": student.name}
    enrolments = TrackEnrolment.objects.filter(student=student, track=track)
    if enrolments.open().exists():
        raise ValidationError(already, code="already_joined")
    last = enrolments.order_by("-left_on").first()
    if last is not None and last.left_on is not None and joined_on < last.left_on:
        raise ValidationError(
            {
                "joined_on": _("%(name)s left this track on %(date)s; a new start cannot be earlier.")
                % {"name": student.name, "date": last.left_on.isoformat()}
            }
        )
    enrolment = TrackEnrolment(student=student, track=track, programme=programme, joined_on=joined_on, joined_by=actor)
    enrolment._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            enrolment.save()
    except IntegrityError:
        # Someone put the student on the track between our check and our insert: the constraint decides.
        raise ValidationError(already, code="already_joined") from None
    return enrolment


@transaction.atomic
def record_milestone(
    *,
    actor: User,
    enrolment: TrackEnrolment,
    milestone: str,
    reached_on: dt.date,
    today: dt.date,
    note: str = "",
    expected_version: int | None = None,
) -> MilestoneRecord:
    """Record the next milestone reached; a final one closes the enrolment with its outcome."""
    require_student_perm(actor, Perm.MANAGE_PLAN, enrolment.student)
    current = lock_current(TrackEnrolment, enrolment.pk, expected_version)
    track = current.track
    if not current.is_open:
        raise ValidationError(_("This track is closed for the student: no more milestones."), code="closed")
    found = track.milestone(milestone)
    if found is None:
        raise ValidationError({"milestone": _("This track has no such milestone.")})
    allowed = next_milestones(track, current.current_milestone)
    if found not in allowed:
        message = _("Milestones are recorded in order, without skipping: next comes %(next)s.") % {
            "next": _labels(track, allowed)
        }
        raise ValidationError({"milestone": ValidationError(message, code="out_of_order")})
    _not_future(reached_on, today, "reached_on")
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": _("Keep the note under 500 characters.")})
    floor = current.current_reached_on or current.joined_on
    if reached_on < floor:
        message = (
            _("A milestone cannot be dated before the previous one (%(date)s).")
            if current.current_reached_on
            else _("A milestone cannot be dated before the student joined the track (%(date)s).")
        )
        raise ValidationError({"reached_on": message % {"date": floor.isoformat()}})
    record = MilestoneRecord.objects.create(
        enrolment=current, milestone=found["code"], reached_on=reached_on, note=note, recorded_by=actor
    )
    current.current_milestone, current.current_reached_on = found["code"], reached_on
    if found["final"]:
        current.outcome, current.left_on = found["outcome"], reached_on
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return record


@transaction.atomic
def leave_track(
    *,
    actor: User,
    enrolment: TrackEnrolment,
    left_on: dt.date,
    reason: str,
    today: dt.date,
    expected_version: int | None = None,
) -> TrackEnrolment:
    """Take a student off a track before a final milestone (changed plans, found a job elsewhere), with a reason."""
    require_student_perm(actor, Perm.MANAGE_PLAN, enrolment.student)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the student leaves the track.")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    current = lock_current(TrackEnrolment, enrolment.pk, expected_version)
    if not current.is_open:
        raise ValidationError(_("The student is no longer on this track."), code="closed")
    _not_future(left_on, today, "left_on")
    floor = current.current_reached_on or current.joined_on
    if left_on < floor:
        raise ValidationError(
            {
                "left_on": _("The student cannot leave before %(date)s, the last date on this track.")
                % {"date": floor.isoformat()}
            }
        )
    current.left_on, current.left_reason = left_on, reason
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current
