"""How the API answers errors: one JSON shape, `{"detail": "...", "errors": {field: [messages]}, "code": ...}`.

- invalid input (a service's `ValidationError`, or a request that does not fit the schema) → 422
- a stale edit (someone saved first) → 409
- an action the caller's role may not do on a visible object → 403
- anything outside the caller's scope, or that does not exist → 404
- no credentials → 401

`code` names the reason when a service gave one a client may act on (e.g. "closed": the month of an activity
is closed, record a correction; "stale"), and is null otherwise.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as RequestValidationError

from bangfu.concurrency import StaleEdit


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
    code: str | None = None


# Error answers an operation may give, for its `response=` declaration (and so for the OpenAPI document).
READ_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
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

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = answer(request, 401, _("Log in, or send an API token in an Authorization: Bearer header."))
        response["WWW-Authenticate"] = "Bearer"
        return response
