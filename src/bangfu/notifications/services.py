"""Writes of the notifications app: the daily reminders and digests, reading notifications, digest preferences.

`send_reminders(today=...)` is safe to run any number of times a day: every item a person is told about is a
`Reminder` with a unique (user, item, period), and every digest e-mail a `DigestMail` with a unique
(user, period), so a second run finds everything already told and creates nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from bangfu.notifications.models import (
    DEFAULT_DIGEST,
    DigestFrequency,
    DigestMail,
    Notification,
    NotificationPreference,
    Reminder,
    ReminderKind,
)
from bangfu.notifications.queries import Item, helper_items, iso_week, late_helpers
from bangfu.organisation.models import User

logger = logging.getLogger(__name__)


@dataclass
class ReminderRun:
    notifications: int = 0
    reminders: int = 0
    mails: int = 0
    failed_mails: int = 0


def send_reminders(*, today: dt.date) -> ReminderRun:
    """Tell every helper what is due this week and what is late among their students, and every department
    leader which of their helpers are late: new items become one in-app notification per person and day, and
    people who want it get an e-mail digest (daily, or weekly on Mondays)."""
    candidates: dict[int, list[Item]] = defaultdict(list)
    for source in (helper_items(today=today), late_helpers(today=today)):
        for user_id, items in source.items():
            candidates[user_id].extend(items)
    run = ReminderRun()
    told = _already_told(candidates)
    for user_id, items in candidates.items():
        new = [item for item in items if (user_id, *item.key) not in told]
        if new:
            run.notifications += _notify(user_id=user_id, day=today, items=new)
            run.reminders += len(new)
    _send_digests(today=today, candidates=candidates, run=run)
    return run


def _already_told(candidates: dict[int, list[Item]]) -> set[tuple[int, str, str]]:
    # The periods in play are this ISO week and due dates in the coming week, so only recent rows are read.
    periods = {item.period for items in candidates.values() for item in items}
    return set(Reminder.objects.filter(period__in=periods).values_list("user_id", "item", "period"))


@transaction.atomic
def _notify(*, user_id: int, day: dt.date, items: list[Item]) -> int:
    """Add the items to the person's notification of the day; returns 1 if the notification is new."""
    notification, created = Notification.objects.get_or_create(user_id=user_id, day=day)
    if not created and notification.read_at is not None:
        Notification.objects.filter(pk=notification.pk).update(read_at=None)
    Reminder.objects.bulk_create(
        [
            Reminder(
                user_id=user_id,
                notification=notification,
                kind=item.kind,
                item=item.item,
                period=item.period,
                student_id=item.student_id,
                helper_id=item.helper_id,
                metric=item.metric,
                due_on=item.due_on,
                count=item.count,
                at_risk=item.at_risk,
                risk=item.risk,
                reasons=list(item.reasons),
            )
            for item in items
        ],
        ignore_conflicts=True,  # a concurrent run told them already
    )
    return int(created)


def _send_digests(*, today: dt.date, candidates: dict[int, list[Item]], run: ReminderRun) -> None:
    """Daily digests carry what was new today; weekly ones, on Mondays, everything still due or late."""
    frequencies = dict(NotificationPreference.objects.values_list("user_id", "digest"))
    told_today: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for user_id, item, period in Reminder.objects.filter(notification__day=today).values_list(
        "user_id", "item", "period"
    ):
        told_today[user_id].add((item, period))
    users = User.objects.in_bulk(list(candidates))
    for user_id, items in candidates.items():
        user = users[user_id]
        frequency = frequencies.get(user_id, DEFAULT_DIGEST)
        if not user.email or frequency == DigestFrequency.NEVER:
            continue
        if frequency == DigestFrequency.DAILY:
            chosen, period = [i for i in items if i.key in told_today[user_id]], today.isoformat()
        elif today.weekday() == 0:
            chosen, period = items, iso_week(today)
        else:
            continue
        if not chosen:
            continue
        mail, created = DigestMail.objects.get_or_create(
            user=user, period=period, defaults={"frequency": frequency, "items": len(chosen)}
        )
        if not created:
            continue
        try:
            digest_message(user=user, items=chosen, today=today).send()
        except (smtplib.SMTPException, OSError):
            # Forget the claim so that the next run tries again; the other people still get theirs.
            logger.exception("Could not send the reminder digest to user %s", user.pk)
            mail.delete()
            run.failed_mails += 1
        else:
            run.mails += 1


def digest_message(*, user: User, items: list[Item], today: dt.date) -> EmailMessage:
    """The digest e-mail in the person's language (Chinese unless they chose otherwise)."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "today": today,
            "site_url": settings.SITE_URL,
            "due": [i for i in items if i.kind == ReminderKind.DUE],
            "late": [i for i in items if i.kind == ReminderKind.LATE],
            "late_helpers": [i for i in items if i.kind == ReminderKind.LATE_HELPER],
        }
        subject = _("Bangfu reminders for %(date)s") % {"date": today.isoformat()}
        body = render_to_string("notifications/email/digest.txt", context)
    return EmailMessage(subject=subject, body=body, to=[user.email])


@transaction.atomic
def set_digest_frequency(*, actor: User, frequency: str) -> NotificationPreference:
    """The actor chooses how often they receive the e-mail digest."""
    if frequency not in DigestFrequency.values:
        raise ValidationError({"digest": _("Choose how often you want the e-mail digest.")})
    preference, _created = NotificationPreference.objects.update_or_create(user=actor, defaults={"digest": frequency})
    return preference


@transaction.atomic
def mark_read(*, actor: User, notification: Notification, now: dt.datetime) -> Notification:
    if notification.user_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = now
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_read(*, actor: User, now: dt.datetime) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=now)
