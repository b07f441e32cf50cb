"""The test suite: the real private PostGIS and Redis started by `make test`."""

import base64
import os

os.environ.setdefault("TIANJIE_SECRET_KEY", "test-only-not-secret")
# Each test run makes its own key: test data is created fresh and never outlives the run.
os.environ.setdefault("TIANJIE_FIELD_KEY", base64.b64encode(os.urandom(32)).decode())
os.environ.setdefault("TIANJIE_PKI_KEY", base64.b64encode(os.urandom(32)).decode())

from .base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests only
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Under pytest-xdist (`make test` runs on both cores) each worker has its own test database (pytest-django
# names it after the worker), its own Redis database for the cache and the Celery broker (a worker started by
# a test must not take another process's job), and its own files.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … or "" without xdist
_REDIS_DB = 1 + (int(_WORKER[2:]) + 1 if _WORKER.startswith("gw") else 0)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL.rsplit("/", 1)[0] + f"/{_REDIS_DB}",
        "KEY_PREFIX": "test",
    }
}
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL.rsplit("/", 1)[0] + f"/{_REDIS_DB}"
_FILES = DATA_DIR / (f"test-{_WORKER}" if _WORKER else "test")
MEDIA_ROOT = _FILES / "media"
TIANJIE_NRB_EXPORT_DIR = _FILES / "nrb-export"
IMAGERY_ROOT = _FILES / "imagery"
# The browser tests' live-server threads must not keep connections open, or the test database cannot be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0

# With no SMS gateway here, one-time codes go to the user's in-app inbox; and tests keep what the senders sent
# in memory (accounts.messaging.OUTBOX), to check who was told what.
TIANJIE_NOTIFY_SENDERS = ["accounts.messaging.LogSender", "accounts.messaging.OutboxSender"]
TIANJIE_OTP_SENDERS = [
    "accounts.messaging.LogSender",
    "accounts.messaging.InboxSender",
    "accounts.messaging.OutboxSender",
]
