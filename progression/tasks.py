"""Housekeeping that runs in Celery workers."""

import logging

from celery import shared_task

from progression import services

logger = logging.getLogger(__name__)


@shared_task(name="progression.sessions_clear_expired")
def sessions_clear_expired_task():
    """Delete expired sessions; running it twice deletes nothing the second time."""
    return services.sessions_clear_expired()
