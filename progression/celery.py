"""The Celery application: settings come from Django's, prefixed `CELERY_`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progression.settings")

app = Celery("progression")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule_add(entries: dict) -> None:
    """Merge an app's periodic tasks into the beat schedule; apps call it on load."""
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **entries}
