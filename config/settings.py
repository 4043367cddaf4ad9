"""One settings module, driven by the environment.

Without DATABASE_URL / REDIS_URL the app runs on SQLite with Celery executing tasks
in-process, so `make run` needs nothing but Python.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- Production safety (SPEC §2 "Logins") ----------------------------------------------------
# DEBUG is off unless the environment turns it on (`make run` does). Without DEBUG the app
# refuses to start on a missing or publicly known key instead of signing sessions with it.
DEBUG = env_bool("DEBUG", False)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
PUBLIC_SECRET_KEYS = {DEV_SECRET_KEY, "change-me-before-going-live"}
# Commands that only build or inspect code sign nothing that outlives them: they run without a
# key (a throwaway one), so a release build or `makemigrations --check` needs no secret.
KEYLESS_COMMANDS = {"makemigrations", "makemessages", "compilemessages", "collectstatic"}
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or (DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY and sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS:
    SECRET_KEY = secrets.token_urlsafe(50)
if not DEBUG and SECRET_KEY in PUBLIC_SECRET_KEYS | {""}:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set (or is a publicly known placeholder) and DEBUG is off. "
        "Set SECRET_KEY to a long random value in production, e.g. "
        "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or set DEBUG=1 for local development."
    )
# Connection secrets (integrations) are encrypted at rest with SECRETS_KEY: one or more Fernet
# keys (urlsafe base64 of 32 bytes), comma-separated, the first encrypting and every one
# decrypting, so a key is rotated by putting the new one first and running `rotate_secrets`.
# Development and build commands derive a key from SECRET_KEY (and say so); serving without
# DEBUG refuses to start without one, as it does without SECRET_KEY.
SECRETS_KEYS = [k.strip() for k in os.environ.get("SECRETS_KEY", "").split(",") if k.strip()]
SECRETS_KEY_DERIVED = not SECRETS_KEYS
if SECRETS_KEY_DERIVED:
    if not DEBUG and not (sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS):
        raise ImproperlyConfigured(
            "SECRETS_KEY is not set and DEBUG is off: connection secrets cannot be stored "
            "safely. Set SECRETS_KEY to a Fernet key, e.g. SECRETS_KEY=$(python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'), "
            "or set DEBUG=1 for local development."
        )
    import base64
    import hashlib

    SECRETS_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(b"targetpilot-secrets:" + SECRET_KEY.encode()).digest()
        ).decode()
    ]
# --- end production safety -----------------------------------------------------------------
ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "simple_history",
    "targets",
    "reviews",
    "alerts",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Audit (issue 6 §7): history rows record the user of the request that wrote them.
    "simple_history.middleware.HistoryRequestMiddleware",
    "targets.middleware.UserLanguageMiddleware",
    "targets.middleware.RejectNulCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a locked-out login into the lockout page (see "Logins" below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # Data freshness of the integrations for the dashboards' header (lazy).
                "integrations.freshness.freshness_context",
                # The header's link to the setup checklist while it is incomplete (admins).
                "integrations.onboarding.setup_context",
            ],
        },
    },
]

# --- Database connections ----------------------------------------------------------------------
# The dev server runs each request in its own thread, and a persistent connection stays with
# its (dead) thread: a burst of requests would hold dozens of idle PostgreSQL connections.
RUNNING_DEV_SERVER = "runserver" in sys.argv[1:2]
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0 if RUNNING_DEV_SERVER else int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers on the embedded database: WAL lets readers run beside a writer,
    # IMMEDIATE takes the write lock when a transaction starts (so two writers queue instead of
    # failing with "database is locked" on upgrade), and the timeout is how long one waits.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests of concurrent requests need a database that several connections share: a file
    # (an in-memory one shared between threads fails with "table is locked", not like prod).
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}
# --- end database connections ------------------------------------------------------------------
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "targets.User"
# The credit index carries extra columns for PostgreSQL's index-only scans; SQLite ignores them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# --- Logins (SPEC §2): lock a username after 10 failures in 15 minutes; throttle tokens ----------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
# Attempts while locked do not extend the lock: it ends 15 minutes after the 10th failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# axes warns that a username-only lock ignores the address: SPEC §2 locks the username (a
# guessing attack spread over addresses still stops), and the token throttle is per address.
SILENCED_SYSTEM_CHECKS.append("axes.W006")
# Per client address, in the cache (Redis with REDIS_URL, else this process's memory).
TOKEN_THROTTLE_RATE = os.environ.get("TOKEN_THROTTLE_RATE", "20/min")
# --- end logins ----------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Imports (integrations): files up to this size are accepted and streamed, never read whole;
# larger ones get a 400 naming the limit. Uploads above FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
# already go to a temporary file, not memory.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
# The quarter target grid posts 8 fields per unit and rep: a 1,000-person company is ~8,000.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000

# zh-hans first: the reference customers are Chinese companies.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (proposal attachments): never served from MEDIA_URL, only through views that check
# who may see them.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    # Token first: an anonymous API call then answers 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "targets.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "targets.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "targets.api.schema.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "targets.api.errors.exception_handler",
}
# Logins block above: the token endpoint's own scope (targets/api/auth.py).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"auth-token": TOKEN_THROTTLE_RATE}
SPECTACULAR_SETTINGS = {
    "TITLE": "TargetPilot API",
    "DESCRIPTION": "Quarterly sales targets, actuals and figures (API v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One document for every caller, in English: names must not follow the caller's language.
    "DEFAULT_GENERATOR_CLASS": "targets.api.schema.SchemaGenerator",
    # Tags and operation ids from the resource (`targets`, `targets_list`), not `v1`.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Stable names for choice sets shared by bodies and query parameters.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "targets.api.serializers.STATUS_CHOICES",
        "GrainEnum": "targets.api.serializers.GRAIN_VALUES",
        "MeasureEnum": "targets.models.Measure",
        "DealSourceEnum": "targets.models.DealSource",
        "KindEnum": "targets.models.UnitKind",
        "RoleEnum": "targets.models.Role",
        "ConnectionKindEnum": "integrations.models.ConnectionKind",
        "RunKindEnum": "integrations.models.RunKind",
        "SyncSourceEnum": "integrations.models.SYNC_SOURCES",
    },
    # Served from our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "targets.api.schema.share_query_enums",
        "targets.api.schema.describe_token_auth",
        "targets.api.schema.add_error_responses",
    ],
}

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Without a broker the work runs in the web process, so `make run` needs no Redis.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Statuses (and the alerts they raise) change as days pass, not only when deals change.
# Beat copies this into the database, where admins can edit it.
CELERY_BEAT_SCHEDULE = {
    # Every hour at :05, so the first pass of a new day (pace moves with the calendar) runs
    # at 00:05; confirmations and revisions add a debounced recompute of their own.
    "recompute-figures": {
        "task": "targets.tasks.recompute_figures",
        "schedule": crontab(minute=5),
    },
    "evaluate-data-stale": {"task": "alerts.tasks.evaluate_data_stale", "schedule": 15 * 60},
    # 08:00 company time: yesterday's notices, one message per user who chose a digest.
    "send-digests": {
        "task": "alerts.tasks.send_digests",
        "schedule": crontab(minute=0, hour=8),
    },
    # Monday 06:00 company time: the week just ended is complete (SPEC §6).
    "evaluate-deviations": {
        "task": "reviews.tasks.evaluate_deviations",
        "schedule": crontab(minute=0, hour=6, day_of_week=1),
    },
    # DingTalk approvals whose callback never came (integrations/dingtalk/approvals.py).
    "dingtalk-approvals-poll": {
        "task": "integrations.dingtalk.approvals_poll",
        "schedule": 10 * 60,
    },
}

# Alert e-mails (alerts/channels.py). Without EMAIL_HOST they go to the console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "TargetPilot <noreply@localhost>")
# Channels beyond e-mail, by dotted path (alerts/channels.py), e.g. DingTalk:
# {"dingtalk_notice": {"label": "DingTalk", "deliver": "integrations.dingtalk.channels.deliver_work_notice"}}
ALERT_CHANNELS: dict[str, dict[str, str]] = {}
# Links in e-mails point here (no request to take the host from).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Syncs (integrations/): one run per connection holds a lease renewed with every committed
# batch; a run whose worker died stops renewing it and the next run takes over after this.
SYNC_LEASE_SECONDS = int(os.environ.get("SYNC_LEASE_SECONDS", "600"))
# A run is stopped (cleanly, at what is committed) after the soft limit, killed after the
# hard one; the broker's visibility timeout is longer, so a running task is not redelivered.
SYNC_SOFT_TIME_LIMIT = int(os.environ.get("SYNC_SOFT_TIME_LIMIT", str(25 * 60)))
SYNC_TIME_LIMIT = SYNC_SOFT_TIME_LIMIT + 5 * 60
# A message delivered this many times without finishing is given up (a redelivery loop).
SYNC_MAX_ATTEMPTS = int(os.environ.get("SYNC_MAX_ATTEMPTS", "3"))
# Retries of a remote call on network errors, 5xx and 429: bounded, exponential, jittered.
SYNC_MAX_RETRIES = int(os.environ.get("SYNC_MAX_RETRIES", "5"))
SYNC_BACKOFF_BASE_SECONDS = float(os.environ.get("SYNC_BACKOFF_BASE_SECONDS", "1"))
SYNC_BACKOFF_MAX_SECONDS = float(os.environ.get("SYNC_BACKOFF_MAX_SECONDS", "30"))
SYNC_RETRY_AFTER_MAX_SECONDS = float(os.environ.get("SYNC_RETRY_AFTER_MAX_SECONDS", "120"))
# Multiplies every real sleep of a retry (tests shrink it; the waits asked for are logged).
SYNC_SLEEP_SCALE = float(os.environ.get("SYNC_SLEEP_SCALE", "1"))
SYNC_HTTP_TIMEOUT_SECONDS = float(os.environ.get("SYNC_HTTP_TIMEOUT_SECONDS", "60"))
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * SYNC_TIME_LIMIT}
