"""Development on one machine: `make run` exports the TIANJIE_* variables (scripts/tj.sh)."""

from .base import *

DEBUG = env_bool("TIANJIE_DEBUG", True)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Demo only: with no SMS gateway here, one-time codes go to the user's in-app inbox and to the demo's phone
# (DATA_DIR/demo-phone.txt, for the phone login, where the farmer has no inbox yet); the log never has them.
TIANJIE_OTP_SENDERS = [
    "accounts.messaging.LogSender",
    "accounts.messaging.InboxSender",
    "accounts.messaging.DemoPhoneSender",
]
