"""The sync tasks, the schedule, and one sync through a real Celery worker."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from directory.apps import BEAT_SCHEDULE
from directory.models import Directory, SyncRun
from directory.services import directory_create
from directory.sync import sync_start
from directory.sync.schedule import sync_due_claim
from directory.tasks import sync_directory_task, sync_due_task
from progression.celery import app as celery_app
from progression.models import User
from tests.directory.test_sync import (  # noqa: F401
    BambooHR,
    _sync_test_settings,
    directory_for,
)
from tests.peers.hris.fixtures import bamboohr_fake  # noqa: F401
from tests.workers import wait_until, worker_start, worker_stop


@pytest.fixture
def hr(bamboohr_fake):  # noqa: F811
    hr = BambooHR(bamboohr_fake)
    hr.hire(1, "Ada", "Lovelace")
    return hr


def test_beat_schedule_has_sync_due():
    assert (
        celery_app.conf.beat_schedule["directory-sync-due"]
        == (BEAT_SCHEDULE["directory-sync-due"])
    )


def test_sync_due_claim_takes_due_active_hr_directories_once(entitled, hr):
    now = timezone.now()
    due = directory_for(entitled, hr, name="due", next_sync_at=now)
    never = directory_for(entitled, hr, name="never synced", next_sync_at=None)
    directory_for(entitled, hr, name="later", next_sync_at=now + timedelta(minutes=5))
    directory_for(
        entitled, hr, name="off", next_sync_at=now, state=Directory.State.INACTIVE
    )
    directory_create(organization=entitled, provider="okta-scim-v2", actor="operator")

    claimed = sync_due_claim(now=now)

    assert sorted(claimed) == sorted([due.pk, never.pk])
    due.refresh_from_db()
    assert due.next_sync_at == now + timedelta(minutes=60)
    assert sync_due_claim(now=now) == []


def test_sync_due_task_runs_due_syncs_and_twice_runs_nothing_more(entitled, hr):
    directory = directory_for(entitled, hr, next_sync_at=timezone.now())

    first = sync_due_task()
    second = sync_due_task()

    assert (first, second) == (1, 0)
    (run,) = SyncRun.objects.filter(directory=directory)
    assert (run.trigger, run.state) == (
        SyncRun.Trigger.SCHEDULE,
        SyncRun.State.SUCCEEDED,
    )
    assert User.objects.filter(email="ada@acme.example").exists() is True


def test_sync_directory_task_finishes_an_open_run_once(entitled, hr):
    directory = directory_for(entitled, hr)
    run = sync_start(directory=directory, trigger=SyncRun.Trigger.MANUAL)

    first = sync_directory_task(directory.pk, "manual", run.pk)
    second = sync_directory_task(directory.pk, "manual", run.pk)

    assert (first, second) == (SyncRun.State.SUCCEEDED, None)
    assert SyncRun.objects.filter(directory=directory).count() == 1


def test_sync_directory_task_for_missing_directory_returns_quietly(db):
    assert sync_directory_task(987654) is None


def test_sync_start_stale_running_run_is_closed(entitled, hr):
    directory = directory_for(entitled, hr)
    stale = SyncRun.objects.create(directory=directory, trigger="schedule")
    SyncRun.objects.filter(pk=stale.pk).update(
        started_at=timezone.now() - timedelta(hours=2)
    )

    run = sync_start(directory=directory, trigger=SyncRun.Trigger.MANUAL)

    stale.refresh_from_db()
    assert run is not None
    assert (stale.state, stale.error_code) == (SyncRun.State.FAILED, "interrupted")


@pytest.fixture
def sync_worker(transactional_db):
    """A worker of its own queue that may reach the fakes on 127.0.0.1."""
    queue = f"sync-it-{os.getpid()}"
    process = worker_start(queue=queue, OUTBOUND_ALLOWED_HOSTS="127.0.0.1")
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = True
        worker_stop(process)


def test_sync_directory_task_in_a_real_worker(sync_worker, entitled, hr):
    directory = directory_for(entitled, hr)

    sync_directory_task.apply_async(args=[directory.pk, "manual"], queue=sync_worker)

    def done():
        return SyncRun.objects.filter(
            directory=directory, state=SyncRun.State.SUCCEEDED
        ).exists()

    wait_until(done, timeout=60)
    ada = User.objects.get(email="ada@acme.example")
    assert (ada.organization_id, ada.source) == (entitled.pk, User.Source.DIRECTORY)
