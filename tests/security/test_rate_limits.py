"""Rate limits: failed log-ins per client address (password spraying) and API calls per user and per address,
counted in the shared cache so that every app process sees the same count."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.core.cache.backends.redis import RedisCache
from django.test import Client, RequestFactory

from bangfu.api.throttling import UserThrottle
from bangfu.organisation.ratelimit import client_ip, count, parse_rate
from bangfu.organisation.services import create_api_token
from tests.api.conftest import API
from tests.conftest import PASSWORD, World, login
from tests.security.conftest import free_port

# The start of a minute, frozen: every request of a test falls in the same one-minute window.
MONDAY = dt.datetime(2024, 3, 18, 8, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SPRAYER = "203.0.113.7"
CAMPUS = "198.51.100.20"


def _log_in(address: str, username: str, password: str, **headers: str) -> object:
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}, headers=headers
    )


def test_parse_rate_reads_count_and_unit() -> None:
    assert parse_rate("20/min") == (20, 60)
    assert parse_rate("600/m") == (600, 60)
    assert parse_rate("5/hour") == (5, 3600)
    with pytest.raises(ValueError, match="count/unit"):
        parse_rate("20/minute")


def test_password_spraying_from_one_address_is_refused_with_429(world: World, settings, own_cache) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_RATE = "2/min"
    with time_machine.travel(MONDAY, tick=False) as clock:
        # Wrong passwords, each for another user: under axes' per-username lockout, but spraying.
        for username in ("office", "leader"):
            response = _log_in(SPRAYER, username, "123456qwerty")
            assert response.status_code == 200
            assert "Please enter a correct" in response.content.decode()

        refused = _log_in(SPRAYER, "helper", PASSWORD)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "60"
        assert "no-cache" in refused["Cache-Control"]
        page = refused.content.decode()
        assert "Too many failed log-ins from your network. Wait 60 seconds, then try again." in page
        assert 'data-testid="rate-limited"' in page
        # Refused before authenticating: the right password did not log in, and reading the form is still allowed.
        assert "_auth_user_id" not in refused.client.session
        assert Client(REMOTE_ADDR=SPRAYER).get("/accounts/login/").status_code == 200

        # Another address is not affected.
        assert _log_in(CAMPUS, "helper", PASSWORD).status_code == 302

        # The next minute, the address may try again.
        clock.shift(dt.timedelta(seconds=60))
        assert _log_in(SPRAYER, "helper", PASSWORD).status_code == 302


def test_successful_log_ins_behind_one_campus_address_are_not_counted(world: World, settings, own_cache) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_RATE = "2/min"
    with time_machine.travel(MONDAY, tick=False):
        for username in ("office", "leader", "helper"):
            response = _log_in(CAMPUS, username, PASSWORD)
            assert response.status_code == 302, username


def test_behind_the_proxy_the_limit_follows_the_address_nginx_saw(world: World, settings, own_cache) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_RATE = "1/min"
    settings.NUM_PROXIES = 1
    with time_machine.travel(MONDAY, tick=False):
        # nginx appends the address it saw; whatever the client put before it is forged and changes nothing.
        assert _log_in("127.0.0.1", "office", "wrong", x_forwarded_for=f"10.0.0.1, {SPRAYER}").status_code == 200
        assert _log_in("127.0.0.1", "office", PASSWORD, x_forwarded_for=f"10.0.0.2, {SPRAYER}").status_code == 429
        # Another client behind the same proxy logs in.
        assert _log_in("127.0.0.1", "office", PASSWORD, x_forwarded_for=CAMPUS).status_code == 302


def test_client_ip_trusts_only_the_configured_proxies(settings) -> None:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    settings.NUM_PROXIES = 0
    assert client_ip(request) == "127.0.0.1"
    settings.NUM_PROXIES = 1
    assert client_ip(request) == "203.0.113.7"
    settings.NUM_PROXIES = 2
    assert client_ip(request) == "1.2.3.4"
    settings.NUM_PROXIES = 1
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="192.0.2.1")) == "192.0.2.1"


def test_api_calls_past_the_user_rate_answer_429_in_the_error_shape(world: World, settings, own_cache) -> None:  # type: ignore[no-untyped-def]
    settings.API_THROTTLE_RATES = {"user": "3/min", "anon": "100/min"}
    token = create_api_token(user=world.helper, name="手机客户端")
    browser = login(Client(), world.helper)
    bearer = Client()
    with time_machine.travel(MONDAY, tick=False):
        # The session and the token are the same user: one count.
        assert browser.get(f"{API}/students").status_code == 200
        assert browser.get(f"{API}/students").status_code == 200
        assert bearer.get(f"{API}/students", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        response = bearer.get(f"{API}/students", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 429
        assert response.json() == {
            "detail": "Too many requests. Wait a moment, then try again.",
            "errors": {},
            "code": "throttled",
        }
        assert response["Retry-After"] == "60"
        assert browser.get(f"{API}/students").status_code == 429
        # Someone else's calls are their own.
        assert login(Client(), world.leader).get(f"{API}/students").status_code == 200


def test_calls_without_credentials_are_throttled_per_address(world: World, settings, own_cache) -> None:  # type: ignore[no-untyped-def]
    settings.API_THROTTLE_RATES = {"user": "100/min", "anon": "2/min"}
    guesser = Client(REMOTE_ADDR=SPRAYER)
    with time_machine.travel(MONDAY, tick=False):
        for guess in ("bf_aaaa", "bf_bbbb"):
            assert guesser.get(f"{API}/students", headers={"Authorization": f"Bearer {guess}"}).status_code == 401
        response = guesser.get(f"{API}/students", headers={"Authorization": "Bearer bf_cccc"})
        assert response.status_code == 429
        assert response.json()["code"] == "throttled"
        assert int(response["Retry-After"]) > 0
        assert Client(REMOTE_ADDR=CAMPUS).get(f"{API}/students").status_code == 401


def test_two_processes_share_the_counters_in_redis(world: World, settings, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    """Two app processes are two Redis clients: a count made through one is seen through the other."""
    settings.API_THROTTLE_RATES = {"user": "2/min"}
    first, second = (RedisCache(redis_url, {}) for _ in range(2))
    first.clear()  # FLUSHDB on db 15 only
    try:
        with time_machine.travel(MONDAY, tick=False):
            assert [count(f"login:{SPRAYER}", "3/min", cache=c).count for c in (first, second, first)] == [1, 2, 3]
            assert count(f"login:{SPRAYER}", "3/min", cache=second).exceeded

            throttles = [UserThrottle(), UserThrottle()]
            throttles[0].cache, throttles[1].cache = first, second
            request = RequestFactory().get(f"{API}/students")
            request.auth = world.helper  # type: ignore[attr-defined]
            assert [throttles[i % 2].allow_request(request) for i in range(3)] == [True, True, False]
        # One login window and one user's call history, both in db 15.
        assert redis.Redis.from_url(redis_url).dbsize() == 2
    finally:
        first.clear()


def test_while_redis_is_down_log_ins_and_the_api_still_work(world: World, settings, caplog) -> None:  # type: ignore[no-untyped-def]
    """The limits are a guard, not a gate: a cache that cannot be reached is logged, and the request goes on."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/15",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.LOGIN_RATE = "1/min"
    settings.API_THROTTLE_RATES = {"user": "1/min", "anon": "1/min"}
    assert _log_in(SPRAYER, "helper", "wrong-password").status_code == 200
    assert _log_in(SPRAYER, "helper", PASSWORD).status_code == 302
    client = login(Client(), world.helper)
    assert [client.get(f"{API}/students").status_code for _ in range(2)] == [200, 200]
    assert "Log-in rate limit not applied: the cache cannot be reached" in caplog.text
    assert "API rate limit not applied: the cache cannot be reached" in caplog.text
