"""Every write to subscriptions and bolt-on purchases goes through here.

Each service validates its input, makes its change in one transaction, records
it as a `BillingChange` and an audit event, and announces a change of
entitlement once the transaction commits.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from billing import signals
from billing.entitlements import (
    BOLT_ON,
    INCLUDED,
    INCLUDED_UNTIL_RENEWAL,
    MONTHLY_PLAN,
    NO_SUBSCRIPTION,
    decide,
    entitlement,
)
from billing.models import BillingChange, BoltOnPurchase, Period, Plan, Subscription
from billing.payments import payment_processor
from billing.terms import BOLT_ON_PRICE_CENTS, TermState, state_at, term_end_for
from progression.errors import ConflictError, ProgressionError, ValidationFailedError
from progression.models import Organization, User
from progression.services import Actor, audit_record

logger = logging.getLogger(__name__)

MAX_SEATS = 100_000

# User-facing messages; tests import these rather than repeating the text.
PLAN_INVALID = "Choose the Launch or Scale plan."
PERIOD_INVALID = "Choose a monthly or annual period."
SEATS_INVALID = f"Seats must be a whole number from 1 to {MAX_SEATS:,}."
BOLT_ON_NEEDS_SUBSCRIPTION = "Choose a plan before adding the bolt-on."
BOLT_ON_NEEDS_ANNUAL = (
    "The SSO & Directory Sync bolt-on is only available on annual plans. Switch "
    "to Launch Annual or Scale Annual first."
)
BOLT_ON_NOT_NEEDED = (
    "SSO and Directory Sync are already included in Scale Annual with 50 or more seats."
)
BOLT_ON_ALREADY_ACTIVE = "The SSO & Directory Sync bolt-on is already active."
BOLT_ON_ALREADY_BOUGHT = (
    "The SSO & Directory Sync bolt-on is already bought for the next term."
)


class BoltOnUnavailableError(ProgressionError):
    """The bolt-on cannot be bought in the subscription's current state."""

    code = "bolt_on_unavailable"


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


def _clean(*, plan: str, period: str, seats) -> tuple[str, str, int]:
    if plan not in Plan.values:
        raise ValidationFailedError(PLAN_INVALID, code="plan_invalid")
    if period not in Period.values:
        raise ValidationFailedError(PERIOD_INVALID, code="period_invalid")
    if isinstance(seats, bool) or not isinstance(seats, int):
        raise ValidationFailedError(SEATS_INVALID, code="seats_invalid")
    if not 1 <= seats <= MAX_SEATS:
        raise ValidationFailedError(SEATS_INVALID, code="seats_invalid")
    return plan, period, seats


def _clear_scheduled(subscription: Subscription) -> None:
    subscription.scheduled_plan = ""
    subscription.scheduled_period = ""
    subscription.scheduled_seats = None
    subscription.scheduled_at = None


def _included_at(state: TermState, at: datetime) -> bool:
    return state.includes_sso or (
        state.included_until is not None and at < state.included_until
    )


def _locked(organization: Organization) -> Subscription | None:
    """The organisation's subscription, locked until the transaction ends."""
    return (
        Subscription.objects.select_for_update()
        .filter(organization=organization)
        .first()
    )


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


def subscription_renew(
    *, organization: Organization, at: datetime | None = None
) -> Subscription | None:
    """Write the renewals and scheduled changes that are due; idempotent."""
    at = _now(at)
    with transaction.atomic():
        subscription = _locked(organization)
        if subscription is None:
            return None
        _roll_forward(subscription, at=at)
        _announce_on_commit(organization=organization)
    return subscription


def subscription_set(
    *,
    organization: Organization,
    plan: str,
    period: str,
    seats: int,
    actor: Actor,
    term_start: datetime | None = None,
    at: datetime | None = None,
) -> Subscription:
    """Start or change the organisation's subscription.

    A new subscription, or one given `term_start`, starts a term there (now by
    default). Otherwise changes take effect at once within the current term,
    except a switch from annual to monthly, which is scheduled for the end of
    the annual term, and a switch from monthly to annual, which starts a new
    annual term now. Dropping out of the included entitlement in the middle
    of a term keeps it until the term ends. Setting what is already set
    changes nothing.
    """
    at = _now(at)
    plan, period, seats = _clean(plan=plan, period=period, seats=seats)

    with transaction.atomic():
        subscription = _locked(organization)
        if subscription is None or term_start is not None:
            subscription = _subscription_start(
                organization=organization,
                subscription=subscription,
                plan=plan,
                period=period,
                seats=seats,
                start=term_start or at,
                actor=actor,
            )
        else:
            _subscription_change(
                subscription=subscription,
                plan=plan,
                period=period,
                seats=seats,
                at=at,
                actor=actor,
            )
        _announce_on_commit(organization=organization)
    return subscription


def _subscription_start(
    *,
    organization: Organization,
    subscription: Subscription | None,
    plan: str,
    period: str,
    seats: int,
    start: datetime,
    actor: Actor,
) -> Subscription:
    created = subscription is None
    if created:
        subscription = Subscription(organization=organization)
        before = {}
    else:
        before = _snapshot(subscription)
    subscription.plan = plan
    subscription.period = period
    subscription.seats = seats
    subscription.term_start = start
    subscription.term_end = term_end_for(start, period)
    subscription.included_until = None
    _clear_scheduled(subscription)
    after = _snapshot(subscription)
    if before == after:
        return subscription
    subscription.save()
    _record(
        subscription=subscription,
        kind=(
            BillingChange.Kind.SUBSCRIPTION_STARTED
            if created
            else BillingChange.Kind.SUBSCRIPTION_CHANGED
        ),
        actor=actor,
        before=before,
        after=after,
        effective_at=start,
    )
    return subscription


def _subscription_change(
    *,
    subscription: Subscription,
    plan: str,
    period: str,
    seats: int,
    at: datetime,
    actor: Actor,
) -> None:
    _roll_forward(subscription, at=at)
    state = state_at(subscription, at)
    if state is None:
        # The term starts later: the new terms replace it from the same start.
        _subscription_start(
            organization=subscription.organization,
            subscription=subscription,
            plan=plan,
            period=period,
            seats=seats,
            start=subscription.term_start,
            actor=actor,
        )
        return
    before = _snapshot(subscription)
    effective_at = at
    kind = BillingChange.Kind.SUBSCRIPTION_CHANGED
    if subscription.period == Period.ANNUAL and period == Period.MONTHLY:
        # The annual term is paid for: the switch waits for its end.
        subscription.scheduled_plan = plan
        subscription.scheduled_period = period
        subscription.scheduled_seats = seats
        subscription.scheduled_at = subscription.term_end
        effective_at = subscription.term_end
        kind = BillingChange.Kind.CHANGE_SCHEDULED
    else:
        was_included = _included_at(state, at)
        if subscription.period == Period.MONTHLY and period == Period.ANNUAL:
            subscription.term_start = at
            subscription.term_end = term_end_for(at, period)
        subscription.plan = plan
        subscription.period = period
        subscription.seats = seats
        _clear_scheduled(subscription)
        now_included = state_at(subscription, at).includes_sso
        if was_included and not now_included and period == Period.ANNUAL:
            # Included for the term already paid: kept until its renewal.
            subscription.included_until = max(
                subscription.term_end,
                subscription.included_until or subscription.term_end,
            )
    after = _snapshot(subscription)
    if before == after:
        return
    subscription.save()
    _record(
        subscription=subscription,
        kind=kind,
        actor=actor,
        before=before,
        after=after,
        effective_at=effective_at,
    )


def bolt_on_purchase(
    *, organization: Organization, actor: Actor, at: datetime | None = None
) -> BoltOnPurchase:
    """Buy the SSO & Directory Sync bolt-on for the current annual term.

    It runs to the end of that term. An organisation that keeps the included
    entitlement only until its renewal buys it for the term after. Refused on
    monthly plans, where it is already included, and where it is already
    bought.
    """
    at = _now(at)

    with transaction.atomic():
        subscription = _locked(organization)
        if subscription is None:
            raise BoltOnUnavailableError(
                BOLT_ON_NEEDS_SUBSCRIPTION, code=NO_SUBSCRIPTION
            )
        _roll_forward(subscription, at=at)
        state = state_at(subscription, at)
        if state is None:
            raise BoltOnUnavailableError(
                BOLT_ON_NEEDS_SUBSCRIPTION, code=NO_SUBSCRIPTION
            )
        purchases = list(BoltOnPurchase.objects.filter(organization=organization))
        answer = decide(state=state, purchases=purchases, at=at)
        if answer.reason == MONTHLY_PLAN:
            raise BoltOnUnavailableError(BOLT_ON_NEEDS_ANNUAL, code=MONTHLY_PLAN)
        if answer.reason == INCLUDED:
            raise BoltOnUnavailableError(BOLT_ON_NOT_NEEDED, code="bolt_on_not_needed")
        if answer.reason == BOLT_ON:
            raise ConflictError(BOLT_ON_ALREADY_ACTIVE, code="bolt_on_active")
        term_start, term_end = state.term_start, state.term_end
        if answer.reason == INCLUDED_UNTIL_RENEWAL:
            after_renewal = state_at(subscription, state.term_end)
            if not after_renewal.is_annual:
                raise BoltOnUnavailableError(BOLT_ON_NEEDS_ANNUAL, code=MONTHLY_PLAN)
            if answer.bolt_on_price_cents is None:
                raise ConflictError(BOLT_ON_ALREADY_BOUGHT, code="bolt_on_bought")
            term_start, term_end = after_renewal.term_start, after_renewal.term_end
        payment = payment_processor().charge(
            organization=organization,
            amount_cents=BOLT_ON_PRICE_CENTS,
            description="SSO & Directory Sync bolt-on, one year",
        )
        fields = _actor_fields(actor)
        purchase = BoltOnPurchase.objects.create(
            organization=organization,
            term_start=term_start,
            term_end=term_end,
            amount_cents=BOLT_ON_PRICE_CENTS,
            processor=payment.processor,
            payment_reference=payment.reference,
            purchased_by=fields["actor"],
            purchased_by_label=fields["actor_label"],
            purchased_at=at,
        )
        _record(
            subscription=subscription,
            kind=BillingChange.Kind.BOLT_ON_PURCHASED,
            actor=actor,
            before={},
            after={
                "term_start": term_start.isoformat(),
                "term_end": term_end.isoformat(),
                "amount_cents": BOLT_ON_PRICE_CENTS,
                "processor": payment.processor,
                "payment_reference": payment.reference,
            },
            effective_at=term_start,
            target=purchase,
        )
        _announce_on_commit(organization=organization)
    return purchase
