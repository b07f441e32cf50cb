"""Development on one machine: `make run` exports the TIANJIE_* variables (scripts/tj.sh)."""

from .base import *

DEBUG = env_bool("TIANJIE_DEBUG", True)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
