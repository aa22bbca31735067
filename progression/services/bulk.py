"""Set-based forms of the people services, and the row writers they use.

They serve syncs that change thousands of people at once. Each applies the
same validation as its single form, writes in a few statements whatever the
number of people, and still records one audit event per person changed.
Inputs that the single form would refuse come back as the error, in the
input's position, and change nothing.
"""

import logging

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from progression.errors import ConflictError, ProgressionError, ValidationFailedError
from progression.models import AuditEvent, Organization, User
from progression.services._common import (
    _audit_event,
    _changed,
    _clean_email,
    _links_changed,
    _set_unusable_password,
)
from progression.services.audit import Actor
from progression.services.messages import EMAIL_TAKEN, LAST_ADMIN

logger = logging.getLogger(__name__)

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
