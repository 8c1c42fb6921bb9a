"""Audit pages for the employment office: the history of changes and the access log (others get 403)."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from bangfu.audit import queries
from bangfu.audit.forms import AccessFilterForm, ChangeFilterForm
from bangfu.organisation.models import User
from bangfu.organisation.permissions import can_browse_audit


def _auditor(request: HttpRequest) -> User:
    """The user, if they may browse the audit (the employment office, a superuser); anyone else gets 403."""
    user = request.user
    if not isinstance(user, User) or not can_browse_audit(user):
        raise PermissionDenied
    return user


def _render(request: HttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    # An htmx request (the filter form, a page link) gets only the results; the same URL gives the page.
    partial = bool(request.htmx) and not request.htmx.boosted  # type: ignore[attr-defined]
    response = render(request, f"{template}#results" if partial else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _auditor(request)
    return redirect("audit:history")


@require_GET
def history(request: HttpRequest) -> HttpResponse:
    user = _auditor(request)
    form = ChangeFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    page = Paginator(queries.changes(user, form.filters()), queries.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "rows": queries.change_rows(page.object_list), "tab": "history"}
    return _render(request, "audit/history.html", context)


@require_GET
def access(request: HttpRequest) -> HttpResponse:
    user = _auditor(request)
    form = AccessFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    page = Paginator(queries.access_log(user, form.filters()), queries.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "rows": queries.access_rows(page.object_list), "tab": "access"}
    return _render(request, "audit/access.html", context)
