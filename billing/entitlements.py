"""The one answer to "may this organisation use SSO and Directory Sync now?".

`sso/` and `directory/` ask `entitlement()` at every entry point (sign-in,
SCIM, HR-system syncs, the portal's activation buttons) and refuse with its
`message` when `available` is False. The rules:

- SSO and Directory Sync exist only on annual plans.
- Scale Annual with 50 or more seats includes them.
- Launch Annual, and Scale Annual under 50 seats, may buy the bolt-on at
  $1,700 a year; it runs to the end of the annual term it was bought for.
- A Scale Annual organisation that drops below 50 seats keeps them until its
  renewal date; a switch to monthly takes effect at the end of the annual term.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from billing.models import BoltOnPurchase, Plan, Subscription
from billing.terms import (
    BOLT_ON_PRICE_CENTS,
    INCLUDED_SEATS,
    TermState,
    human_date,
    state_at,
)
from progression.models import Organization

# Stable reason codes.
INCLUDED = "included"
INCLUDED_UNTIL_RENEWAL = "included_until_renewal"
BOLT_ON = "bolt_on"
NO_SUBSCRIPTION = "no_subscription"
MONTHLY_PLAN = "monthly_plan"
BOLT_ON_REQUIRED = "bolt_on_required"
BOLT_ON_EXPIRED = "bolt_on_expired"

# Messages for a person; tests import these rather than repeating the text.
INCLUDED_MESSAGE = "SSO and Directory Sync are included in Scale Annual."
INCLUDED_UNTIL_RENEWAL_MESSAGE = (
    "SSO and Directory Sync stay included until your renewal on {date}. After "
    "that, add the SSO & Directory Sync bolt-on for $1,700/year, or grow to "
    "50 seats on Scale."
)
BOLT_ON_MESSAGE = "The SSO & Directory Sync bolt-on is active until {date}."
NO_SUBSCRIPTION_MESSAGE = (
    "SSO and Directory Sync need an annual plan, and this organisation has no plan yet."
)
MONTHLY_PLAN_MESSAGE = (
    "SSO needs an annual plan. Switch to Launch Annual and add the SSO & "
    "Directory Sync bolt-on for $1,700/year, or to Scale Annual with 50 seats, "
    "where it is included."
)
BOLT_ON_REQUIRED_LAUNCH_MESSAGE = (
    "Add the SSO & Directory Sync bolt-on for $1,700/year, or move to Scale "
    "Annual with 50 seats, where it is included."
)
BOLT_ON_REQUIRED_SCALE_MESSAGE = (
    "Add the SSO & Directory Sync bolt-on for $1,700/year, or grow to 50 seats "
    "on Scale."
)
BOLT_ON_EXPIRED_MESSAGE = (
    "The SSO & Directory Sync bolt-on ended on {date}. Add it again for "
    "$1,700/year to keep using SSO and Directory Sync."
)


@dataclass(frozen=True)
class Entitlement:
    """Whether SSO and Directory Sync are available, why, and what it costs."""

    available: bool
    reason: str
    message: str
    bolt_on_price_cents: int | None


def _organization_id(organization: Organization | int) -> int:
    return organization if isinstance(organization, int) else organization.pk


_READ = object()


def entitlement(
    organization: Organization | int,
    *,
    at: datetime | None = None,
    subscription: Subscription | None = _READ,
) -> Entitlement:
    """Answer for `organization` at `at` (now by default).

    A caller that has just read the organisation's subscription row (None
    when it has none), in the same query as something else, passes it as
    `subscription` to save reading it again.
    """
    at = at or timezone.now()
    organization_id = _organization_id(organization)
    if subscription is _READ:
        subscription = Subscription.objects.filter(
            organization_id=organization_id
        ).first()
    state = state_at(subscription, at) if subscription is not None else None
    if state is None:
        return Entitlement(False, NO_SUBSCRIPTION, NO_SUBSCRIPTION_MESSAGE, None)
    if state.is_annual and state.includes_sso:
        # Bolt-ons change nothing here; `decide` would not look at them.
        return decide(state=state, purchases=[], at=at)
    purchases = list(
        BoltOnPurchase.objects.filter(organization_id=organization_id).order_by(
            "-term_end"
        )
    )
    return decide(state=state, purchases=purchases, at=at)


def decide(
    *, state: TermState, purchases: list[BoltOnPurchase], at: datetime
) -> Entitlement:
    """The rules, given where the subscription stands and its bolt-ons."""
    if not state.is_annual:
        return Entitlement(False, MONTHLY_PLAN, MONTHLY_PLAN_MESSAGE, None)
    if state.includes_sso:
        return Entitlement(True, INCLUDED, INCLUDED_MESSAGE, None)
    active = next((p for p in purchases if p.term_start <= at < p.term_end), None)
    if active is not None:
        return Entitlement(
            True,
            BOLT_ON,
            BOLT_ON_MESSAGE.format(date=human_date(active.term_end)),
            None,
        )
    if state.included_until is not None and at < state.included_until:
        # The bolt-on bought now would cover the term after the renewal.
        upcoming = any(p.term_start > at for p in purchases)
        return Entitlement(
            True,
            INCLUDED_UNTIL_RENEWAL,
            INCLUDED_UNTIL_RENEWAL_MESSAGE.format(
                date=human_date(state.included_until)
            ),
            None if upcoming else BOLT_ON_PRICE_CENTS,
        )
    ended = next((p for p in purchases if p.term_end <= at), None)
    if ended is not None:
        return Entitlement(
            False,
            BOLT_ON_EXPIRED,
            BOLT_ON_EXPIRED_MESSAGE.format(date=human_date(ended.term_end)),
            BOLT_ON_PRICE_CENTS,
        )
    message = (
        BOLT_ON_REQUIRED_SCALE_MESSAGE
        if state.plan == Plan.SCALE
        else BOLT_ON_REQUIRED_LAUNCH_MESSAGE
    )
    return Entitlement(False, BOLT_ON_REQUIRED, message, BOLT_ON_PRICE_CENTS)


__all__ = [
    "BOLT_ON_PRICE_CENTS",
    "INCLUDED_SEATS",
    "Entitlement",
    "entitlement",
]
