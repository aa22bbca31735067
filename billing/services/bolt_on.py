"""The SSO & Directory Sync bolt-on: bought for an annual term."""

from datetime import datetime

from django.db import transaction

from billing.entitlements import (
    BOLT_ON,
    INCLUDED,
    INCLUDED_UNTIL_RENEWAL,
    MONTHLY_PLAN,
    NO_SUBSCRIPTION,
    decide,
)
from billing.models import BillingChange, BoltOnPurchase
from billing.payments import payment_processor
from billing.services._common import (
    _actor_fields,
    _locked,
    _now,
    _record,
    _roll_forward,
)
from billing.services.announcements import _announce_on_commit
from billing.terms import BOLT_ON_PRICE_CENTS, state_at
from progression.errors import ConflictError, ProgressionError
from progression.models import Organization
from progression.services.audit import Actor

# User-facing messages; tests import these rather than repeating the text.
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
