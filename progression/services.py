"""Every write to organisations, people, teams and positions goes through here.

Each service validates its input, refuses what would cross organisations, makes
the change in one transaction and records an audit event for it. Views,
commands, SCIM adapters and tasks call these; none of them writes the models
directly.
"""

import logging
import re
import secrets
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.text import slugify

from progression.errors import (
    ConflictError,
    CrossOrganizationError,
    ProgressionError,
    ValidationFailedError,
)
from progression.models import (
    AuditEvent,
    Organization,
    OrganizationDomain,
    Position,
    Team,
    User,
)
from progression.rows import ChainCheck, ChainedRow, rows_insert_chained
from progression.signals import people_links_changed

logger = logging.getLogger(__name__)

# User-facing messages; tests import these rather than repeating the text.
EMAIL_INVALID = "Enter a valid email address."
EMAIL_TAKEN = "Someone already uses this email address."
NAME_REQUIRED = "Enter a name."
TEAM_NAME_TAKEN = "There is already a team with this name."
POSITION_NAME_TAKEN = "This team already has a position with this name."
TEAM_OTHER_ORGANIZATION = "That team does not belong to this organisation."
POSITION_OTHER_TEAM = "That position does not belong to the person's team."
MANAGER_OTHER_ORGANIZATION = "That manager does not belong to this organisation."
MANAGER_SELF = "A person cannot be their own manager."
MANAGER_LOOP = "That manager reports to this person, which would make a loop."
MANAGER_ARCHIVED = "That manager is archived."
LAST_ADMIN = "An organisation needs at least one active admin."
SLUG_INVALID = "A slug has lowercase letters, digits and hyphens only."
SLUG_TAKEN = "Another organisation already uses this slug."
DOMAIN_INVALID = "Enter a domain such as example.com."
DOMAIN_TAKEN = "Another organisation already uses this email domain."

Actor = User | str | None
_UNSET: Any = object()
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


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


def organization_create(
    *,
    name: str,
    slug: str = "",
    domains: tuple[str, ...] | list[str] = (),
    actor: Actor = "operator",
) -> Organization:
    """Create an organisation with its email domains."""
    name = _clean_name(name)
    slug = (slug or slugify(name))[:60]
    if not _SLUG_RE.match(slug):
        raise ValidationFailedError(SLUG_INVALID, code="slug_invalid")
    if Organization.objects.filter(slug=slug).exists():
        raise ConflictError(SLUG_TAKEN, code="slug_taken")

    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug)
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.created",
            target=organization,
            after={"name": name, "slug": slug},
        )
        for domain in domains:
            organization_domain_add(
                organization=organization, domain=domain, actor=actor
            )
    logger.info("organization created", extra={"organization_id": organization.pk})
    return organization


def organization_domain_add(
    *, organization: Organization, domain: str, actor: Actor
) -> OrganizationDomain:
    """Claim an email domain for an organisation; a domain has one owner."""
    domain = (domain or "").strip().lower().rstrip(".")
    if not _DOMAIN_RE.match(domain):
        raise ValidationFailedError(DOMAIN_INVALID, code="domain_invalid")
    if OrganizationDomain.objects.filter(domain__iexact=domain).exists():
        raise ConflictError(DOMAIN_TAKEN, code="domain_taken")

    with transaction.atomic():
        record = OrganizationDomain.objects.create(
            organization=organization, domain=domain
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="domain.added",
            target=record,
            after={"domain": domain},
        )
    return record


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
    if source not in User.Source.values:
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
    """
    email = _clean_email(email)
    if source not in User.Source.values:
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
    if "person" not in rows_insert_chained(rows, check=check):
        return None
    for row, field in linked:
        if field:
            setattr(row, field, user)

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


def _team_name_taken(organization: Organization, name: str, exclude=None) -> bool:
    teams = Team.objects.annotate(key=Lower(Trim("name"))).filter(
        organization=organization, key=name.lower()
    )
    if exclude is not None:
        teams = teams.exclude(pk=exclude.pk)
    return teams.exists()


def _position_name_taken(team: Team, name: str, exclude=None) -> bool:
    positions = Position.objects.annotate(key=Lower(Trim("name"))).filter(
        team=team, key=name.lower()
    )
    if exclude is not None:
        positions = positions.exclude(pk=exclude.pk)
    return positions.exists()


def team_create(*, organization: Organization, name: str, actor: Actor) -> Team:
    """Create a team; names are unique in an organisation, ignoring case."""
    name = _clean_name(name)
    if _team_name_taken(organization, name):
        raise ConflictError(TEAM_NAME_TAKEN, code="team_name_taken")

    try:
        with transaction.atomic():
            team = Team.objects.create(organization=organization, name=name)
            audit_record(
                organization=organization,
                actor=actor,
                action="team.created",
                target=team,
                after={"name": name},
            )
            _links_changed(organization.pk)
    except IntegrityError as exc:
        raise ConflictError(TEAM_NAME_TAKEN, code="team_name_taken") from exc
    return team


def team_rename(*, team: Team, name: str, actor: Actor) -> Team:
    name = _clean_name(name)
    if name == team.name:
        return team
    if _team_name_taken(team.organization, name, exclude=team):
        raise ConflictError(TEAM_NAME_TAKEN, code="team_name_taken")

    before = team.name
    team.name = name
    with transaction.atomic():
        team.save(update_fields=["name"])
        audit_record(
            organization=team.organization,
            actor=actor,
            action="team.renamed",
            target=team,
            before={"name": before},
            after={"name": name},
        )
        _links_changed(team.organization_id)
    return team


def team_delete(*, team: Team, actor: Actor) -> None:
    """Delete a team and its positions; its members keep their accounts.

    Members are left without a team and position, recorded in the audit event.
    """
    organization = team.organization
    with transaction.atomic():
        members = User.objects.filter(team=team).update(team=None, position=None)
        audit_record(
            organization=organization,
            actor=actor,
            action="team.deleted",
            target=team,
            before={
                "name": team.name,
                "positions": list(team.positions.values_list("name", flat=True)),
                "members": members,
            },
        )
        _links_changed(organization.pk)
        team.delete()


def position_create(*, team: Team, name: str, actor: Actor) -> Position:
    """Create a position in a team; names are unique in a team, ignoring case."""
    name = _clean_name(name)
    if _position_name_taken(team, name):
        raise ConflictError(POSITION_NAME_TAKEN, code="position_name_taken")

    try:
        with transaction.atomic():
            position = Position.objects.create(team=team, name=name)
            audit_record(
                organization=team.organization,
                actor=actor,
                action="position.created",
                target=position,
                after={"name": name, "team": team.name},
            )
            _links_changed(team.organization_id)
    except IntegrityError as exc:
        raise ConflictError(POSITION_NAME_TAKEN, code="position_name_taken") from exc
    return position


def position_rename(*, position: Position, name: str, actor: Actor) -> Position:
    name = _clean_name(name)
    if name == position.name:
        return position
    if _position_name_taken(position.team, name, exclude=position):
        raise ConflictError(POSITION_NAME_TAKEN, code="position_name_taken")

    before = position.name
    position.name = name
    with transaction.atomic():
        position.save(update_fields=["name"])
        audit_record(
            organization=position.team.organization,
            actor=actor,
            action="position.renamed",
            target=position,
            before={"name": before},
            after={"name": name},
        )
        _links_changed(position.team.organization_id)
    return position


def position_delete(*, position: Position, actor: Actor) -> None:
    """Delete a position; the people who held it stay in the team without one."""
    with transaction.atomic():
        holders = User.objects.filter(position=position).update(position=None)
        audit_record(
            organization=position.team.organization,
            actor=actor,
            action="position.deleted",
            target=position,
            before={
                "name": position.name,
                "team": position.team.name,
                "holders": holders,
            },
        )
        _links_changed(position.team.organization_id)
        position.delete()


def sessions_clear_expired() -> int:
    """Delete sessions past their expiry and return how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    if deleted:
        logger.info("expired sessions cleared: %s", deleted)
    return deleted


# Set-based forms of the user services, for syncs that change thousands of
# people at once. Each applies the same validation as its single form, writes
# in a few statements whatever the number of people, and still records one
# audit event per person changed. Inputs that the single form would refuse
# come back as the error, in the input's position, and change nothing.

BulkResult = list[User | ProgressionError]


def _emails_held(emails) -> dict[str, User]:
    """The people who hold these addresses, by lower-cased address."""
    wanted = {email.lower() for email in emails}
    if not wanted:
        return {}
    holders = User.objects.annotate(email_key=Lower("email")).filter(
        email_key__in=wanted
    )
    return {holder.email_key: holder for holder in holders}


def _audit_bulk(events: list[AuditEvent]) -> None:
    model_rows_insert(model=AuditEvent, rows=events)


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


def users_create_bulk(
    *,
    organization: Organization,
    people: list[dict],
    source: str = User.Source.MANUAL,
    actor: Actor = None,
) -> BulkResult:
    """Create many people at once; each dict holds email, first and last name.

    No email is sent. An invalid address, or one that someone (here or in
    another organisation, or earlier in `people`) already uses, is refused.
    """
    if source not in User.Source.values:
        raise ValidationFailedError(f"Unknown source {source!r}.", code="source")
    results: BulkResult = []
    cleaned = []
    for person in people:
        try:
            cleaned.append(_clean_email(person.get("email", "")))
        except ValidationFailedError as exc:
            cleaned.append(exc)
    held = _emails_held(e for e in cleaned if isinstance(e, str))

    new = []
    for person, email in zip(people, cleaned, strict=True):
        if isinstance(email, ProgressionError):
            results.append(email)
            continue
        if email.lower() in held:
            results.append(ConflictError(EMAIL_TAKEN, code="email_taken"))
            continue
        user = User(
            organization=organization,
            email=email,
            first_name=(person.get("first_name") or "").strip(),
            last_name=(person.get("last_name") or "").strip(),
            source=source,
        )
        _set_unusable_password(user)
        held[email.lower()] = user
        new.append(user)
        results.append(user)
    if not new:
        return results
    with transaction.atomic():
        User.objects.bulk_create(new, batch_size=1000)
        snapshot = {"role": User.Role.MEMBER, "status": User.Status.ACTIVE}
        _audit_bulk(
            [
                _audit_event(
                    user,
                    actor,
                    "user.created",
                    None,
                    {
                        "email": user.email,
                        "first_name": user.first_name,
                        "last_name": user.last_name,
                        **snapshot,
                        "team": None,
                        "position": None,
                        "manager": None,
                    },
                )
                for user in new
            ]
        )
        _links_changed(organization.pk, [user.pk for user in new])
    logger.info(
        "users created: %s", len(new), extra={"organization_id": organization.pk}
    )
    return results


def model_rows_insert(*, model, rows: list) -> None:
    """Insert rows whose primary keys nobody needs back, as cheaply as possible.

    PostgreSQL gets them through COPY; other databases through `bulk_create`.
    Defaults and automatic timestamps are filled in as `save()` would.
    """
    from django.db import connection

    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=1000)
        return
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.auto_created) and field.name != "id"
    ]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        field.get_db_prep_save(field.pre_save(row, True), connection)
                        for field in fields
                    ]
                )


def model_rows_write(*, model, rows: list, fields: list[str]) -> None:
    """Write `fields` of each row by primary key: one statement, many parameters.

    Cheaper than `bulk_update`, whose CASE expressions grow with rows times
    fields; the database driver sends the rows in one pipeline.
    """
    if not rows:
        return
    from django.db import connection

    concrete = [model._meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(
        f"{connection.ops.quote_name(field.column)} = %s" for field in concrete
    )
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608
    params = [
        [
            field.get_db_prep_save(getattr(row, field.attname), connection)
            for field in concrete
        ]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


_BULK_FIELDS = ("email", "first_name", "last_name")


def users_update_bulk(*, changes: list[tuple[User, dict]], actor: Actor) -> BulkResult:
    """Change email, first or last name of many people; only what differs is written.

    An address someone else holds, or one given twice in `changes`, is refused
    for that person.
    """
    results: BulkResult = []
    planned = []
    for user, fields in changes:
        unknown = set(fields) - set(_BULK_FIELDS)
        if unknown:
            raise ValidationFailedError(
                f"Cannot change {sorted(unknown)} in bulk.", code="bulk_fields"
            )
        new = {}
        try:
            if "email" in fields:
                new["email"] = _clean_email(fields["email"])
        except ValidationFailedError as exc:
            results.append(exc)
            planned.append(None)
            continue
        for name in ("first_name", "last_name"):
            if name in fields:
                new[name] = (fields[name] or "").strip()
        planned.append(new)
        results.append(user)
    held = _emails_held(n["email"] for n in planned if n and "email" in n)

    changed, events = [], []
    claimed: set[str] = set()
    for index, ((user, _), new) in enumerate(zip(changes, planned, strict=True)):
        if new is None:
            continue
        if "email" in new:
            key = new["email"].lower()
            holder = held.get(key)
            if (holder is not None and holder.pk != user.pk) or key in claimed:
                results[index] = ConflictError(EMAIL_TAKEN, code="email_taken")
                continue
            claimed.add(key)
        before = {name: getattr(user, name) for name in new}
        old, after = _changed(before, new)
        if not after:
            continue
        for name, value in after.items():
            setattr(user, name, value)
        user.updated_at = timezone.now()
        changed.append(user)
        events.append(_audit_event(user, actor, "user.updated", old, after))
    if not changed:
        return results
    with transaction.atomic():
        model_rows_write(model=User, rows=changed, fields=[*_BULK_FIELDS, "updated_at"])
        _audit_bulk(events)
        for organization_id in {user.organization_id for user in changed}:
            _links_changed(
                organization_id,
                [u.pk for u in changed if u.organization_id == organization_id],
            )
    return results


def users_archive_bulk(*, archives: list[tuple[User, str]], actor: Actor) -> BulkResult:
    """Archive many people, each with a reason; archived people stay as they are.

    The organisation's last active admins are refused, as `user_archive`
    refuses its last one.
    """
    results: BulkResult = []
    now = timezone.now()
    leaving = {user.pk for user, _ in archives if user.status == User.Status.ACTIVE}
    admins_left = _admins_left(archives, leaving)

    changed, events = [], []
    for user, reason in archives:
        results.append(user)
        if user.status == User.Status.ARCHIVED:
            continue
        if user.is_admin and not admins_left.get(user.organization_id):
            results[-1] = ValidationFailedError(LAST_ADMIN, code="last_admin")
            continue
        user.status = User.Status.ARCHIVED
        user.archived_at = now
        user.archived_reason = (reason or "").strip()[:200]
        changed.append(user)
        events.append(
            _audit_event(
                user,
                actor,
                "user.archived",
                {"status": User.Status.ACTIVE},
                {"status": User.Status.ARCHIVED, "reason": user.archived_reason},
            )
        )
    _status_write(changed, events)
    return results


def _admins_left(archives, leaving: set[int]) -> dict[int, bool]:
    """Per organisation with an admin in `archives`: does one stay active after?"""
    organizations = {user.organization_id for user, _ in archives if user.is_admin}
    return {
        organization_id: User.objects.filter(
            organization_id=organization_id,
            role=User.Role.ADMIN,
            status=User.Status.ACTIVE,
        )
        .exclude(pk__in=leaving)
        .exists()
        for organization_id in organizations
    }


def users_reactivate_bulk(*, users: list[User], actor: Actor) -> BulkResult:
    """Bring many archived people back: the same accounts, with their history."""
    changed, events = [], []
    for user in users:
        if user.status == User.Status.ACTIVE:
            continue
        user.status = User.Status.ACTIVE
        user.archived_at = None
        user.archived_reason = ""
        changed.append(user)
        events.append(
            _audit_event(
                user,
                actor,
                "user.reactivated",
                {"status": User.Status.ARCHIVED},
                {"status": User.Status.ACTIVE},
            )
        )
    _status_write(changed, events)
    return list(users)


def _status_write(changed: list[User], events: list[AuditEvent]) -> None:
    if not changed:
        return
    with transaction.atomic():
        model_rows_write(
            model=User,
            rows=changed,
            fields=["status", "archived_at", "archived_reason"],
        )
        _audit_bulk(events)
        for organization_id in {user.organization_id for user in changed}:
            _links_changed(
                organization_id,
                [u.pk for u in changed if u.organization_id == organization_id],
            )
    logger.info("user statuses changed: %s", len(changed))
