"""What the services share: cleaning a name or an address, a person's
audited snapshot and its unsaved audit event, an unusable password, and the
signal that people's links changed."""

import secrets

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from progression.errors import ValidationFailedError
from progression.models import AuditEvent, User
from progression.services.audit import Actor
from progression.services.messages import EMAIL_INVALID, NAME_REQUIRED
from progression.signals import people_links_changed


def _links_changed(organization_id: int, user_ids: list[int] | None = None) -> None:
    people_links_changed.send(
        sender=User, organization_id=organization_id, user_ids=user_ids
    )


def _set_unusable_password(user: User) -> None:
    """Give `user` a password that can never match, as Django's would be.

    Django's `set_unusable_password` draws its 40 characters from the system's
    random source one call at a time, which costs a create more than its
    insert; one draw of 30 bytes gives as many characters.
    """
    user.password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _user_snapshot(user: User) -> dict:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "status": user.status,
        "team": user.team.name if user.team_id else None,
        "position": user.position.name if user.position_id else None,
        "manager": user.manager.email if user.manager_id else None,
    }


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [key for key in after if before.get(key) != after[key]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationFailedError(EMAIL_INVALID, code="email_invalid") from exc
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailedError(NAME_REQUIRED, code="name_required")
    return name


def _audit_event(user: User, actor: Actor, action: str, before, after) -> AuditEvent:
    return AuditEvent(
        organization_id=user.organization_id,
        actor=actor if isinstance(actor, User) else None,
        actor_label=actor.email if isinstance(actor, User) else (actor or "system"),
        action=action,
        target_type=User._meta.model_name,
        target_id=str(user.pk),
        target_label=str(user)[:300],
        before=before or {},
        after=after or {},
    )
