"""Rate limits that hold across every app process: the counters live in the Django cache (Redis in production).

`client_ip` is the one answer to "who is calling" for the login limit, the API throttles and django-axes.
While the cache cannot be reached the limits are not applied (and that is logged): log-ins and the API keep
working, and axes' lockout, kept in the database, still stands.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What a cache that cannot be reached raises.
CACHE_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind `NUM_PROXIES` trusted proxies the address the outermost of them put in
    X-Forwarded-For: the addresses left of it are the client's to forge."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return str(request.META.get("REMOTE_ADDR", ""))


def parse_rate(rate: str) -> tuple[int, int]:
    """The number of requests allowed per period of seconds: "20/min" → (20, 60)."""
    count, _, unit = rate.partition("/")
    if unit not in PERIODS:
        raise ValueError(f"A rate is 'count/unit' with a unit of {', '.join(PERIODS)}, not {rate!r}")
    return int(count), PERIODS[unit]


@dataclass(frozen=True)
class Window:
    count: int  # hits counted in the current window
    limit: int
    retry_after: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.count >= self.limit


def _window(key: str, rate: str) -> tuple[str, int, int]:
    limit, period = parse_rate(rate)
    now = int(time.time())
    return f"ratelimit:{key}:{now // period}", limit, period - now % period


def peek(key: str, rate: str, *, cache: BaseCache | None = None) -> Window:
    """The current window's count, without counting."""
    cache_key, limit, retry_after = _window(key, rate)
    return Window(int((cache or caches["default"]).get(cache_key, 0)), limit, retry_after)


def count(key: str, rate: str, *, cache: BaseCache | None = None) -> Window:
    """Count one hit in a fixed window. `incr` is atomic in Redis, so processes sharing the cache share the count."""
    cache = cache or caches["default"]
    cache_key, limit, retry_after = _window(key, rate)
    cache.add(cache_key, 0, timeout=retry_after + 1)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # the window expired between add and incr
        cache.add(cache_key, 1, timeout=retry_after + 1)
        hits = 1
    return Window(hits, limit, retry_after)


def limit_failed_logins(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """At most `LOGIN_RATE` failed log-ins per client address (password spraying tries many usernames from one
    address; axes locks one username). Successful log-ins are not counted, so a whole campus behind one NAT
    address can still log in on a Monday morning."""

    @wraps(view)
    def limited(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        key = f"login:{client_ip(request)}"
        try:
            window = peek(key, settings.LOGIN_RATE)
        except CACHE_UNREACHABLE:
            logger.exception("Log-in rate limit not applied: the cache cannot be reached")
            return view(request, *args, **kwargs)
        if window.exceeded:
            response = render(request, "registration/rate_limited.html", {"wait": window.retry_after}, status=429)
            response["Retry-After"] = str(window.retry_after)
            add_never_cache_headers(response)
            return response
        response = view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            try:
                count(key, settings.LOGIN_RATE)
            except CACHE_UNREACHABLE:
                logger.exception("Failed log-in not counted: the cache cannot be reached")
        return response

    return login_not_required(limited)
