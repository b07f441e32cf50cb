"""Development on one machine: `make run` exports the TIANJIE_* variables (scripts/tj.sh)."""

from .base import *

DEBUG = env_bool("TIANJIE_DEBUG", True)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Demo and tests only: with no SMS gateway here, one-time codes also go to the user's in-app inbox.
TIANJIE_OTP_SENDERS = ["accounts.messaging.LogSender", "accounts.messaging.InboxSender"]
