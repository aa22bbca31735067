"""Housekeeping that runs in Celery workers."""

import logging

from celery import shared_task

from progression.services.sessions import sessions_clear_expired

logger = logging.getLogger(__name__)


@shared_task(name="progression.sessions_clear_expired")
def sessions_clear_expired_task():
    """Delete expired sessions; running it twice deletes nothing the second time."""
    return sessions_clear_expired()
