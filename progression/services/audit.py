"""Who acted, and the audit record of each change."""

from typing import Any

from progression.models import AuditEvent, Organization, User

Actor = User | str | None


def audit_record(
    *,
    organization: Organization,
    actor: Actor,
    action: str,
    target: Any,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Record one change; `actor` is a person, a label such as "operator", or None."""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if isinstance(actor, User) else None,
        actor_label=actor.email if isinstance(actor, User) else (actor or "system"),
        action=action,
        target_type=type(target)._meta.model_name,
        target_id=str(target.pk),
        target_label=str(target)[:300],
        before=before or {},
        after=after or {},
    )
