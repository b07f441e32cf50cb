"""Settings shared by every environment; everything that differs comes from TIANJIE_* variables."""

import os
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


# internal (the registry, government network) or portal (farmers, internet): ARCHITECTURE.md "Two zones".
TIANJIE_ZONE = env("TIANJIE_ZONE", "internal")
if TIANJIE_ZONE not in {"internal", "portal"}:
    raise ImproperlyConfigured("TIANJIE_ZONE must be 'internal' or 'portal'")

SECRET_KEY = env("TIANJIE_SECRET_KEY")
# Key for personal data encrypted at rest (ID numbers): 32 bytes, base64. Never in the repository.
TIANJIE_FIELD_KEY = env("TIANJIE_FIELD_KEY")
# Encrypts the platform CA's and the signers' private keys at rest (32 bytes, base64); never in the repository.
TIANJIE_PKI_KEY = env("TIANJIE_PKI_KEY")
DEBUG = False
ALLOWED_HOSTS = [h for h in env("TIANJIE_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]
DATA_DIR = Path(env("TIANJIE_DATA", str(BASE_DIR / ".tianjie")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "audit",
    "spatial",
    "accounts",
    "contracts",
    "exchange",
    "nrb",
    "imagery",
    "publicity",
    "surveys",
    "approvals",
    "frontend_map",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": env("TIANJIE_DB_NAME", "tianjie"),
        "USER": env("TIANJIE_DB_USER", "postgres"),
        "PASSWORD": env("TIANJIE_DB_PASSWORD", ""),
        "HOST": env("TIANJIE_DB_HOST", "127.0.0.1"),
        "PORT": env("TIANJIE_DB_PORT", "55432"),
        # Persistent connections: the first ST_Transform in a backend costs ~60 ms (STACK.md pitfall 2).
        "CONN_MAX_AGE": int(env("TIANJIE_DB_CONN_MAX_AGE", "600")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"options": "-c max_parallel_workers_per_gather=0"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("TIANJIE_REDIS_URL", "redis://127.0.0.1:56379/0")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    # A broken audit chain must be noticed the next morning, not at the next inspection.
    "audit-verify-nightly": {"task": "audit.verify_chain", "schedule": 24 * 3600},
    # Notices whose period ended yesterday are closed (or marked waiting for answers) early in the morning.
    "publicity-close-ended": {"task": "publicity.close_ended_notices", "schedule": crontab(hour=0, minute=30)},
    # Filed contracts are copied to the natural resources bureau's exchange folder (nrb.services).
    "exchange-export-filings": {"task": "exchange.export_filings", "schedule": crontab(minute="*/15")},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from npm (package.json) and are served as they are; there is no build step.
STATICFILES_DIRS = [
    ("vendor/leaflet", BASE_DIR / "node_modules" / "leaflet" / "dist"),
    ("vendor/leaflet.vectorgrid", BASE_DIR / "node_modules" / "leaflet.vectorgrid" / "dist"),
    ("vendor/proj4", BASE_DIR / "node_modules" / "proj4" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
# Where the periodic export leaves filed contracts for the natural resources bureau (a shared folder on the
# government network, or the gatekeeper's outbox).
TIANJIE_NRB_EXPORT_DIR = Path(env("TIANJIE_NRB_EXPORT_DIR", str(DATA_DIR / "nrb-export")))
IMAGERY_ROOT = Path(env("TIANJIE_IMAGERY_ROOT", str(DATA_DIR / "imagery")))  # the COGs, and MapProxy's caches
MEDIA_URL = "/media/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tianjie 田界 API",
    "DESCRIPTION": "农村土地承包合同网签备案平台接口 / Rural land contract signing and filing platform",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets from the drf-spectacular-sidecar package: the docs page works without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# GDAL 3.6 on Debian 12 cannot block file/network access; user-supplied SRS strings and paths never reach
# GDAL (uploads are mapped to an allow-list of EPSG codes), so this one check is silenced (STACK.md pitfall 3).
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("TIANJIE_LOG_LEVEL", "INFO")},
}

# Tiles: parcels are drawn from this zoom on; below it the layer shows group territories (sub-pixel parcels).
TIANJIE_PARCEL_MIN_ZOOM = 13
TIANJIE_TILE_MAX_AGE = int(env("TIANJIE_TILE_MAX_AGE", "300"))

# SMS/WeChat senders (accounts.messaging); the in-app list is always written. Only the logging one ships.
TIANJIE_NOTIFY_SENDERS = ["accounts.messaging.LogSender"]
# One-time codes (意愿认证): an SMS gateway's sender in production; logged here.
TIANJIE_OTP_SENDERS = ["accounts.messaging.LogSender"]
# The SMS gateway of accounts.messaging.HttpSmsSender (production): an https URL and its bearer token.
TIANJIE_SMS_URL = env("TIANJIE_SMS_URL", "")
TIANJIE_SMS_TOKEN = env("TIANJIE_SMS_TOKEN", "")
