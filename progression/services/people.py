"""A person's life: create, change, archive and reactivate.

A person's team, position and manager are always of the person's
organisation, a position always of the person's team, and the management
chain has no loop. An organisation keeps at least one active admin.
"""

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from progression.errors import (
    ConflictError,
    CrossOrganizationError,
    ValidationFailedError,
)
from progression.models import Organization, Position, Team, User
from progression.rows import ChainCheck, ChainedRow, ChainProbe, rows_insert_chained
from progression.services._common import (
    _audit_event,
    _changed,
    _clean_email,
    _links_changed,
    _set_unusable_password,
    _user_snapshot,
)
from progression.services.audit import Actor, audit_record
from progression.services.messages import (
    EMAIL_TAKEN,
    LAST_ADMIN,
    MANAGER_LOOP,
    MANAGER_OTHER_ORGANIZATION,
    MANAGER_SELF,
    POSITION_OTHER_TEAM,
    TEAM_OTHER_ORGANIZATION,
)

logger = logging.getLogger(__name__)

_UNSET: Any = object()
_SOURCES = frozenset(User.Source.values)


def _check_email_free(email: str, *, exclude: User | None = None) -> None:
    taken = User.objects.filter(email__iexact=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ConflictError(EMAIL_TAKEN, code="email_taken")


def _check_links(
    *,
    organization: Organization,
    user: User | None,
    team: Team | None,
    position: Position | None,
    manager: User | None,
) -> None:
    """Refuse a manager, team or position outside the person's organisation."""
    if team is not None and team.organization_id != organization.pk:
        raise CrossOrganizationError(TEAM_OTHER_ORGANIZATION, code="team_other_org")
    if position is not None and (team is None or position.team_id != team.pk):
        raise ValidationFailedError(POSITION_OTHER_TEAM, code="position_other_team")
    if manager is None:
        return
    if manager.organization_id != organization.pk:
        raise CrossOrganizationError(
            MANAGER_OTHER_ORGANIZATION, code="manager_other_org"
        )
    if user is not None and manager.pk == user.pk:
        raise ValidationFailedError(MANAGER_SELF, code="manager_self")
    if user is not None and _manages(user=user, candidate=manager):
        raise ValidationFailedError(MANAGER_LOOP, code="manager_loop")


def _manages(*, user: User, candidate: User) -> bool:
    """Say whether `user` is somewhere above `candidate` in the management chain."""
    seen = {candidate.pk}
    current = candidate.manager_id
    while current is not None and current not in seen:
        if current == user.pk:
            return True
        seen.add(current)
        current = (
            User.objects.filter(pk=current).values_list("manager_id", flat=True).first()
        )
    return False


def _other_active_admins(user: User) -> bool:
    return (
        User.objects.filter(
            organization_id=user.organization_id,
            role=User.Role.ADMIN,
            status=User.Status.ACTIVE,
        )
        .exclude(pk=user.pk)
        .exists()
    )


def user_create(
    *,
    organization: Organization,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = User.Role.MEMBER,
    source: str = User.Source.MANUAL,
    team: Team | None = None,
    position: Position | None = None,
    manager: User | None = None,
    password: str | None = None,
    actor: Actor = None,
) -> User:
    """Create a person in an organisation; no email is sent."""
    email = _clean_email(email)
    if role not in User.Role.values:
        raise ValidationFailedError(f"Unknown role {role!r}.", code="role_invalid")
    if source not in _SOURCES:
        raise ValidationFailedError(f"Unknown source {source!r}.", code="source")
    _check_email_free(email)
    _check_links(
        organization=organization,
        user=None,
        team=team,
        position=position,
        manager=manager,
    )

    user = User(
        organization=organization,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        source=source,
        team=team,
        position=position,
        manager=manager,
    )
    if password:
        user.set_password(password)
    else:
        _set_unusable_password(user)
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                organization=organization,
                actor=actor,
                action="user.created",
                target=user,
                after=_user_snapshot(user),
            )
            _links_changed(organization.pk, [user.pk])
    except IntegrityError as exc:
        # Two creates raced for one email; the database kept the first.
        raise ConflictError(EMAIL_TAKEN, code="email_taken") from exc
    logger.info("user created", extra={"user_id": user.pk})
    return user


def user_create_linked(
    *,
    organization: Organization,
    email: str,
    first_name: str = "",
    last_name: str = "",
    source: str = User.Source.MANUAL,
    actor: Actor = None,
    linked: list[tuple[Model, str | None]] = (),
    check: ChainCheck | None = None,
    links_probe: ChainProbe | None = None,
) -> User | None:
    """Create a person, their audit event and rows that go with them, at once.

    `linked` holds unsaved rows, each with the name of its foreign key to the
    new person, or None for a row that only goes with the creation. All are
    written by one statement, so a request creating a person from outside
    pays one round trip. When someone already uses the address nothing is
    written and None is returned: the caller knows whether that is a conflict
    or a namesake to bring back. A linked row breaking a constraint raises
    `IntegrityError`, with nothing written either; so does a `check` that
    finds no row (`ChainCheckFailed`).

    Others' links are noted as changed after the write, since the new person
    may be the manager someone names; with `links_probe`, only when the probe
    finds a row. It is for a caller who knows the person brings no link
    references of their own, and asks in the same statement whether anyone
    already names them.
    """
    email = _clean_email(email)
    if source not in _SOURCES:
        raise ValidationFailedError(f"Unknown source {source!r}.", code="source")

    user = User(
        organization=organization,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        source=source,
    )
    _set_unusable_password(user)
    event = _audit_event(user, actor, "user.created", None, _user_snapshot(user))
    rows = [
        ChainedRow("person", user, ignore_conflicts=True),
        ChainedRow("audit", event, refs={"target_id": "person"}),
    ]
    rows += [
        ChainedRow(f"linked{index}", row, refs={field: "person"})
        if field
        else ChainedRow(f"linked{index}", row, after=("person",))
        for index, (row, field) in enumerate(linked)
    ]
    probes = (links_probe,) if links_probe else ()
    written = rows_insert_chained(rows, check=check, probes=probes)
    if "person" not in written:
        return None
    for row, field in linked:
        if field:
            setattr(row, field, user)

    if links_probe is None or links_probe.name in written:
        _links_changed(organization.pk, [user.pk])
    logger.info("user created", extra={"user_id": user.pk})
    return user


def user_update(
    *,
    user: User,
    actor: Actor,
    email: str = _UNSET,
    first_name: str = _UNSET,
    last_name: str = _UNSET,
    role: str = _UNSET,
    team: Team | None = _UNSET,
    position: Position | None = _UNSET,
    manager: User | None = _UNSET,
) -> User:
    """Change a person's details; only the arguments given are changed.

    Moving a person to another team drops a position that the new team does not
    have, so a position always belongs to the person's team.
    """
    before = _user_snapshot(user)
    new_team = user.team if team is _UNSET else team
    new_position = user.position if position is _UNSET else position
    if team is not _UNSET and position is _UNSET and new_position is not None:
        if new_team is None or new_position.team_id != new_team.pk:
            new_position = None
    new_manager = user.manager if manager is _UNSET else manager

    if email is not _UNSET:
        email = _clean_email(email)
        _check_email_free(email, exclude=user)
    if role is not _UNSET:
        if role not in User.Role.values:
            raise ValidationFailedError(f"Unknown role {role!r}.", code="role_invalid")
        if role != User.Role.ADMIN and user.is_admin and not _other_active_admins(user):
            raise ValidationFailedError(LAST_ADMIN, code="last_admin")
    _check_links(
        organization=user.organization,
        user=user,
        team=new_team,
        position=new_position,
        manager=new_manager,
    )

    if email is not _UNSET:
        user.email = email
    if first_name is not _UNSET:
        user.first_name = first_name.strip()
    if last_name is not _UNSET:
        user.last_name = last_name.strip()
    if role is not _UNSET:
        user.role = role
    user.team, user.position, user.manager = new_team, new_position, new_manager
    old, new = _changed(before, _user_snapshot(user))
    if not new:
        return user
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                organization=user.organization,
                actor=actor,
                action="user.updated",
                target=user,
                before=old,
                after=new,
            )
            _links_changed(user.organization_id, [user.pk])
    except IntegrityError as exc:
        raise ConflictError(EMAIL_TAKEN, code="email_taken") from exc
    return user


def user_archive(*, user: User, reason: str, actor: Actor) -> User:
    """Archive a person: they cannot sign in and do not count as an active seat.

    Archiving never deletes: the account, its links and its history stay, and
    `user_reactivate` brings the same account back. Archiving an archived person
    changes nothing.
    """
    if user.status == User.Status.ARCHIVED:
        return user
    if user.is_admin and not _other_active_admins(user):
        raise ValidationFailedError(LAST_ADMIN, code="last_admin")

    user.status = User.Status.ARCHIVED
    user.archived_at = timezone.now()
    user.archived_reason = (reason or "").strip()[:200]
    with transaction.atomic():
        user.save(update_fields=["status", "archived_at", "archived_reason"])
        audit_record(
            organization=user.organization,
            actor=actor,
            action="user.archived",
            target=user,
            before={"status": User.Status.ACTIVE},
            after={"status": User.Status.ARCHIVED, "reason": user.archived_reason},
        )
        _links_changed(user.organization_id, [user.pk])
    logger.info("user archived", extra={"user_id": user.pk})
    return user


def user_reactivate(*, user: User, actor: Actor) -> User:
    """Bring an archived person back: the same account, with its history."""
    if user.status == User.Status.ACTIVE:
        return user

    user.status = User.Status.ACTIVE
    user.archived_at = None
    user.archived_reason = ""
    with transaction.atomic():
        user.save(update_fields=["status", "archived_at", "archived_reason"])
        audit_record(
            organization=user.organization,
            actor=actor,
            action="user.reactivated",
            target=user,
            before={"status": User.Status.ARCHIVED},
            after={"status": User.Status.ACTIVE},
        )
        _links_changed(user.organization_id, [user.pk])
    logger.info("user reactivated", extra={"user_id": user.pk})
    return user
