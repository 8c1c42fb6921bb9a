"""A person's own notifications and their e-mail digest preference."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.notifications import queries
from bangfu.notifications.forms import PreferenceForm
from bangfu.notifications.models import DigestFrequency
from bangfu.notifications.services import mark_all_read, mark_read, set_digest_frequency
from bangfu.organisation.models import User

PAGE_SIZE = 20


class AuthedRequest(HttpRequest):
    """Every page here needs a login (LoginRequiredMiddleware), so `user` is a real user."""

    user: User
    htmx: HtmxDetails


@require_GET
def notification_list(request: AuthedRequest) -> HttpResponse:
    page = Paginator(queries.notifications_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    digest = DigestFrequency(queries.digest_frequency(request.user))
    return render(request, "notifications/list.html", {"page": page, "digest": digest})


@require_POST
def read(request: AuthedRequest, public_id: UUID) -> HttpResponse:
    notification = mark_read(
        actor=request.user, notification=queries.get_notification(request.user, public_id), now=timezone.now()
    )
    if request.htmx:
        notification = queries.notifications_of(request.user).get(pk=notification.pk)
        return render(request, "notifications/list.html#notification", {"notification": notification})
    return redirect("notifications:list")


@require_POST
def read_all(request: AuthedRequest) -> HttpResponse:
    mark_all_read(actor=request.user, now=timezone.now())
    return redirect("notifications:list")


@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    initial = {"digest": queries.digest_frequency(request.user)}
    form = PreferenceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            set_digest_frequency(actor=request.user, frequency=form.cleaned_data["digest"])
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, _("Your e-mail digest setting is saved."))
            return redirect("notifications:list")
    return render(request, "notifications/preferences.html", {"form": form, "has_email": bool(request.user.email)})
