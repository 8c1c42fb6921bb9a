"""Student accounts: the office's bulk creation from the student list, the printable list of first-login links and
its spreadsheet, and the student's first login (set a password, then logged in).

Who may: a user holding CREATE_STUDENT (employment office, department leader) on the students concerned. A batch
shows only the students the user may make accounts for; a batch with none of them does not exist for the user.
The first-login pages need no login: the link is the credential. Its token is moved from the address into the
session at once, so it does not linger in the browser's history or leak to another page.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, units_with
from bangfu.portal import accounts
from bangfu.portal.models import AccountBatch, AccountLink
from bangfu.reports import xlsx
from bangfu.students.forms import StudentFilterForm
from bangfu.students.models import Student
from bangfu.students.queries import apply_student_filters

PREVIEW_ROWS = 50  # students named on the confirmation page
SESSION_TOKEN = "bangfu_first_login_token"


class AuthedRequest(HttpRequest):
    user: User


def _require_creator(user: User) -> None:
    """The account pages are for those who may make student accounts somewhere (403 for everyone else)."""
    if not (user.is_superuser or units_with(user, Perm.CREATE_STUDENT)):
        raise PermissionDenied


def _creatable(user: User) -> QuerySet[Student]:
    return Student.objects.visible_to(user, Perm.CREATE_STUDENT)


def _back_to_list(request: AuthedRequest, target: str) -> HttpResponse:
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("students:list")
    return redirect(target)


# ---------------------------------------------------------------------------------------------------------------
# Batches


def _batches_for(user: User) -> QuerySet[AccountBatch]:
    """Batches holding at least one student `user` may make accounts for, with the counts of those students."""
    mine = Q(links__user__student_record__in=_creatable(user))
    in_scope = AccountLink.objects.filter(batch=OuterRef("pk"), user__student_record__in=_creatable(user))
    return (
        AccountBatch.objects.filter(Exists(in_scope))
        .select_related("created_by")
        .annotate(
            total=Count("links", filter=mine),
            used=Count("links", filter=mine & Q(links__used_at__isnull=False)),
        )
        .order_by("-created_at", "-id")
    )


def _get_batch_for_user(user: User, public_id: uuid.UUID) -> AccountBatch:
    _require_creator(user)
    batch = _batches_for(user).filter(public_id=public_id).first()
    if batch is None:
        raise Http404
    return batch


def _links_of(batch: AccountBatch, user: User) -> QuerySet[AccountLink]:
    return (
        AccountLink.objects.filter(batch=batch, user__student_record__in=_creatable(user))
        .select_related("user__student_record__class_unit")
        .order_by("user__student_record__class_unit__path", "user__student_record__student_number")
    )


def _rows(batch: AccountBatch, user: User) -> list[dict[str, Any]]:
    """One row per student of the batch: the open link to hand out, or why there is none."""
    now = timezone.now()
    rows = []
    for link in _links_of(batch, user):
        student = link.user.student_record
        token = accounts.first_login_token(link) if link.used_at is None and link.expires_at > now else None
        rows.append(
            {
                "student": student,
                "username": link.user.username,
                "link": link,
                "url": accounts.link_url("student_accounts:first_login_link", token) if token else "",
                "state": "used" if link.used_at else ("open" if token else "expired"),
            }
        )
    return rows


@require_GET
def batch_list(request: AuthedRequest) -> HttpResponse:
    _require_creator(request.user)
    batches = _batches_for(request.user)[:100]
    return render(request, "portal/accounts/batches.html", {"batches": batches})


@require_GET
def batch_detail(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    batch = _get_batch_for_user(request.user, public_id)
    rows = _rows(batch, request.user)
    response = render(
        request,
        "portal/accounts/batch.html",
        {
            "batch": batch,
            "rows": rows,
            "open": sum(1 for r in rows if r["state"] == "open"),
            "expired": sum(1 for r in rows if r["state"] == "expired"),
        },
    )
    add_never_cache_headers(response)  # the page holds live links
    return response


@require_GET
def batch_xlsx(request: AuthedRequest, public_id: uuid.UUID) -> FileResponse:
    batch = _get_batch_for_user(request.user, public_id)
    rows = [r for r in _rows(batch, request.user) if r["state"] == "open"]
    title = _("First-login links")
    sheet = xlsx.Sheet(
        name=title,
        title=title,
        subtitle=_("Hand each student their own link; it works once, until the date shown."),
        columns=[
            xlsx.Column(_("Class"), 24),
            xlsx.Column(_("Student number"), 16),
            xlsx.Column(_("Name"), 12),
            xlsx.Column(_("User name"), 24),
            xlsx.Column(_("First-login link"), 70),
            xlsx.Column(_("Open until"), 12, xlsx.DATE),
        ],
        rows=(
            (
                str(r["student"].class_unit),
                r["student"].student_number,
                r["student"].name,
                r["username"],
                r["url"],
                timezone.localtime(r["link"].expires_at).date(),
            )
            for r in rows
        ),
    )
    response, count = xlsx.stream([sheet], f"first-login-links-{timezone.localdate():%Y%m%d}.xlsx")
    log_access(
        actor=request.user,
        action=AccessAction.EXPORT,
        fields="first_login_links",
        detail=f"batch {batch.public_id}; rows={count}",
        ip_address=request.META.get("REMOTE_ADDR") or None,
    )
    return response


@require_POST
def batch_renew(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    batch = _get_batch_for_user(request.user, public_id)
    try:
        renewed = accounts.renew_first_login_links(actor=request.user, batch=batch, now=timezone.now())
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect("student_accounts:batch", public_id=batch.public_id)
    count = renewed.links.count()
    messages.success(
        request,
        ngettext(
            "A new link for %(count)d student: the earlier ones no longer work.",
            "New links for %(count)d students: the earlier ones no longer work.",
            count,
        )
        % {"count": count},
    )
    return redirect("student_accounts:batch", public_id=renewed.public_id)


# ---------------------------------------------------------------------------------------------------------------
# Creating accounts: the selected students of the list (POST `students`), or every student of the list's filters
# (GET: a confirmation page; POST with `all`: create).


def _selected(user: User, values: list[str]) -> list[Student]:
    """The selected students: 404 if any is not visible, 403 if the user may not make an account for any of them."""
    wanted = set()
    for value in values:
        try:
            wanted.add(uuid.UUID(value))
        except ValueError:
            raise Http404 from None
    found = list(Student.objects.visible_to(user).filter(public_id__in=wanted))
    if len(found) != len(wanted):
        raise Http404
    if _creatable(user).filter(public_id__in=wanted).count() != len(wanted):
        raise PermissionDenied
    return found


def _filtered(request: AuthedRequest) -> tuple[StudentFilterForm, QuerySet[Student]]:
    """The list's filters (from the query string), over the students the user may make accounts for."""
    form = StudentFilterForm(request.GET or None, user=request.user)
    if form.is_bound:
        form.is_valid()  # invalid filters are left out, as on the list page
    students = apply_student_filters(_creatable(request.user), **form.filters())
    return form, students.select_related("class_unit").order_by("class_unit__path", "student_number")


def _created_message(request: AuthedRequest, result: accounts.AccountsResult) -> None:
    if result.created:
        messages.success(
            request,
            ngettext(
                "%(count)d student account was made.",
                "%(count)d student accounts were made.",
                len(result.created),
            )
            % {"count": len(result.created)},
        )
    if result.skipped:
        names = ", ".join(f"{s.name} ({s.student_number})" for s in result.skipped[:20])
        more = len(result.skipped) - 20
        messages.info(
            request,
            ngettext(
                "%(count)d student already had an account and was skipped: %(names)s",
                "%(count)d students already had an account and were skipped: %(names)s",
                len(result.skipped),
            )
            % {"count": len(result.skipped), "names": names + (" …" if more > 0 else "")},
        )


@require_http_methods(["GET", "POST"])
def create(request: AuthedRequest) -> HttpResponse:
    _require_creator(request.user)
    selection = request.POST.getlist("students") if request.method == "POST" else []
    if selection:
        chosen = _selected(request.user, selection)
        try:
            result = accounts.create_student_accounts(actor=request.user, students=chosen, now=timezone.now())
        except ValidationError as e:
            for message in e.messages:
                messages.error(request, message)
            return _back_to_list(request, request.POST.get("next", ""))
        _created_message(request, result)
        if result.batch is None:
            return _back_to_list(request, request.POST.get("next", ""))
        return redirect("student_accounts:batch", public_id=result.batch.public_id)

    form, students = _filtered(request)
    errors: list[str] = []
    if request.method == "POST":
        if "all" not in request.POST:
            messages.error(request, _("Choose at least one student."))
            return _back_to_list(request, request.POST.get("next", ""))
        try:
            result = accounts.create_student_accounts(actor=request.user, students=students, now=timezone.now())
        except ValidationError as e:
            errors = e.messages
        else:
            _created_message(request, result)
            if result.batch is None:
                return redirect(reverse("students:list") + ("?" + request.GET.urlencode() if request.GET else ""))
            return redirect("student_accounts:batch", public_id=result.batch.public_id)
    counts = students.aggregate(total=Count("pk"), with_account=Count("pk", filter=Q(user__isnull=False)))
    context = {
        "form": form,
        "query": request.GET.urlencode(),
        "total": counts["total"],
        "with_account": counts["with_account"],
        "to_create": counts["total"] - counts["with_account"],
        "preview": list(students.filter(user__isnull=True)[:PREVIEW_ROWS]),
        "errors": errors,
        "max_accounts": accounts.MAX_ACCOUNTS,
    }
    return render(request, "portal/accounts/create.html", context, status=400 if errors else 200)


# ---------------------------------------------------------------------------------------------------------------
# The first login


class FirstLoginForm(SetPasswordForm):  # type: ignore[type-arg]
    email = forms.EmailField(
        label=gettext_lazy("E-mail (optional)"),
        required=False,
        help_text=gettext_lazy("With an e-mail address you can reset your password yourself if you forget it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "class": "form-control"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("new_password1", "new_password2"):
            self.fields[name].widget.attrs["class"] = "form-control"


def _refused(request: HttpRequest, error: accounts.LinkRefused, template: str) -> HttpResponse:
    status = 404 if error.code == "invalid" else 410
    return render(request, template, {"message": " ".join(error.messages), "code": error.code}, status=status)


@login_not_required
@require_GET
def first_login_link(request: HttpRequest, token: str) -> HttpResponse:
    request.session[SESSION_TOKEN] = token
    return redirect("student_accounts:first_login")


@login_not_required
@require_http_methods(["GET", "POST"])
def first_login(request: HttpRequest) -> HttpResponse:
    token = request.session.get(SESSION_TOKEN, "")
    try:
        link = accounts.open_first_login_link(token=token, now=timezone.now())
    except accounts.LinkRefused as e:
        return _refused(request, e, "portal/accounts/link_refused.html")
    user = link.user
    form = FirstLoginForm(user, request.POST if request.method == "POST" else None, initial={"email": user.email})
    if form.is_valid():
        try:
            user = accounts.set_first_password(
                token=token,
                password=form.cleaned_data["new_password1"],
                email=form.cleaned_data["email"],
                now=timezone.now(),
            )
        except accounts.LinkRefused as e:
            return _refused(request, e, "portal/accounts/link_refused.html")
        except ValidationError as e:
            for name, errors in e.error_dict.items() if hasattr(e, "error_dict") else [(None, e.messages)]:
                form.add_error(name if name in form.fields else None, errors)
        else:
            request.session.pop(SESSION_TOKEN, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your password is set. Welcome to Bangfu!"))
            return redirect("home")
    response = render(request, "portal/accounts/first_login.html", {"form": form, "account": user})
    add_never_cache_headers(response)
    return response
