"""Words for the codes that progress rows store: metrics, stages, risk reasons and meters, translated.

`StudentProgress.meters` and `risk_reasons` hold codes and numbers (they are data, rebuilt nightly); every
page, e-mail and export turns them into text here, in the language active when the function is called.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bangfu.assistance.models import Metric, Period, RiskLevel, Stage

# Short names for a meter on a phone card ("Talks 2/3").
METRIC_SHORT: dict[str, Any] = {
    Metric.TALK: gettext_lazy("Talks"),
    Metric.CHECK_IN: gettext_lazy("Check-ins"),
    Metric.RESUME_REVISION: gettext_lazy("Résumé revisions"),
    Metric.EVENT_TOGETHER: gettext_lazy("Events together"),
    Metric.EFFECTIVE_RECOMMENDATION: gettext_lazy("Effective recommendations"),
    Metric.WORK_STUDY_RECOMMENDATION: gettext_lazy("Work-study recommendations"),
    Metric.ORDER_CLASS_RECOMMENDATION: gettext_lazy("Order-class recommendations"),
    Metric.FOLLOW_UP: gettext_lazy("Follow-ups"),
}

# What the helper does next to move a meter ("Next: a talk, by 2024-06-30").
METRIC_ACTION: dict[str, Any] = {
    Metric.TALK: gettext_lazy("a heart-to-heart talk"),
    Metric.CHECK_IN: gettext_lazy("a check-in"),
    Metric.RESUME_REVISION: gettext_lazy("a résumé revision"),
    Metric.EVENT_TOGETHER: gettext_lazy("a recruitment event together"),
    Metric.EFFECTIVE_RECOMMENDATION: gettext_lazy("an effective job recommendation"),
    Metric.WORK_STUDY_RECOMMENDATION: gettext_lazy("a work-study recommendation"),
    Metric.ORDER_CLASS_RECOMMENDATION: gettext_lazy("an order-class recommendation"),
    Metric.FOLLOW_UP: gettext_lazy("a follow-up"),
}


def metric_label(code: str, *, short: bool = True) -> str:
    """The name of a metric: short ("Talks") for meters, long ("Heart-to-heart talks") for tables."""
    if short and code in METRIC_SHORT:
        return str(METRIC_SHORT[code])
    return str(Metric(code).label) if code in Metric.values else code


def metric_action(code: str) -> str:
    return str(METRIC_ACTION.get(code, metric_label(code)))


def stage_label(code: str) -> str:
    return str(Stage(code).label) if code in Stage.values else code


def risk_label(level: int) -> str:
    return str(RiskLevel(level).label) if level in RiskLevel.values else str(level)


def risk_reason_text(reason: dict[str, Any]) -> str:
    """One risk reason as a sentence, e.g. {"code": "no_contact", "days": 75} → "No contact for 75 days"."""
    code = reason.get("code", "")
    if code == "unassigned":
        return _("No helper assigned")
    if code == "no_contact":
        days = int(reason.get("days", 0))
        return ngettext("No contact for %(days)d day", "No contact for %(days)d days", days) % {"days": days}
    if code == "behind_before_graduation":
        return _("Only %(share)d%% of the job-search standards met before graduation") % {
            "share": int(reason.get("share", 0))
        }
    if code == "overdue":
        count = int(reason.get("count", 0))
        return ngettext("%(count)d item overdue", "%(count)d items overdue", count) % {"count": count}
    if code == "declined":
        count = int(reason.get("count", 0))
        return ngettext("Declined %(count)d recommendation", "Declined %(count)d recommendations", count) % {
            "count": count
        }
    return code


@dataclass(frozen=True)
class MeterView:
    """One meter of a progress row, ready for a template."""

    metric: str
    label: str
    done: int
    required: int
    met: bool
    overdue: int
    due_on: dt.date | None
    text: str  # "Talks 2/3", "Check-ins this month 0/1, 1 month missed"

    @property
    def percent(self) -> int:
        if self.required <= 0:
            return 100
        return min(100, round(100 * self.done / self.required))


def meter_text(meter: dict[str, Any]) -> str:
    """A meter as one line of text."""
    label = metric_label(meter["metric"])
    done, required, overdue = int(meter.get("done", 0)), int(meter.get("required", 0)), int(meter.get("overdue", 0))
    if meter.get("period") == Period.MONTH:
        if overdue:
            return ngettext(
                "%(label)s this month %(done)d/%(required)d, %(missed)d month missed",
                "%(label)s this month %(done)d/%(required)d, %(missed)d months missed",
                overdue,
            ) % {"label": label, "done": done, "required": required, "missed": overdue}
        return _("%(label)s this month %(done)d/%(required)d") % {"label": label, "done": done, "required": required}
    if meter.get("period") == Period.DAYS:
        if overdue:
            return _("%(label)s: overdue") % {"label": label}
        return _("%(label)s: up to date") % {"label": label}
    return _("%(label)s %(done)d/%(required)d") % {"label": label, "done": done, "required": required}


def meter_views(meters: list[dict[str, Any]]) -> list[MeterView]:
    return [
        MeterView(
            metric=m["metric"],
            label=metric_label(m["metric"]),
            done=int(m.get("done", 0)),
            required=int(m.get("required", 0)),
            met=bool(m.get("met")) and int(m.get("done", 0)) >= int(m.get("required", 0)),
            overdue=int(m.get("overdue", 0)),
            due_on=dt.date.fromisoformat(m["due_on"]) if m.get("due_on") else None,
            text=meter_text(m),
        )
        for m in meters
    ]


def next_due_text(metric: str, due_on: dt.date | None) -> str:
    """The next due action, e.g. "Next: a check-in by 2024-03-31"."""
    if not metric or due_on is None:
        return ""
    return _("Next: %(action)s by %(date)s") % {"action": metric_action(metric), "date": due_on.isoformat()}


def progress_context(progress: Any) -> dict[str, Any]:
    """Template variables for a progress row (or None): `progress`, `meters`, `reasons`, `next_due`."""
    if progress is None:
        return {"progress": None, "meters": [], "reasons": [], "next_due": ""}
    return {
        "progress": progress,
        "meters": meter_views(progress.meters),
        "reasons": [risk_reason_text(r) for r in progress.risk_reasons],
        "next_due": next_due_text(progress.next_due_metric, progress.next_due_on),
    }
