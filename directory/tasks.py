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
    """Resolve what is pending for an organisation; again, it finds nothing to do.

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
