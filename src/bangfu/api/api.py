"""The API under /api/v1/: one NinjaAPI with a router per domain, the same services and scoping as the pages."""

from ninja import NinjaAPI
from ninja.operation import Operation

from bangfu.api import (
    activities,
    assistance,
    ledger,
    opportunities,
    outcomes,
    plans,
    progress,
    showcase,
    students,
    subsidies,
    tracks,
)
from bangfu.api.auth import BearerTokenAuth, SessionCookieAuth
from bangfu.api.errors import register_error_handlers
from bangfu.api.throttling import AnonThrottle, UserThrottle


class BangfuAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # View names are unique across the routers ("students_list", "ledger_join"): short, stable ids.
        return operation.view_func.__name__


api = BangfuAPI(
    title="Bangfu API",
    version="1",
    description=(
        "Students, the disadvantaged-student ledger, one-on-one helpers, plans, the work ledger and progress; "
        "employers, positions, recommendations, internships, destinations and placement figures. "
        "Authenticate with the session cookie (send the CSRF token with writes) or with "
        "`Authorization: Bearer <token>` (made by `bangfu create_token USERNAME`). "
        "Every id is an opaque UUID. Errors answer `{detail, errors: {field: [messages]}, code}`. "
        "Calls are rate-limited per user (and per address without credentials): past the limit the answer is "
        '429 with `code` "throttled" and a Retry-After header.'
    ),
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionCookieAuth()],
    # Rates from settings.API_THROTTLE_RATES; a throttled call answers 429 in the usual error shape.
    throttle=[AnonThrottle(), UserThrottle()],
)
register_error_handlers(api)
api.add_router("/", students.router)
api.add_router("/", ledger.router)
api.add_router("/", assistance.router)
api.add_router("/", plans.router)
api.add_router("/", activities.router)
api.add_router("/", progress.router)
api.add_router("/", opportunities.router)
api.add_router("/", outcomes.router)
api.add_router("/", tracks.router)
api.add_router("/", subsidies.router)
api.add_router("/", showcase.router)
