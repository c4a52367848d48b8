"""Benchmark settings: production-like (DEBUG off) plus the floor views' URLs."""

from tpm.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token-create": "100000/min"}}  # noqa: F405
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}

# A database of its own, so the benchmark's rows never mix with the demo or the tests.
DATABASES = {"default": {**DATABASES["default"], "NAME": "tpm_bench", "CONN_MAX_AGE": 600}}  # noqa: F405
