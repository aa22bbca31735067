"""Every write to subscriptions and bolt-on purchases goes through here.

Each service validates its input, makes its change in one transaction, records
it as a `BillingChange` and an audit event, and announces a change of
entitlement once the transaction commits. The modules, by subject:

- `subscriptions`: start, change and renew the organisation's subscription;
- `bolt_on`: buy the SSO & Directory Sync bolt-on;
- `announcements`: tell the gated apps when the entitlement changes.

Callers import each name from the module that defines it.
"""
