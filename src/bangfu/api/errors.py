"""How the API answers errors: one JSON shape, `{"detail": "...", "errors": {field: [messages]}, "code": ...}`.

- invalid input (a service's `ValidationError`, or a request that does not fit the schema) → 422
- a stale edit (someone saved first) → 409
- an action the caller's role may not do on a visible object → 403
- anything outside the caller's scope, or that does not exist → 404
- no credentials → 401
- a request that cannot be read (a body that is not JSON, a broken multipart form, too many fields) → 400
- too many requests (see throttling.py) → 429, with Retry-After

`code` names the reason when a service gave one a client may act on (e.g. "closed": the month of an activity
is closed, record a correction; "stale"), and is null otherwise.
"""

import logging
import math

from django.core.exceptions import NON_FIELD_ERRORS, BadRequest, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as RequestValidationError

from bangfu.api.throttling import AnonThrottle
from bangfu.concurrency import StaleEdit


class ErrorOut(Schema):
    # Every field is always sent (the schema says so): an error answered in another shape fails the API fuzz test.
    detail: str
    errors: dict[str, list[str]]
    code: str | None


# Error answers an operation may give, for its `response=` declaration (and so for the OpenAPI document).
# 400: a request Django cannot read (e.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS).
READ_ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}
EDIT_ERRORS: dict[int, type[Schema]] = {**WRITE_ERRORS, 409: ErrorOut}


def _is_stale(exc: DjangoValidationError) -> bool:
    if hasattr(exc, "error_dict"):
        return False
    return any(e.code == "stale" for e in exc.error_list)


def _code(exc: DjangoValidationError) -> str | None:
    """The code of a whole-record error (field errors are named by their field instead)."""
    if hasattr(exc, "error_dict"):
        return None
    return next((e.code for e in exc.error_list if e.code), None)


def _messages(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


def register_error_handlers(api: NinjaAPI) -> None:
    # Calls without valid credentials never reach an operation's throttles (authentication runs first): count
    # them here, per address, so that guessing tokens is throttled too.
    anonymous = AnonThrottle()

    def answer(
        request: HttpRequest,
        status: int,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        code: str | None = None,
    ) -> HttpResponse:
        return api.create_response(request, {"detail": detail, "errors": errors or {}, "code": code}, status=status)

    @api.exception_handler(StaleEdit)
    def stale(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        detail = " ".join(exc.messages)
        return answer(request, 409, detail, {NON_FIELD_ERRORS: list(exc.messages)}, "stale")

    @api.exception_handler(DjangoValidationError)
    def invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        if _is_stale(exc):
            return stale(request, exc)
        errors = _messages(exc)
        detail = " ".join(m for messages in errors.values() for m in messages)
        return answer(request, 422, detail, errors, _code(exc))

    @api.exception_handler(RequestValidationError)
    def invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            loc = [str(part) for part in error.get("loc", ())]
            # ("body", "payload", "name") → "name"; ("query", "cohort") → "cohort"; list items keep their field.
            parts = loc[2:] if loc[:1] == ["body"] else loc[1:]
            parts = [p for p in parts if not p.isdigit()] or [NON_FIELD_ERRORS]
            errors.setdefault(".".join(parts), []).append(str(error.get("msg", "")))
        return answer(request, 422, _("Some values are missing or not valid."), errors)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return answer(request, 403, _("You are not allowed to do this."))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(request, 404, _("Not found."))

    @api.exception_handler(BadRequest)
    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(SuspiciousOperation)
    def unreadable(request: HttpRequest, exc: Exception) -> HttpResponse:
        """A request Django refuses to read (a multipart form without a boundary, too many fields, too big): 400
        in our shape rather than Django's HTML page; logged as Django logs it."""
        if isinstance(exc, SuspiciousOperation):
            logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
        return answer(request, 400, _("The request cannot be read: it is malformed or too large."))

    @api.exception_handler(HttpError)
    def refused(request: HttpRequest, exc: HttpError) -> HttpResponse:
        """Our own 400s, and ninja's for a body it cannot parse (whose text, under DEBUG, quotes the parser)."""
        detail = str(exc)
        if detail.startswith("Cannot parse request body"):
            detail = _("The request body cannot be read: send a JSON object (or the multipart form described).")
        return answer(request, exc.status_code, detail)

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return answer(request, 429, _("Too many requests. Wait a moment, then try again."), code="throttled")

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        if not anonymous.allow_request(request):
            wait = anonymous.wait()
            response = throttled(request, Throttled(wait=None))
            if wait is not None:
                response["Retry-After"] = str(math.ceil(wait))
            return response
        response = answer(request, 401, _("Log in, or send an API token in an Authorization: Bearer header."))
        response["WWW-Authenticate"] = "Bearer"
        return response
