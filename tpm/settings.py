"""TPM settings. Everything that differs between machines comes from the environment.

DATABASE_URL / REDIS_URL unset means the embedded PostgreSQL and Redis (tpm.embedded).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dj_database_url
from celery.schedules import crontab

from tpm import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def redis_db_url(url: str, db: int) -> str:
    """The same Redis server as ``url`` but database number ``db`` (query param or path)."""
    parts = urlsplit(url)
    if parts.scheme in {"unix", "redis+socket"}:
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def celery_broker_url(url: str) -> str:
    """Kombu spells a unix-socket Redis ``redis+socket://path?virtual_host=N``."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        db = query.pop("db", "0")
        query["virtual_host"] = db
        return f"redis+socket://{parts.path}?{urlencode(query)}"
    return url


TESTING = "pytest" in sys.modules or os.environ.get("TPM_TESTING") == "1"
DEBUG = env_bool("DEBUG", default=False)

STATE_DIR = embedded.data_dir(BASE_DIR)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the state folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    keyfile = STATE_DIR / "secret_key"
    if not keyfile.exists():
        keyfile.write_text(secrets.token_urlsafe(50))
        keyfile.chmod(0o600)
    return keyfile.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
if TESTING:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

DATABASE_URL = os.environ.get("DATABASE_URL") or embedded.postgres_url(STATE_DIR)
REDIS_URL = os.environ.get("REDIS_URL") or embedded.redis_url(STATE_DIR)
EMBEDDED_DATABASE = not os.environ.get("DATABASE_URL")
EMBEDDED_REDIS = not os.environ.get("REDIS_URL")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "rules.apps.AutodiscoverRulesConfig",
    "csp",
    "axes",
    "tpm",
    "projects",
    "sprints",
    "risks",
    "portfolio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
    "tpm.middleware.HtmxMessagesMiddleware",
]

ROOT_URLCONF = "tpm.urls"
WSGI_APPLICATION = "tpm.wsgi.application"
ASGI_APPLICATION = "tpm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
            "builtins": ["template_partials.templatetags.partials"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if TESTING:
    # One test database per run, so parallel runs (two terminals, CI beside a developer) never
    # drop each other's tables.
    DATABASES["default"]["TEST"] = {"NAME": f"test_tpm_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_db_url(REDIS_URL, 1),
        # Test runs get their own keys and queue, so a `make run` next to them never mixes in.
        "KEY_PREFIX": f"tpm-test-{os.getpid()}" if TESTING else "tpm",
    }
}

AUTH_USER_MODEL = "tpm.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # locks out password guessing, first on purpose
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Brute-force protection for the login page and the token endpoint (django-axes).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Only the peer address: a client-set X-Forwarded-For must not reset the lockout.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = STATE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# Email: EMAIL_URL like smtp://user:pass@host:587?tls=1, console:// (default) or locmem://.
_email = urlsplit(os.environ.get("EMAIL_URL", "console://"))
EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}.get(_email.scheme, "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = _email.hostname or "localhost"
EMAIL_PORT = _email.port or 25
EMAIL_HOST_USER = _email.username or ""
EMAIL_HOST_PASSWORD = _email.password or ""
EMAIL_USE_TLS = dict(parse_qsl(_email.query)).get("tls") in {"1", "true"}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "TPM <tpm@localhost>")

# --- Security ------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not TESTING)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not TESTING)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- REST framework -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tpm.api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "tpm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tpm.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token-create": "20/min"},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "TPM API",
    "DESCRIPTION": "Technical project management: projects, members, work, risks, budgets, health.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ProjectRoleEnum": "projects.models.Membership.Role",
        "RiskCategoryEnum": "risks.models.Risk.Category",
        "StatusCategoryEnum": "sprints.models.Status.Category",
        "RiskLevelEnum": "risks.api.serializers.LEVEL_CHOICES",
    },
}

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = celery_broker_url(redis_db_url(REDIS_URL, 0))
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE") or (
    f"tpm-test-{os.getpid()}" if TESTING else "tpm"
)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "reconcile-stale-metrics": {
        "task": "tpm.reconcile_stale_metrics",
        "schedule": 60.0,
    },
    # A project's day starts at its own midnight: refresh active burndowns every hour.
    "refresh-burndowns-hourly": {
        "task": "sprints.refresh_all",
        "schedule": crontab(minute=5),
        "args": ("sprint_burndown",),
    },
    "refresh-flow-nightly": {
        "task": "sprints.refresh_all",
        "schedule": crontab(hour=0, minute=20),
        "args": ("project_flow",),
    },
    # Nightly per project: each project's risks are rescored just after its own midnight
    # (reviews and linked items become overdue with the date, not with a change).
    "refresh-risks-nightly": {
        "task": "risks.refresh_at_midnight",
        "schedule": crontab(minute=10),
    },
}
# How long a change may sit unprocessed before reconcile re-dispatches it.
TPM_STALE_AFTER_SECONDS = int(os.environ.get("TPM_STALE_AFTER_SECONDS", "120"))
TPM_COALESCE_COUNTDOWN = float(os.environ.get("TPM_COALESCE_COUNTDOWN", "2"))


# Event times from the statement clock, so several changes in one transaction keep their order.
PGHISTORY_CREATED_AT_FUNCTION = "clock_timestamp()"
# Reads need no actor context; attaching it would load the session user on every GET.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
