"""API rate limits: ninja's throttles with their rates read from `settings.API_THROTTLE_RATES` on every request
(so a test or an operator's setting applies without re-importing the API) and the caller's address from
`client_ip`. The counters live in the Django cache, shared by every app process when it is Redis; while it
cannot be reached, calls are let through (see bangfu.organisation.ratelimit)."""

import copy
import logging
import threading

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import AnonRateThrottle, AuthRateThrottle, SimpleRateThrottle

from bangfu.organisation.ratelimit import CACHE_UNREACHABLE, client_ip

logger = logging.getLogger(__name__)


class _RateFromSettings(SimpleRateThrottle):
    """ninja keeps one throttle object per API and stores each call's state on it (key, history): with threaded
    workers two calls would mix theirs, so each call counts on a copy of its own, kept per thread for `wait`."""

    def __init__(self, rate: str | None = None) -> None:
        super().__init__(rate)
        self._calls = threading.local()

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope or "")  # type: ignore[no-any-return]

    def get_ident(self, request: HttpRequest) -> str:
        return client_ip(request)

    def allow_request(self, request: HttpRequest) -> bool:
        call = copy.copy(self)
        self._calls.last = call
        call.rate = self.get_rate()
        if call.rate is None:  # no limit for this scope
            return True
        call.num_requests, call.duration = self.parse_rate(call.rate)
        try:
            return SimpleRateThrottle.allow_request(call, request)
        except CACHE_UNREACHABLE:
            logger.exception("API rate limit not applied: the cache cannot be reached")
            return True

    def wait(self) -> float | None:
        return SimpleRateThrottle.wait(self._calls.last)


class UserThrottle(_RateFromSettings, AuthRateThrottle):
    """Per user, whether they call with a token or the session cookie."""

    scope = "user"

    def get_cache_key(self, request: HttpRequest) -> str | None:  # type: ignore[override]
        user = getattr(request, "auth", None)
        if user is None:
            return None  # an anonymous call is AnonThrottle's
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class AnonThrottle(_RateFromSettings, AnonRateThrottle):
    """Per client address, for calls without valid credentials (they are answered 401, or 429 past the rate)."""

    scope = "anon"
