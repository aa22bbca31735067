"""The announcement of a change of entitlement to the apps it gates."""

import logging
from datetime import datetime

from django.db import transaction

from billing import signals
from billing.entitlements import entitlement
from billing.models import Subscription
from billing.services._common import _locked, _now
from progression.models import Organization

logger = logging.getLogger(__name__)


def _announce_on_commit(*, organization: Organization) -> None:
    # Receivers act on the present (suspend or resume now), so the
    # announcement is for the moment of the commit, whatever `at` a change
    # was given.
    transaction.on_commit(lambda: entitlement_announce(organization=organization))


def entitlement_announce(
    *, organization: Organization, at: datetime | None = None
) -> bool:
    """Send `entitlement_changed` if availability differs from the last sent.

    Returns whether it was sent; running it twice sends nothing the second
    time.
    """
    at = _now(at)
    with transaction.atomic():
        subscription = _locked(organization)
        if subscription is None:
            return False
        answer = entitlement(organization, at=at)
        if answer.available == subscription.entitlement_announced:
            return False
        subscription.entitlement_announced = answer.available
        subscription.save(update_fields=["entitlement_announced", "updated_at"])
    logger.info(
        "entitlement changed: %s",
        answer.reason,
        extra={"organization_id": organization.pk},
    )
    signals.entitlement_changed.send(
        sender=Subscription, organization=organization, entitlement=answer
    )
    return True
