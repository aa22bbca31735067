"""What the billing services share: the locked subscription, its audited
snapshot, the record of a change and the roll-forward of due renewals."""

import logging
from datetime import datetime

from django.utils import timezone

from billing.models import BillingChange, Subscription
from billing.terms import state_at
from progression.models import Organization, User
from progression.services.audit import Actor, audit_record

logger = logging.getLogger(__name__)


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _actor_fields(actor: Actor) -> dict:
    if isinstance(actor, User):
        return {"actor": actor, "actor_label": actor.email}
    return {"actor": None, "actor_label": actor or "system"}


def _snapshot(subscription: Subscription) -> dict:
    snapshot = {
        "plan": subscription.plan,
        "period": subscription.period,
        "seats": subscription.seats,
        "term_start": subscription.term_start.isoformat(),
        "term_end": subscription.term_end.isoformat(),
        "included_until": (
            subscription.included_until.isoformat()
            if subscription.included_until
            else None
        ),
    }
    if subscription.scheduled_at is not None:
        snapshot["scheduled"] = {
            "plan": subscription.scheduled_plan,
            "period": subscription.scheduled_period,
            "seats": subscription.scheduled_seats,
            "at": subscription.scheduled_at.isoformat(),
        }
    return snapshot


def _record(
    *,
    subscription: Subscription,
    kind: str,
    actor: Actor,
    before: dict,
    after: dict,
    effective_at: datetime,
    target=None,
) -> BillingChange:
    change = BillingChange.objects.create(
        organization_id=subscription.organization_id,
        kind=kind,
        before=before,
        after=after,
        effective_at=effective_at,
        **_actor_fields(actor),
    )
    audit_record(
        organization=subscription.organization,
        actor=actor,
        action=f"billing.{kind}",
        target=target or subscription,
        before=before,
        after=after,
    )
    logger.info(
        "billing change %s",
        kind,
        extra={"organization_id": subscription.organization_id},
    )
    return change


def _clear_scheduled(subscription: Subscription) -> None:
    subscription.scheduled_plan = ""
    subscription.scheduled_period = ""
    subscription.scheduled_seats = None
    subscription.scheduled_at = None


def _locked(organization: Organization) -> Subscription | None:
    """The organisation's subscription, locked until the transaction ends."""
    return (
        Subscription.objects.select_for_update()
        .filter(organization=organization)
        .first()
    )


def _roll_forward(subscription: Subscription, *, at: datetime) -> None:
    """Write the renewals and scheduled change due by `at`; caller holds the lock."""
    state = state_at(subscription, at)
    if state is None or state.term_start == subscription.term_start:
        return
    before = _snapshot(subscription)
    subscription.plan = state.plan
    subscription.period = state.period
    subscription.seats = state.seats
    subscription.term_start = state.term_start
    subscription.term_end = state.term_end
    if state.scheduled_applied:
        _clear_scheduled(subscription)
    subscription.save()
    kind = (
        BillingChange.Kind.CHANGE_APPLIED
        if state.scheduled_applied
        else BillingChange.Kind.SUBSCRIPTION_RENEWED
    )
    _record(
        subscription=subscription,
        kind=kind,
        actor="system",
        before=before,
        after=_snapshot(subscription),
        effective_at=state.term_start,
    )
