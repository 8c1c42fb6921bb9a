"""One settings module, configured by the environment only.

BANGFU_ENV (development | production), SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, BANGFU_DATA_KEY,
EMAIL_*, BANGFU_SITE_URL, BANGFU_VAR_DIR, REDIS_URL and the others listed in docs/deploy.md.
SQLite in var/ is the default; PostgreSQL when DATABASE_URL is set.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("BANGFU_VAR_DIR", PACKAGE_DIR.parent.parent / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

BANGFU_ENV = os.environ.get("BANGFU_ENV", "development")
if BANGFU_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"BANGFU_ENV must be 'development' or 'production', not {BANGFU_ENV!r}")
PRODUCTION = BANGFU_ENV == "production"


def _secret(env_name: str, file_name: str, make: "callable[[], str]") -> str:  # type: ignore[valid-type]
    """A secret from the environment; in development one is made once and kept in var/."""
    value = os.environ.get(env_name, "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{env_name} must be set when BANGFU_ENV=production")
    path = VAR_DIR / file_name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode()


SECRET_KEY = _secret("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Key(s) for sensitive fields such as ID numbers: comma-separated Fernet keys, newest first (rotation).
DATA_KEYS = [k.strip() for k in _secret("BANGFU_DATA_KEY", "data_key", _fernet_key).split(",") if k.strip()]

DEBUG = not PRODUCTION and os.environ.get("DEBUG", "1") == "1"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    if PRODUCTION:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when BANGFU_ENV=production")
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the default widget templates, for FORM_RENDERER below
    "simple_history",
    "axes",
    "django_htmx",
    "template_partials",
    "bangfu.organisation",
    "bangfu.audit",
    "bangfu.students",
    "bangfu.assistance",
    "bangfu.api",
    "bangfu.notifications",
    "bangfu.opportunities",
    "bangfu.outcomes",
    "bangfu.subsidies",
    "bangfu.tracks",
    "bangfu.imports",
    "bangfu.showcase",
    "bangfu.reports",
    "bangfu.portal",
    "bangfu.operations",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves the API docs page's Swagger UI from static files instead of a CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "bangfu.resilience.DatabaseUnavailableMiddleware",  # a 503 page while the database is away
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bangfu.organisation.middleware.UserLanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bangfu.urls"
WSGI_APPLICATION = "bangfu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "bangfu.organisation.context_processors.navigation",
            ],
        },
    }
]

# Widgets are drawn with the project's templates, but Django's own select, input and radio/checkbox templates are
# written in Python (`bangfu.widgets`: a school's list of classes is 1,100 options).
FORM_RENDERER = "bangfu.widgets.FormRenderer"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Planner settings for the app's own sessions (docs/benchmarks.md); a URL that sets `options=-c name=…`
        # itself keeps its choice. JIT compiles every large aggregate of a board again at each request, which
        # costs seconds at province scale and saves nothing on queries that take milliseconds. A random page
        # read is priced as on solid-state storage (PostgreSQL's default, 4, is for spinning disks): otherwise
        # a school's placement figures hash all the province's destinations instead of looking up the school's.
        # A row read is priced at three times the default: with the tables in memory, reading every row is what
        # costs, and at 0.01 a department's ledger hashed all 200,000 open entries of the province instead of
        # looking up its 8,700 students' (65–110 → 26–28 ms), the placement page's conversions likewise.
        for _name, _value in (("jit", "off"), ("random_page_cost", "1.1"), ("cpu_tuple_cost", "0.03")):
            if f"{_name}=" not in _options.get("options", ""):
                _options["options"] = f"{_options.get('options', '')} -c {_name}={_value}".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "bangfu.sqlite3",
            "OPTIONS": {
                # WAL lets readers run beside a writer; IMMEDIATE takes the write lock at BEGIN so two
                # writers queue on the busy timeout instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organisation.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "bangfu.organisation.ratelimit.client_ip"
# Proxies in front of the app that append to X-Forwarded-For (1 behind nginx): who the client is, for the limits.
NUM_PROXIES = int(os.environ.get("BANGFU_NUM_PROXIES", "0"))
# Failed log-ins per client address (password spraying); axes locks a single username after AXES_FAILURE_LIMIT.
LOGIN_RATE = os.environ.get("BANGFU_LOGIN_RATE", "20/min")

# Sessions end after two hours without a request.
SESSION_COOKIE_AGE = 2 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION and os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The load balancer may probe the app processes directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Only our own files run or style the page: no inline script or style (htmx's are switched off in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Production serves the hashed, compressed copies `bangfu collectstatic` writes to STATIC_ROOT (WhiteNoise).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "bangfu.staticfiles.HashedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded evidence is served only through views that check access, never by URL alone.
MEDIA_URL = "/files/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
EVIDENCE_MAX_BYTES = int(os.environ.get("BANGFU_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024))
IMPORT_MAX_BYTES = int(os.environ.get("BANGFU_IMPORT_MAX_BYTES", 20 * 1024 * 1024))  # spreadsheet imports

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "bangfu@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Background jobs: the Django Tasks API (django-tasks backport) with the database backend (django-tasks-db);
# `bangfu db_worker` runs them and `bangfu run_daily` (from cron or a systemd timer) enqueues the daily job.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# The address that links in reminder e-mails point to.
SITE_URL = os.environ.get("BANGFU_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# A shared cache (Redis when REDIS_URL is set, as in production with several app processes) holds the rate-limit
# counters; one process in development keeps them in memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is down must not hold requests: the rate limits give up after a second.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# API calls per user, and per address without credentials (a 429 past them).
API_THROTTLE_RATES = {
    "user": os.environ.get("BANGFU_API_RATE_USER", "600/min"),
    "anon": os.environ.get("BANGFU_API_RATE_ANON", "60/min"),
}

# Data retention: graduates whose follow-up period ended more than this many years ago are anonymised by
# `bangfu anonymise_expired`; access-log rows older than this many days are deleted by the daily job (at least 183).
RETENTION_YEARS = int(os.environ.get("BANGFU_RETENTION_YEARS", "5"))
ACCESS_LOG_RETENTION_DAYS = max(183, int(os.environ.get("BANGFU_ACCESS_LOG_RETENTION_DAYS", "365")))

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
NINJA_PAGINATION_PER_PAGE = 50
