"""The Celery app; tasks live in each app's tasks.py and call services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")  # make run sets local
app = Celery("tianjie")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
