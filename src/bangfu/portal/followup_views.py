"""Follow-ups after leaving by one-time link.

The graduate's pages need no login: the link e-mailed to them is the credential, good for one answer until it
expires. Its token moves from the address into the session at once (so it is not left in the browser's history),
and the form answers for that link's graduate only: nothing in the form names a student.
The helper's pages (graduates due a follow-up, "send the link") are for those who log help for the graduate.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, is_staff_member
from bangfu.outcomes.models import FollowUpStatus
from bangfu.portal import accounts
from bangfu.portal.models import FollowUpLink
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user

PAGE_SIZE = 50
SESSION_TOKEN = "bangfu_follow_up_token"


class AuthedRequest(HttpRequest):
    user: User


# ---------------------------------------------------------------------------------------------------------------
# The graduate's form


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("How are you doing now?"),
        choices=FollowUpStatus.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": gettext_lazy("Choose your situation.")},
    )
    notes = forms.CharField(
        label=gettext_lazy("Anything to add (employer, city, what help you need)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )


def _refused(request: HttpRequest, error: accounts.LinkRefused) -> HttpResponse:
    status = 404 if error.code == "invalid" else 410
    return render(
        request,
        "portal/followup/refused.html",
        {"message": " ".join(error.messages), "code": error.code},
        status=status,
    )


@login_not_required
@require_GET
def link(request: HttpRequest, token: str) -> HttpResponse:
    request.session[SESSION_TOKEN] = token
    return redirect("followup:answer")


@login_not_required
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest) -> HttpResponse:
    token = request.session.get(SESSION_TOKEN, "")
    try:
        found = accounts.open_follow_up_link(token=token, now=timezone.now())
    except accounts.LinkRefused as e:
        return _refused(request, e)
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            accounts.answer_follow_up(
                token=token, status=form.cleaned_data["status"], notes=form.cleaned_data["notes"], now=timezone.now()
            )
        except accounts.LinkRefused as e:
            return _refused(request, e)
        except ValidationError as e:
            form.add_error(None, e.messages)
        else:
            request.session.pop(SESSION_TOKEN, None)
            return redirect("followup:thanks")
    response = render(
        request,
        "portal/followup/answer.html",
        {"form": form, "student": found.student, "helper": found.sent_by, "link": found},
        status=400 if form.is_bound and form.errors else 200,
    )
    add_never_cache_headers(response)
    return response


@login_not_required
@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/followup/thanks.html")


# ---------------------------------------------------------------------------------------------------------------
# The helper's side


def _require_staff(user: User) -> None:
    """Any staff member may be a helper, so the list is for all staff (each sees the graduates they log help for)."""
    if not is_staff_member(user):
        raise PermissionDenied


@require_GET
def due(request: AuthedRequest) -> HttpResponse:
    _require_staff(request.user)
    now = timezone.now()
    today = timezone.localdate(now)
    open_links = accounts.open_follow_up_links(now).filter(student=OuterRef("pk"))
    students = (
        accounts.graduates_due_follow_up(Student.objects.visible_to(request.user, Perm.LOG_ACTIVITY), today=today)
        .select_related("class_unit", "user", "progress")
        .annotate(
            open_until=Subquery(open_links.values("expires_at")[:1]),
            has_open_link=Exists(open_links),
            last_sent=Subquery(
                FollowUpLink.objects.filter(student=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
            ),
            due_on=F("progress__next_due_on"),
        )
        .order_by("progress__next_due_on", "student_number")
    )
    page = Paginator(students, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/followup/due.html", {"page": page, "today": today})


@require_POST
def send(request: AuthedRequest, public_id: uuid.UUID) -> HttpResponse:
    student = get_student_for_user(request.user, public_id)
    progress = getattr(student, "progress", None)
    try:
        found = accounts.send_follow_up_link(
            actor=request.user,
            student=student,
            now=timezone.now(),
            due_on=progress.next_due_on if progress is not None else None,
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(
            request,
            _("A follow-up link was e-mailed to %(name)s (%(email)s); it stays open until %(date)s.")
            % {
                "name": student.name,
                "email": found.sent_to,
                "date": timezone.localtime(found.expires_at).date().isoformat(),
            },
        )
    target = request.POST.get("next", "")
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("followup:due")
    return redirect(target)
