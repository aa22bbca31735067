"""Clearing the sessions that have expired."""

import logging

from django.contrib.sessions.models import Session
from django.utils import timezone

logger = logging.getLogger(__name__)


def sessions_clear_expired() -> int:
    """Delete sessions past their expiry and return how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    if deleted:
        logger.info("expired sessions cleared: %s", deleted)
    return deleted
