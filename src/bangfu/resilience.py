"""While the database cannot be reached, every request is answered 503 with a short page (JSON under /api/), not
a 500 error page, and the app serves again as soon as the database is back.

Nothing here keeps state: Django drops a broken connection at the end of the request that found it broken (and
checks a persistent one before reuse, CONN_HEALTH_CHECKS), so the first request after the outage reconnects.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# What a lost, refused or broken connection raises (Django's wrappers of the driver's errors), and also a
# locked SQLite file or a statement cancelled by the server: all pass if the client tries again later.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
_FLAG = "_bangfu_database_unavailable"
# Headers the inner middleware put on the 500 page it replaces (the page's policy, framing, caching by cookie).
KEPT_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Vary")


def _is_unavailable(error: BaseException | None) -> bool:
    # In development the debug page shows the error instead (SQLite reports a missing table this way too).
    return isinstance(error, UNAVAILABLE) and not settings.DEBUG


def _language(request: HttpRequest) -> str:
    """The language the request was being answered in, without asking the database for the user's choice."""
    language = getattr(request, "LANGUAGE_CODE", "") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def unavailable_response(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        detail = _("Bangfu cannot reach its database at the moment. Please try again in a minute.")
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"detail": detail, "errors": {}, "code": "database_unavailable"}, status=503
            )
        else:
            # A page of its own: base.html's menu would ask the database what to show.
            response = HttpResponse(
                render_to_string("503.html", {"detail": detail, "path": request.get_full_path()}), status=503
            )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Content-Language"] = language
    add_never_cache_headers(response)
    return response


class DatabaseUnavailableMiddleware:
    """Placed outside the session and authentication middleware, whose database reads fail first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A middleware inside this one failed: Django has turned the error into a 500 page already.
        if getattr(request, _FLAG, False):
            replacement = unavailable_response(request)
            for header in KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_unavailable(exception):
            return None
        logger.warning("Database unavailable during %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)


def _note_unavailable(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Sent inside Django's `except` block for an error no view handled, so sys.exc_info() is that error.
    if request is not None and _is_unavailable(sys.exc_info()[1]):
        setattr(request, _FLAG, True)


got_request_exception.connect(_note_unavailable, dispatch_uid="bangfu.resilience")
