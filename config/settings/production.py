"""Production (deploy/): every secret and host from the environment; passes `manage.py check --deploy`."""

from .base import *

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("TIANJIE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env("TIANJIE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [o for o in env("TIANJIE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
X_FRAME_OPTIONS = "DENY"
STATIC_ROOT = Path(env("TIANJIE_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env("TIANJIE_MEDIA_ROOT", str(DATA_DIR / "media")))
# One-time codes by SMS (accounts.messaging.HttpSmsSender, TIANJIE_SMS_URL / TIANJIE_SMS_TOKEN); the deploy
# check refuses to start with none but a stand-in (accounts.checks).
TIANJIE_OTP_SENDERS = [s for s in env("TIANJIE_OTP_SENDERS", "accounts.messaging.HttpSmsSender").split(",") if s]
