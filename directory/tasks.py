"""Link resolution in Celery workers: one coalesced run per organisation."""

import logging

import redis
from celery import shared_task
from celery.signals import worker_ready
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError

from directory.links import LinksBusyError
from directory.links_queue import links_forget, links_resolve_pending, links_sweep
from progression.models import Organization

logger = logging.getLogger(__name__)

# Errors that a later attempt can get past: a database or Redis that went
# away for a moment, a deadlock the database broke, or a team, position or
# person deleted by another transaction between two statements of a run.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    IntegrityError,
    redis.ConnectionError,
    redis.TimeoutError,
)
BUSY_RETRY_SECONDS = 3


@shared_task(
    name="directory.resolve_links",
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=10,
)
def resolve_links_task(self, organization_id: int):
    """Resolve what is pending for one organisation; run again, it changes nothing.

    While another run holds the organisation's lock, the task comes back a few
    seconds later rather than running beside it.
    """
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        links_forget(organization_id=organization_id)
        return None
    try:
        resolution = links_resolve_pending(organization=organization)
    except LinksBusyError as exc:
        if self.request.is_eager:
            # In-process there is no later: what is pending waits for the
            # next change or the next worker's sweep.
            raise
        raise self.retry(countdown=BUSY_RETRY_SECONDS, max_retries=None) from exc
    except TRANSIENT_ERRORS:
        raise
    except DatabaseError:
        logger.exception(
            "link resolution failed", extra={"organization_id": organization_id}
        )
        raise
    return None if resolution is None else resolution.changed


@shared_task(name="directory.resolve_links_sweep", autoretry_for=TRANSIENT_ERRORS)
def resolve_links_sweep_task():
    """Queue a run for every organisation with pending changes."""
    return links_sweep()


@worker_ready.connect
def _sweep_when_ready(sender=None, **kwargs):
    # A worker that starts picks up what a killed one left pending.
    resolve_links_sweep_task.delay()


@shared_task(
    name="directory.sync_directory",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def sync_directory_task(
    directory_id: int, trigger: str = "schedule", run_id: int | None = None
):
    """Run one pull sync of an HR directory; returns the run's state.

    With `run_id`, finishes that already opened run (the portal opens one so
    it can show progress at once); a run no longer open is left alone. Without
    it, opens a run, unless one of the directory is going on already: one run
    per directory at a time.
    """
    from directory.models import Directory, SyncRun
    from directory.sync import directory_sync, sync_run_execute

    if run_id is not None:
        run = SyncRun.objects.filter(pk=run_id, state=SyncRun.State.RUNNING).first()
        if run is None:
            return None
        return sync_run_execute(run=run).state
    directory = Directory.objects.filter(pk=directory_id).first()
    if directory is None:
        return None
    run = directory_sync(directory=directory, trigger=trigger)
    return None if run is None else run.state


@shared_task(name="directory.sync_due", autoretry_for=TRANSIENT_ERRORS)
def sync_due_task():
    """Queue a sync for every HR directory whose interval has passed."""
    from directory.sync.schedule import sync_due_claim

    claimed = sync_due_claim()
    for directory_id in claimed:
        sync_directory_task.delay(directory_id, "schedule")
    return len(claimed)
