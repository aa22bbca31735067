"""Writes to directories themselves: create, token rotation, state, group scope.

Bearer tokens are random, shown once, and stored as a SHA-256 digest: a
database leak does not give anyone a working token. They are compared in
constant time (`directory/scim/auth.py`).
"""

import hashlib
import logging
import secrets

from django.db import transaction
from django.utils import timezone

from directory.models import HR_PROVIDERS, Directory, DirectoryGroup, Provider
from directory.provisioning import directory_reconcile
from progression.errors import CrossOrganizationError, ValidationFailedError
from progression.models import Organization
from progression.services.audit import Actor, audit_record

logger = logging.getLogger(__name__)

PROVIDER_UNKNOWN = "Choose one of the listed directory providers."
SCOPE_GROUP_OTHER_DIRECTORY = "That group does not belong to this directory."
TOKEN_PREFIX = "prg_scim_"  # noqa: S105 (a label, not a secret)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def directory_create(
    *, organization: Organization, provider: str, name: str = "", actor: Actor
) -> tuple[Directory, str]:
    """Create a SCIM directory and return it with its bearer token, shown once."""
    if provider not in Provider.values or provider in HR_PROVIDERS:
        raise ValidationFailedError(PROVIDER_UNKNOWN, code="provider_unknown")
    name = " ".join((name or "").split()) or Provider(provider).label
    token = _new_token()

    with transaction.atomic():
        directory = Directory.objects.create(
            organization=organization,
            provider=provider,
            name=name[:200],
            token_hash=token_digest(token),
            token_hint=token[-4:],
            token_rotated_at=timezone.now(),
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="directory.created",
            target=directory,
            after={"provider": provider, "name": directory.name},
        )
    logger.info("directory created", extra={"directory_id": directory.pk})
    return directory, token


def directory_token_rotate(*, directory: Directory, actor: Actor) -> str:
    """Issue a new bearer token; the old one stops working at once."""
    token = _new_token()

    with transaction.atomic():
        directory.token_hash = token_digest(token)
        directory.token_hint = token[-4:]
        directory.token_rotated_at = timezone.now()
        directory.save(update_fields=["token_hash", "token_hint", "token_rotated_at"])
        audit_record(
            organization=directory.organization,
            actor=actor,
            action="directory.token_rotated",
            target=directory,
        )
    logger.info("directory token rotated", extra={"directory_id": directory.pk})
    return token


def directory_state_set(*, directory: Directory, state: str, actor: Actor) -> Directory:
    """Activate or deactivate a directory; an inactive one refuses every request.

    Deactivating changes no one: the people it provisioned stay as they are.
    """
    if state not in Directory.State.values:
        raise ValidationFailedError(f"Unknown state {state!r}.", code="state_invalid")
    if state == directory.state:
        return directory

    before = directory.state
    with transaction.atomic():
        directory.state = state
        directory.save(update_fields=["state"])
        audit_record(
            organization=directory.organization,
            actor=actor,
            action="directory.state_changed",
            target=directory,
            before={"state": before},
            after={"state": state},
        )
    return directory


def directory_scope_set(
    *, directory: Directory, groups: list[DirectoryGroup], actor: Actor
) -> Directory:
    """Provision only members of `groups` (everyone when empty); re-apply the rules."""
    if any(group.directory_id != directory.pk for group in groups):
        raise CrossOrganizationError(
            SCOPE_GROUP_OTHER_DIRECTORY, code="scope_group_other_directory"
        )
    before = sorted(directory.scope_groups.values_list("display_name", flat=True))

    with transaction.atomic():
        directory.group_scope_enabled = bool(groups)
        directory.save(update_fields=["group_scope_enabled"])
        directory.scope_groups.set(groups)
        audit_record(
            organization=directory.organization,
            actor=actor,
            action="directory.scope_changed",
            target=directory,
            before={"groups": before},
            after={"groups": sorted(group.display_name for group in groups)},
        )
    directory_reconcile(directory=directory)
    return directory
