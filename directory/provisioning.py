"""The one rule set that turns directory records into Progression people.

SCIM requests and polled HR records both arrive here as a `Record`: "this
directory user should look like this". The same code then decides whether the
linked person is created, updated, archived or reactivated:

- in scope and active: created (no email is sent) or reactivated;
- out of scope (inactive, deleted, or outside every group the directory is
  scoped to): archived, never deleted;
- a change updates first name, last name and email; manager, department and
  title are stored raw on the directory user for link resolution.

A directory user is keyed on the directory's own id, never on the email, so an
email change keeps the same person. An email that another active person of the
organisation, or anyone in another organisation, already uses is refused with
`ConflictError`; nothing is merged silently. An archived person of the same
organisation with that email, not linked to another directory user, is the
same person coming back: linked and reactivated, with their history.
"""

import dataclasses
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from directory.links_queue import links_request_on_commit
from directory.links_statements import manager_named_probe
from directory.models import Directory, DirectoryGroup, DirectoryUser
from progression.errors import ConflictError, ValidationFailedError
from progression.models import User
from progression.rows import ChainCheck, ChainCheckFailed
from progression.services.people import (
    user_archive,
    user_create,
    user_create_linked,
    user_reactivate,
    user_update,
)

logger = logging.getLogger(__name__)

EMAIL_TAKEN = "Another person already uses this email address."
USER_NAME_TAKEN = "This directory already has a user with this userName."
USER_NAME_REQUIRED = "A user needs a userName."
REASON_INACTIVE = "Deactivated in the directory."
REASON_DELETED = "Deleted in the directory."
REASON_OUT_OF_SCOPE = "Not in any of the directory's synced groups."
REASON_NOT_LISTED = "No longer listed by the directory."


@dataclasses.dataclass(frozen=True)
class Record:
    """What a directory says about one person, already normalised."""

    user_name: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    active: bool = True
    external_id: str = ""
    manager_ref: str = ""
    department: str = ""
    title: str = ""
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)


def record_fields(record: Record) -> dict[str, Any]:
    """A record as the directory user's field values, trimmed to fit."""
    return _fields(record)


def _fields(record: Record) -> dict[str, Any]:
    user_name = (record.user_name or "").strip()
    if not user_name:
        raise ValidationFailedError(USER_NAME_REQUIRED, code="user_name_required")
    return {
        "user_name": user_name[:255],
        "email": (record.email or "").strip()[:254],
        "first_name": (record.first_name or "").strip()[:150],
        "last_name": (record.last_name or "").strip()[:150],
        "active": bool(record.active),
        "external_id": (record.external_id or "")[:255],
        "manager_ref": (record.manager_ref or "")[:255],
        "department": (record.department or "").strip()[:200],
        "title": (record.title or "").strip()[:200],
        "attributes": record.attributes,
    }


def _check_user_name_free(
    directory: Directory, user_name: str, *, exclude: DirectoryUser | None = None
) -> None:
    taken = DirectoryUser.objects.filter(
        directory=directory, deleted_at__isnull=True, user_name__iexact=user_name
    )
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ConflictError(USER_NAME_TAKEN, code="user_name_taken")


def directory_user_create(
    *,
    directory: Directory,
    record: Record,
    along: list[Model] = (),
    check: ChainCheck | None = None,
) -> DirectoryUser:
    """Store a new directory user and provision the person it describes.

    The person is created first and the directory user inserted once, linked;
    a userName already in the directory is refused by its unique index, which
    rolls the whole create back. The usual case, a new person, is one
    statement; `along` holds unsaved rows (the request log) to write in it,
    left unsaved when the create takes the longer path.

    `check` is for a caller whose `directory` may be out of date: the
    statement writes only if the check still holds. Such a create takes the
    one-statement path or nothing: it raises `ChainCheckFailed`, having
    written nothing, when the check fails or the path does not apply, and
    the caller reads its directory again and calls without a check.
    """
    directory_user = DirectoryUser(directory=directory, **_fields(record))
    if _create_with_new_person(directory_user, along, check):
        return directory_user

    try:
        with transaction.atomic():
            directory_user.user = _provision_new(directory_user)
            directory_user.save(force_insert=True)
    except IntegrityError as exc:
        raise ConflictError(USER_NAME_TAKEN, code="user_name_taken") from exc
    except ConflictError:
        # A repeated create collides on the email too; name the real cause.
        _check_user_name_free(directory, directory_user.user_name)
        raise
    return directory_user


def _create_with_new_person(
    directory_user: DirectoryUser, along, check: ChainCheck | None
) -> bool:
    """The usual create, in one statement: a new person and their directory user.

    False, with nothing written, when the person is not simply new: out of
    scope, without an email, or with an address already in use, which may
    be a conflict or an archived namesake coming back.
    """
    email = _email_for(directory_user)
    simple = directory_user.active and not directory_user.directory.group_scope_enabled
    if not (simple and email):
        if check is not None:
            raise ChainCheckFailed
        return False
    directory = directory_user.directory
    references = (
        directory_user.manager_ref or directory_user.department or directory_user.title
    )
    # Without references of their own, the person can change only the links
    # of whoever already names them as manager: the statement asks.
    probe = None
    if not references:
        probe = manager_named_probe(
            directory_id=directory.pk,
            email=email,
            external_id=directory_user.external_id,
        )
    try:
        user = user_create_linked(
            organization=directory.organization,
            email=email,
            first_name=directory_user.first_name,
            last_name=directory_user.last_name,
            source=User.Source.DIRECTORY,
            actor=directory.actor_label,
            linked=[(directory_user, "user"), *((row, None) for row in along)],
            check=check,
            links_probe=probe,
        )
    except IntegrityError as exc:
        raise ConflictError(USER_NAME_TAKEN, code="user_name_taken") from exc
    return user is not None


def _provision_new(directory_user: DirectoryUser) -> User | None:
    """The person for a directory user not stored yet, or None when out of scope."""
    if not directory_user.active or directory_user.directory.group_scope_enabled:
        # A new directory user belongs to no group yet, so a scope excludes it.
        return None
    email = _email_for(directory_user)
    if not email:
        return None
    return _adopt_or_create(directory_user, email)


def directory_user_update(
    *, directory_user: DirectoryUser, record: Record
) -> DirectoryUser:
    """Replace what the directory says about a user, then apply the rules."""
    fields = _fields(record)
    if fields["user_name"].lower() != directory_user.user_name.lower():
        _check_user_name_free(
            directory_user.directory, fields["user_name"], exclude=directory_user
        )

    references = _references(directory_user)
    for name, value in fields.items():
        setattr(directory_user, name, value)
    try:
        with transaction.atomic():
            directory_user.save()
            directory_user_reconcile(directory_user=directory_user)
            if directory_user.user_id and _references(directory_user) != references:
                # A new manager, department or title changes no column of the
                # person, so no service asks for link resolution; ask here.
                links_request_on_commit(
                    organization_id=directory_user.directory.organization_id,
                    user_ids=[directory_user.user_id],
                )
    except IntegrityError as exc:
        raise ConflictError(USER_NAME_TAKEN, code="user_name_taken") from exc
    return directory_user


def _references(directory_user: DirectoryUser) -> tuple[str, str, str]:
    return (directory_user.manager_ref, directory_user.department, directory_user.title)


def directory_user_delete(*, directory_user: DirectoryUser) -> None:
    """Forget a directory user as the IdP asked; the person is archived, not deleted.

    The row stays (with its link) so the history reads and a later create of
    the same person by email finds the archived account again.
    """
    with transaction.atomic():
        directory_user.deleted_at = timezone.now()
        directory_user.active = False
        directory_user.save(update_fields=["deleted_at", "active", "updated_at"])
        directory_user.memberships.all().delete()
        directory_user_reconcile(directory_user=directory_user)


def directory_user_in_scope(directory_user: DirectoryUser) -> bool:
    """Say whether the directory grants this user access to Progression."""
    if not directory_user.active or directory_user.deleted_at is not None:
        return False
    directory = directory_user.directory
    if not directory.group_scope_enabled:
        return True
    return directory_user.memberships.filter(
        group__in=directory.scope_groups.all()
    ).exists()


def directory_user_reconcile(*, directory_user: DirectoryUser) -> User | None:
    """Make the linked person match the directory user; the rule set itself."""
    directory = directory_user.directory
    actor = directory.actor_label
    user = directory_user.user
    plan = person_plan(
        in_scope=directory_user_in_scope(directory_user),
        email=_email_for(directory_user),
        first_name=directory_user.first_name,
        last_name=directory_user.last_name,
        person=user,
    )

    if plan.action == PLAN_ARCHIVE:
        user_archive(user=user, reason=_archive_reason(directory_user), actor=actor)
        return user
    if plan.action == PLAN_NOTHING:
        return user
    if plan.action == PLAN_CREATE:
        user = _adopt_or_create(directory_user, plan.email)
        directory_user.user = user
        directory_user.save(update_fields=["user", "updated_at"])
        return user
    if "email" in plan.changes:
        _check_email_available(directory_user, plan.changes["email"])
    user_update(user=user, actor=actor, **plan.changes)
    if plan.reactivate:
        user_reactivate(user=user, actor=actor)
    return user


PLAN_NOTHING = "nothing"
PLAN_CREATE = "create"
PLAN_UPDATE = "update"
PLAN_ARCHIVE = "archive"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the rules want done to the person a directory user describes."""

    action: str
    # For a create: the address to create (or find) the person with.
    email: str = ""
    # For an update: first_name, last_name and email, where they differ.
    changes: dict[str, str] = dataclasses.field(default_factory=dict)
    reactivate: bool = False

    @property
    def unchanged(self) -> bool:
        return self.action == PLAN_NOTHING or (
            self.action == PLAN_UPDATE and not self.changes and not self.reactivate
        )


def person_plan(
    *, in_scope: bool, email: str, first_name: str, last_name: str, person
) -> Plan:
    """Decide create, update, archive, reactivate or nothing; no database access.

    `person` is the linked person or None. Push and pull both decide here; a
    SCIM request applies the plan one person at a time, a sync in bulk.
    Whether the address is free is for the caller to check, since only it
    knows what it has already loaded.
    """
    if not in_scope:
        if person is not None and person.status == User.Status.ACTIVE:
            return Plan(PLAN_ARCHIVE)
        return Plan(PLAN_NOTHING)
    if person is None:
        # Without an address the directory user is kept as received and shown
        # as pending in the portal; provisioned once the directory sends one.
        return Plan(PLAN_CREATE, email=email) if email else Plan(PLAN_NOTHING)
    changes = {}
    if first_name.strip() != person.first_name:
        changes["first_name"] = first_name
    if last_name.strip() != person.last_name:
        changes["last_name"] = last_name
    if email and email.lower() != person.email.lower():
        changes["email"] = email
    return Plan(
        PLAN_UPDATE,
        changes=changes,
        reactivate=person.status == User.Status.ARCHIVED,
    )


def _archive_reason(directory_user: DirectoryUser) -> str:
    if directory_user.deleted_at is not None:
        return REASON_DELETED
    if not directory_user.active:
        return REASON_INACTIVE
    return REASON_OUT_OF_SCOPE


def _email_for(directory_user: DirectoryUser) -> str:
    return person_email(email=directory_user.email, user_name=directory_user.user_name)


def person_email(*, email: str, user_name: str) -> str:
    """The person's address: the directory's email, else a userName that is one."""
    if email:
        return email
    if "@" in user_name:
        return user_name
    return ""


def _check_email_available(directory_user: DirectoryUser, email: str) -> User | None:
    """Refuse an email someone else holds; return an archived namesake to adopt."""
    holder = User.objects.filter(email__iexact=email.strip()).first()
    if holder is None or holder.pk == directory_user.user_id:
        return None
    same_organization = (
        holder.organization_id == directory_user.directory.organization_id
    )
    linked_elsewhere = (
        DirectoryUser.objects.filter(user=holder, deleted_at__isnull=True)
        .exclude(pk=directory_user.pk)
        .exists()
    )
    if (
        same_organization
        and holder.status == User.Status.ARCHIVED
        and not linked_elsewhere
        and directory_user.user_id is None
    ):
        return holder
    raise ConflictError(EMAIL_TAKEN, code="email_taken")


def _adopt_or_create(directory_user: DirectoryUser, email: str) -> User:
    """Create the person, or bring back the archived one who has this email."""
    directory = directory_user.directory
    actor = directory.actor_label
    try:
        return user_create(
            organization=directory.organization,
            email=email,
            first_name=directory_user.first_name,
            last_name=directory_user.last_name,
            source=User.Source.DIRECTORY,
            actor=actor,
        )
    except ConflictError:
        namesake = _check_email_available(directory_user, email)
        if namesake is None:
            raise

    user_update(
        user=namesake,
        actor=actor,
        first_name=directory_user.first_name,
        last_name=directory_user.last_name,
    )
    user_reactivate(user=namesake, actor=actor)
    logger.info(
        "directory user linked to archived person",
        extra={"directory_id": directory.pk, "user_id": namesake.pk},
    )
    return namesake


def group_members_reconcile(*, group: DirectoryGroup, directory_user_ids) -> None:
    """Apply the rules to users whose membership of `group` just changed.

    Membership matters only when the group is one the directory is scoped to.
    """
    directory = group.directory
    if not directory.group_scope_enabled:
        return
    if not directory.scope_groups.filter(pk=group.pk).exists():
        return
    users = DirectoryUser.objects.filter(
        directory=directory, pk__in=list(directory_user_ids)
    ).select_related("directory", "user")
    for directory_user in users:
        directory_user_reconcile(directory_user=directory_user)


def directory_reconcile(*, directory: Directory) -> None:
    """Apply the rules to every user of a directory, after its scope changed."""
    users = (
        DirectoryUser.objects.filter(directory=directory)
        .select_related("directory", "user")
        .order_by("pk")
    )
    for directory_user in users.iterator(chunk_size=500):
        try:
            with transaction.atomic():
                directory_user_reconcile(directory_user=directory_user)
        except (ConflictError, ValidationFailedError) as exc:
            # One person's bad data must not block everyone else's access.
            logger.warning(
                "directory user not reconciled: %s",
                exc.code,
                extra={
                    "directory_id": directory.pk,
                    "directory_user_id": directory_user.pk,
                },
            )
