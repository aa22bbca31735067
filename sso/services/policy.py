"""The organisation's "require SSO" policy and whom it lets use a password."""

from django.db import transaction

from progression.models import Organization
from progression.services.audit import Actor, audit_record
from sso.models import Connection, Policy


def policy_set(
    *, organization: Organization, require_sso: bool, actor: Actor
) -> Policy:
    """Turn "require SSO" on or off; admins keep password sign-in either way."""
    policy, _ = Policy.objects.get_or_create(organization=organization)
    if policy.require_sso == require_sso:
        return policy

    with transaction.atomic():
        policy.require_sso = require_sso
        policy.save()
        audit_record(
            organization=organization,
            actor=actor,
            action="sso.policy.updated",
            target=policy,
            before={"require_sso": not require_sso},
            after={"require_sso": require_sso},
        )
    return policy


def password_sign_in_allowed(user) -> bool:
    """Whether a person may sign in with a password under their organisation's
    policy: admins always may (the way back in when the IdP is down)."""
    if user.is_admin:
        return True
    required = Policy.objects.filter(
        organization_id=user.organization_id, require_sso=True
    ).exists()
    if not required:
        return True
    return not Connection.objects.filter(
        organization_id=user.organization_id, state=Connection.State.ACTIVE
    ).exists()
