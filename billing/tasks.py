"""Billing work that runs in Celery workers."""

import logging

from celery import shared_task

from billing import services
from billing.models import Subscription

logger = logging.getLogger(__name__)


@shared_task(name="billing.subscriptions_renew")
def subscriptions_renew_task():
    """Write due renewals and announce entitlements that a term end changed.

    Idempotent: a second run finds nothing due and announces nothing.
    """
    announced = 0
    organizations = Subscription.objects.select_related("organization")
    for subscription in organizations.iterator():
        organization = subscription.organization
        services.subscription_renew(organization=organization)
        if services.entitlement_announce(organization=organization):
            announced += 1
    logger.info("subscriptions renewed, %d entitlement changes announced", announced)
    return announced
