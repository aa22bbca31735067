from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from progression.tasks import sessions_clear_expired_task
from tests.workers import wait_until


def _session(*, expires_in: timedelta) -> str:
    store = SessionStore()
    store["k"] = "v"
    store.create()
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return store.session_key


@pytest.mark.django_db
def test_sessions_clear_expired_task_twice_deletes_once():
    expired = _session(expires_in=timedelta(minutes=-1))
    live = _session(expires_in=timedelta(days=1))

    first = sessions_clear_expired_task.delay().get()
    second = sessions_clear_expired_task.delay().get()

    assert (first, second) == (1, 0)
    assert list(Session.objects.values_list("pk", flat=True)) == [live]
    assert expired != live


@pytest.mark.worker
def test_sessions_clear_expired_task_runs_in_real_worker(celery_worker):
    expired = _session(expires_in=timedelta(minutes=-1))
    live = _session(expires_in=timedelta(days=1))

    sessions_clear_expired_task.delay()

    wait_until(lambda: not Session.objects.filter(pk=expired).exists())
    assert Session.objects.filter(pk=live).exists() is True
