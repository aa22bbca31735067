"""The organisation's subscription: started, changed, renewed."""

from datetime import datetime

from django.db import transaction

from billing.models import BillingChange, Period, Plan, Subscription
from billing.services._common import (
    _clear_scheduled,
    _locked,
    _now,
    _record,
    _roll_forward,
    _snapshot,
)
from billing.services.announcements import _announce_on_commit
from billing.terms import TermState, state_at, term_end_for
from progression.errors import ValidationFailedError
from progression.models import Organization
from progression.services.audit import Actor

MAX_SEATS = 100_000

# User-facing messages; tests import these rather than repeating the text.
PLAN_INVALID = "Choose the Launch or Scale plan."
PERIOD_INVALID = "Choose a monthly or annual period."
SEATS_INVALID = f"Seats must be a whole number from 1 to {MAX_SEATS:,}."


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


def _included_at(state: TermState, at: datetime) -> bool:
    return state.includes_sso or (
        state.included_until is not None and at < state.included_until
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
