"""Every write to subscriptions and bolt-on purchases goes through here.

Each service validates its input, makes its change in one transaction, records
it as a `BillingChange` and an audit event, and announces a change of
entitlement once the transaction commits. The modules, by subject:

- `subscriptions`: start, change and renew the organisation's subscription;
- `bolt_on`: buy the SSO & Directory Sync bolt-on;
- `announcements`: tell the gated apps when the entitlement changes.

Callers import a name from the module that defines it. The package also
re-exports the public names, the path other apps' code and tests have long
used (`from billing.services import subscription_set`).
"""

from billing.services.announcements import entitlement_announce
from billing.services.bolt_on import (
    BOLT_ON_ALREADY_ACTIVE,
    BOLT_ON_ALREADY_BOUGHT,
    BOLT_ON_NEEDS_ANNUAL,
    BOLT_ON_NEEDS_SUBSCRIPTION,
    BOLT_ON_NOT_NEEDED,
    BoltOnUnavailableError,
    bolt_on_purchase,
)
from billing.services.subscriptions import (
    MAX_SEATS,
    PERIOD_INVALID,
    PLAN_INVALID,
    SEATS_INVALID,
    subscription_renew,
    subscription_set,
)

__all__ = [
    "BOLT_ON_ALREADY_ACTIVE",
    "BOLT_ON_ALREADY_BOUGHT",
    "BOLT_ON_NEEDS_ANNUAL",
    "BOLT_ON_NEEDS_SUBSCRIPTION",
    "BOLT_ON_NOT_NEEDED",
    "MAX_SEATS",
    "PERIOD_INVALID",
    "PLAN_INVALID",
    "SEATS_INVALID",
    "BoltOnUnavailableError",
    "bolt_on_purchase",
    "entitlement_announce",
    "subscription_renew",
    "subscription_set",
]
