"""Who is calling the API: a bearer token, or the browser's session cookie (with its CSRF token)."""

import datetime as dt
import hashlib
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone, translation
from ninja.security import HttpBearer, SessionAuth

from bangfu.organisation.models import ApiToken, User
from bangfu.organisation.services import user_for_token

# A token's last use is recorded at most this often, so a busy client does not write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a token made by `bangfu create_token`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token:
            return None
        user = user_for_token(token)
        if user is None:
            return None
        _touch(token)
        # The middleware ran before the user was known: scope and language follow the token's user.
        request.user = user
        if user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return user


def _touch(token: str) -> None:
    now = timezone.now()
    digest = hashlib.sha256(token.encode()).hexdigest()
    # Bookkeeping on the token row only (no history, no business rule), hence a plain update.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, digest=digest).update(last_used_at=now)


class SessionCookieAuth(SessionAuth):
    """The logged-in browser session; unsafe methods need the CSRF token, as for any form."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session there is nothing to protect: answer 401, not a CSRF 403.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


def caller(request: HttpRequest) -> User:
    """The authenticated user of an API request."""
    return request.auth  # type: ignore[attr-defined,no-any-return]
