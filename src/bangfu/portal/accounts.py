"""Student accounts and one-time links: bulk account creation with first-login links, setting the first password,
and follow-up links that let a graduate answer a follow-up after leaving without a password.

Every write here is a typed, keyword-only function in one transaction. A link is found by the digest of its token
(`bangfu.portal.tokens`), is refused once used or expired, and is used up in the same transaction as the write it
allows. E-mails go out after the transaction commits, so a rolled-back write never sends one.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bangfu.assistance.models import HelperAssignment, Metric, Stage
from bangfu.organisation.models import Role, User
from bangfu.organisation.permissions import Perm, has_student_perm, require_student_perm
from bangfu.organisation.services import grant_role
from bangfu.outcomes.models import FollowUp, FollowUpStatus
from bangfu.outcomes.services import record_follow_up
from bangfu.portal.models import AccountBatch, AccountLink, FollowUpLink, LinkPurpose
from bangfu.portal.tokens import is_well_formed, make_token, token_hash
from bangfu.students.models import Student, StudentStatus

logger = logging.getLogger(__name__)

FIRST_LOGIN_DAYS = 14  # how long a first-login link stays open
FOLLOW_UP_DAYS = 30  # how long a follow-up link stays open
FOLLOW_UP_AHEAD_DAYS = 7  # the daily job sends a link this many days before a follow-up falls due
MAX_ACCOUNTS = 2000  # accounts made at once (one printable list)

FOLLOW_UP_PURPOSE = "follow_up"  # the token's purpose for follow-up links (they have their own table)


class LinkRefused(ValidationError):
    """A one-time link that cannot be used: `code` is "invalid", "used" or "expired"."""


def student_username(student: Student) -> str:
    """A student's user name: the student number within the school, e.g. `HEBUST-2021000001`."""
    return f"{student.school.code}-{student.student_number}"


def link_url(name: str, token: str) -> str:
    """The full address of a one-time link, for a printed list or an e-mail."""
    return settings.SITE_URL + reverse(name, args=[token])


def first_login_token(link: AccountLink) -> str | None:
    """The token of a first-login link, to print it again; None when the site's secret key has changed since."""
    token = make_token(purpose=link.purpose, public_id=link.public_id)
    return token if token_hash(token) == link.token_hash else None


def _language_of(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


# ---------------------------------------------------------------------------------------------------------------
# Bulk account creation


@dataclass
class AccountsResult:
    """What `create_student_accounts` did: the batch (None when every student already had an account)."""

    batch: AccountBatch | None
    created: list[Student] = field(default_factory=list)
    skipped: list[Student] = field(default_factory=list)


def _row(student: Student, message: str) -> str:
    return _("%(name)s (%(number)s): %(error)s") % {
        "name": student.name,
        "number": student.student_number,
        "error": message,
    }


@transaction.atomic
def create_student_accounts(
    *,
    actor: User,
    students: Iterable[Student],
    now: dt.datetime,
    emails: Mapping[int, str] | None = None,
) -> AccountsResult:
    """Make a login for each student who has none, all or nothing: user name `<school code>-<student number>`, no
    usable password yet, the student role on their class, linked to the record; and one first-login link each.

    Students who already have an account are skipped and reported. Any other problem (a withdrawn student, a user
    name taken by someone else, a malformed e-mail) refuses the whole batch with one message per row.
    `emails` (student pk → address) comes from an import; a student with an e-mail gets their link by e-mail."""
    wanted = {s.pk: s for s in students}
    if not wanted:
        raise ValidationError({"students": _("Choose at least one student.")})
    if len(wanted) > MAX_ACCOUNTS:
        raise ValidationError(
            _("At most %(max)d accounts can be made at once: narrow the list.") % {"max": MAX_ACCOUNTS}
        )
    for student in wanted.values():
        require_student_perm(actor, Perm.CREATE_STUDENT, student)
    # Read the rows again under the write lock: an account made meanwhile is skipped, not made twice.
    current = list(
        Student.objects.select_for_update(of=("self",))
        .select_related("school", "class_unit")
        .filter(pk__in=wanted)
        .order_by("class_unit__path", "student_number")
    )
    skipped = [s for s in current if s.user_id is not None]
    todo = [s for s in current if s.user_id is None]
    names = {s.pk: student_username(s) for s in todo}
    taken = set(
        User.objects.annotate(lowered=Lower("username"))
        .filter(lowered__in=[n.lower() for n in names.values()])
        .values_list("lowered", flat=True)
    )
    emails = emails or {}
    errors: list[str] = []
    for student in todo:
        if student.status == StudentStatus.WITHDRAWN:
            errors.append(_row(student, _("has withdrawn from the school and gets no account.")))
        if names[student.pk].lower() in taken:
            errors.append(
                _row(
                    student,
                    _("the user name %(username)s is taken by another account.") % {"username": names[student.pk]},
                )
            )
        address = (emails.get(student.pk) or "").strip()
        if address:
            try:
                validate_email(address)
            except ValidationError:
                errors.append(_row(student, _("“%(value)s” is not an e-mail address.") % {"value": address}))
    if errors:
        raise ValidationError(errors)
    if not todo:
        return AccountsResult(batch=None, skipped=skipped)
    batch = AccountBatch.objects.create(school=todo[0].school, created_by=actor, created_at=now, skipped=len(skipped))
    for student in todo:
        user = User(
            username=names[student.pk],
            full_name=student.name,
            unit=student.class_unit,
            phone=student.phone,
            email=(emails.get(student.pk) or "").strip().lower(),
        )
        user.set_unusable_password()
        user.save()
        grant_role(user=user, role=Role.STUDENT, unit=student.class_unit)
        student.user = user
        student._history_user = actor  # type: ignore[attr-defined]
        student.save(update_fields=["user", "updated_at"])
        _issue_first_login(actor=actor, user=user, batch=batch, now=now)
    return AccountsResult(batch=batch, created=todo, skipped=skipped)


def _issue_first_login(*, actor: User, user: User, batch: AccountBatch, now: dt.datetime) -> AccountLink:
    link = AccountLink(
        user=user,
        purpose=LinkPurpose.FIRST_LOGIN,
        batch=batch,
        created_by=actor,
        created_at=now,
        expires_at=now + dt.timedelta(days=FIRST_LOGIN_DAYS),
    )
    link.token_hash = token_hash(make_token(purpose=link.purpose, public_id=link.public_id))
    link.save()
    if user.email:
        transaction.on_commit(lambda: send_first_login_mail(link_id=link.pk))
    return link


@transaction.atomic
def renew_first_login_links(*, actor: User, batch: AccountBatch, now: dt.datetime) -> AccountBatch:
    """New first-login links, in a new batch, for the students of `batch` (those the actor may make accounts for)
    who have not set a password yet; their earlier links end now."""
    links = (
        AccountLink.objects.select_related("user__student_record__class_unit")
        .filter(batch=batch, purpose=LinkPurpose.FIRST_LOGIN)
        .order_by("user__student_record__class_unit__path", "user__student_record__student_number")
    )
    users = []
    for link in links:
        student = getattr(link.user, "student_record", None)
        if student is None or not has_student_perm(actor, Perm.CREATE_STUDENT, student):
            continue
        if link.user.has_usable_password() or not link.user.is_active:
            continue
        users.append(link.user)
    if not users:
        raise ValidationError(_("Every student on this list has set a password already: there is nothing to renew."))
    AccountLink.objects.filter(
        user__in=users, purpose=LinkPurpose.FIRST_LOGIN, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    renewed = AccountBatch.objects.create(school=batch.school, created_by=actor, created_at=now)
    for user in users:
        _issue_first_login(actor=actor, user=user, batch=renewed, now=now)
    return renewed


def send_first_login_mail(*, link_id: int) -> bool:
    """E-mail a first-login link to its student (after the batch is saved). Returns whether it went out."""
    link = AccountLink.objects.select_related("user").get(pk=link_id)
    token = first_login_token(link)
    if not link.user.email or token is None:
        return False
    with translation.override(_language_of(link.user)):
        context = {
            "user": link.user,
            "url": link_url("student_accounts:first_login_link", token),
            "expires_at": link.expires_at,
            "site_url": settings.SITE_URL,
        }
        subject = _("Your Bangfu account: set your password")
        body = render_to_string("portal/accounts/email/first_login.txt", context)
    try:
        EmailMessage(subject=subject, body=body, to=[link.user.email]).send()
    except (smtplib.SMTPException, OSError):
        # The link is still on the printed list; the counsellor hands it out instead.
        logger.exception("Could not e-mail the first-login link %s", link.pk)
        return False
    AccountLink.objects.filter(pk=link.pk).update(emailed_at=timezone.now())
    return True


# ---------------------------------------------------------------------------------------------------------------
# Using a first-login link


def _check_open(link: AccountLink | FollowUpLink | None, now: dt.datetime, *, used: str, expired: str) -> None:
    if link is None:
        raise LinkRefused(_("This link is not valid. Check that it was copied whole."), code="invalid")
    if link.used_at is not None:
        raise LinkRefused(used, code="used")
    if link.expires_at <= now:
        raise LinkRefused(
            expired % {"date": timezone.localtime(link.expires_at).date().isoformat()},
            code="expired",
        )


def open_first_login_link(*, token: str, now: dt.datetime, lock: bool = False) -> AccountLink:
    """The first-login link with this token if it can still be used; `LinkRefused` otherwise."""
    link = None
    if is_well_formed(token):
        links = AccountLink.objects.select_related("user")
        if lock:
            links = links.select_for_update(of=("self",))
        link = links.filter(token_hash=token_hash(token), purpose=LinkPurpose.FIRST_LOGIN).first()
    if link is not None and not link.user.is_active:
        link = None
    _check_open(
        link,
        now,
        used=_("This link has already been used. Log in with your password, or reset it by e-mail."),
        expired=_("This link expired on %(date)s. Ask your counsellor for a new one."),
    )
    assert link is not None
    if link.user.has_usable_password():
        raise LinkRefused(_("This account already has a password. Log in with it, or reset it by e-mail."), code="used")
    return link


@transaction.atomic
def set_first_password(*, token: str, password: str, now: dt.datetime, email: str = "") -> User:
    """The student sets their password (the site's password rules apply) and, if they give one, their e-mail
    (for resetting the password later). The link is used up."""
    link = open_first_login_link(token=token, now=now, lock=True)
    user = link.user
    email = (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
        user.email = email
    try:
        password_validation.validate_password(password, user)
    except ValidationError as e:
        raise ValidationError({"new_password1": e.messages}) from None
    user.set_password(password)
    user.save()
    link.used_at = now
    link.save(update_fields=["used_at"])
    # Any other open first-login link of this student ends with this one.
    AccountLink.objects.filter(user=user, purpose=LinkPurpose.FIRST_LOGIN, used_at__isnull=True).exclude(
        pk=link.pk
    ).update(expires_at=now)
    return user


# ---------------------------------------------------------------------------------------------------------------
# Follow-up links


def graduates_due_follow_up(students: QuerySet[Student], *, today: dt.date) -> QuerySet[Student]:
    """The graduates among `students` whose next follow-up after leaving is due within a week, or overdue."""
    return students.filter(
        expected_graduation__lt=today,
        progress__stage=Stage.AFTER_LEAVING,
        progress__next_due_metric=Metric.FOLLOW_UP,
        progress__next_due_on__lte=today + dt.timedelta(days=FOLLOW_UP_AHEAD_DAYS),
    )


def open_follow_up_links(now: dt.datetime) -> QuerySet[FollowUpLink]:
    return FollowUpLink.objects.filter(used_at__isnull=True, expires_at__gt=now)


@transaction.atomic
def send_follow_up_link(
    *, actor: User, student: Student, now: dt.datetime, due_on: dt.date | None = None
) -> FollowUpLink:
    """E-mail the graduate a one-time link to a short follow-up form; their answer is recorded as the actor's
    follow-up. Refused before graduation, without an e-mail address, or while an earlier link is still open."""
    require_student_perm(actor, Perm.LOG_ACTIVITY, student)
    current = Student.objects.select_for_update(of=("self",)).select_related("user").get(pk=student.pk)
    today = timezone.localdate(now)
    if today <= current.expected_graduation:
        raise ValidationError(
            _("%(name)s has not graduated yet: follow-ups start after leaving (%(date)s).")
            % {"name": current.name, "date": current.expected_graduation.isoformat()}
        )
    if current.user is None or not current.user.email or not current.user.is_active:
        raise ValidationError(
            _("%(name)s has no e-mail address in Bangfu: follow up by phone instead.") % {"name": current.name}
        )
    earlier = open_follow_up_links(now).filter(student=current).first()
    if earlier is not None:
        raise ValidationError(
            _("A link sent on %(sent)s is still open until %(until)s.")
            % {
                "sent": timezone.localtime(earlier.created_at).date().isoformat(),
                "until": timezone.localtime(earlier.expires_at).date().isoformat(),
            }
        )
    link = FollowUpLink(
        student=current,
        sent_by=actor,
        sent_to=current.user.email,
        due_on=due_on,
        created_at=now,
        expires_at=now + dt.timedelta(days=FOLLOW_UP_DAYS),
    )
    link.token_hash = token_hash(make_token(purpose=FOLLOW_UP_PURPOSE, public_id=link.public_id))
    link.save()
    transaction.on_commit(lambda: _send_follow_up_mail(link=link, student=current))
    return link


def _send_follow_up_mail(*, link: FollowUpLink, student: Student) -> None:
    token = make_token(purpose=FOLLOW_UP_PURPOSE, public_id=link.public_id)
    assert student.user is not None
    with translation.override(_language_of(student.user)):
        context = {
            "student": student,
            "helper": link.sent_by,
            "url": link_url("followup:link", token),
            "expires_at": link.expires_at,
        }
        subject = _("How are you doing? A short follow-up from your school")
        body = render_to_string("portal/followup/email/link.txt", context)
    try:
        EmailMessage(subject=subject, body=body, to=[link.sent_to]).send()
    except (smtplib.SMTPException, OSError):
        # The helper sees the link as open and can follow up by phone; the link ends on its own.
        logger.exception("Could not e-mail the follow-up link %s", link.pk)


def send_due_follow_up_links(*, now: dt.datetime) -> int:
    """For the daily job: a follow-up link to every graduate due a follow-up who has an e-mail address, a helper
    and no link for this milestone yet, sent in the helper's name. Returns how many were sent."""
    today = timezone.localdate(now)
    already = FollowUpLink.objects.filter(student=OuterRef("pk")).filter(
        Q(due_on=OuterRef("progress__next_due_on")) | Q(used_at__isnull=True, expires_at__gt=now)
    )
    helper = HelperAssignment.objects.active().filter(student=OuterRef("pk"))
    due = (
        graduates_due_follow_up(Student.objects.all(), today=today)
        .filter(Exists(helper), user__is_active=True)
        .exclude(user__email="")
        .exclude(Exists(already))
        .select_related("progress")
    )
    helpers = dict(HelperAssignment.objects.active().filter(student__in=due).values_list("student_id", "helper_id"))
    users = User.objects.in_bulk(set(helpers.values()))
    sent = 0
    for student in due:
        try:
            send_follow_up_link(
                actor=users[helpers[student.pk]], student=student, now=now, due_on=student.progress.next_due_on
            )
        except (ValidationError, PermissionDenied):
            continue
        sent += 1
    return sent


def open_follow_up_link(*, token: str, now: dt.datetime, lock: bool = False) -> FollowUpLink:
    """The follow-up link with this token if it can still be answered; `LinkRefused` otherwise."""
    link = None
    if is_well_formed(token):
        links = FollowUpLink.objects.select_related("student", "sent_by")
        if lock:
            links = links.select_for_update(of=("self",))
        link = links.filter(token_hash=token_hash(token)).first()
    _check_open(
        link,
        now,
        used=_("This follow-up has already been answered. Thank you!"),
        expired=_("This link expired on %(date)s. Your helper will contact you."),
    )
    assert link is not None
    if not has_student_perm(link.sent_by, Perm.LOG_ACTIVITY, link.student):
        # The helper who sent it no longer helps this graduate: the new helper follows up.
        raise LinkRefused(_("This link is no longer valid. Your school will contact you."), code="expired")
    return link


@transaction.atomic
def answer_follow_up(*, token: str, status: str, now: dt.datetime, notes: str = "") -> FollowUp:
    """The graduate answers the follow-up through their link: recorded as the sender's follow-up (a work-ledger
    activity, with the note that the graduate answered by link). The link is used up."""
    link = open_follow_up_link(token=token, now=now, lock=True)
    if status not in FollowUpStatus.values:
        raise ValidationError({"status": _("Choose your situation.")})
    with translation.override(_language_of(link.sent_by)):
        answered = _("The graduate answered through a one-time link.")
    notes = (notes or "").strip()
    today = timezone.localdate(now)
    follow_up = record_follow_up(
        actor=link.sent_by,
        student=link.student,
        done_on=today,
        status=status,
        today=today,
        notes=f"{answered}\n{notes}" if notes else answered,
    )
    link.used_at = now
    link.follow_up = follow_up
    link.save(update_fields=["used_at", "follow_up"])
    return follow_up
