"""Billing work that runs in Celery workers."""

import logging

from celery import shared_task

from billing.models import Subscription
from billing.services.subscriptions import subscription_renew

logger = logging.getLogger(__name__)


@shared_task(name="billing.subscriptions_renew")
def subscriptions_renew_task():
    """Write due renewals; a term end that changes an entitlement announces it.

    Idempotent: a second run finds nothing due and announces nothing.
    """
    count = 0
    subscriptions = Subscription.objects.select_related("organization")
    for subscription in subscriptions.iterator():
        subscription_renew(organization=subscription.organization)
        count += 1
    logger.info("subscriptions checked for renewal: %d", count)
    return count
