"""Applying records: what the provisioning rules decide, written in bulk.

A chunk's decisions are gathered first, then written through the set-based
people services, one audit event per person changed.
"""

import json
from collections import namedtuple

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from directory import provisioning
from directory.models import Directory, DirectoryUser, SyncRun
from directory.sync._common import CHUNK, _links_request, _problem
from progression.errors import ConflictError, ProgressionError
from progression.models import User
from progression.services.bulk import (
    model_rows_insert,
    model_rows_write,
    users_archive_bulk,
    users_create_bulk,
    users_reactivate_bulk,
    users_update_bulk,
)

# The fields of a directory user that a record sets.
RECORD_FIELDS = (
    "user_name",
    "email",
    "first_name",
    "last_name",
    "active",
    "external_id",
    "manager_ref",
    "department",
    "title",
    "attributes",
)


# What the comparison of an unchanged record reads: a directory user's own
# columns and its person's, never the raw attributes.
_Stored = namedtuple(
    "_Stored",
    "pk digest user_name email first_name last_name active user_id person",
)
_Person = namedtuple("_Person", "status email first_name last_name")
_STORED_COLUMNS = (
    "pk",
    "record_digest",
    "user_name",
    "email",
    "first_name",
    "last_name",
    "active",
    "user_id",
    "user__status",
    "user__email",
    "user__first_name",
    "user__last_name",
)


def _unchanged(stored: _Stored) -> bool:
    """Whether the rules want nothing done for a directory user as it stands."""
    plan = provisioning.person_plan(
        in_scope=stored.active,
        email=provisioning.person_email(email=stored.email, user_name=stored.user_name),
        first_name=stored.first_name,
        last_name=stored.last_name,
        person=stored.person,
    )
    return plan.unchanged


def chunk_apply(run, directory, chunk_users, rows, held) -> list[int]:
    """Apply one chunk of staged records; returns the people whose links may move.

    A record whose digest matches what was last applied, for a person who
    already matches it, is counted unchanged from a few columns; only the
    others are decoded and loaded whole.
    """
    stored = {}
    for values in chunk_users.values_list(*_STORED_COLUMNS):
        *own, status, email, first_name, last_name = values
        person = (
            None if own[7] is None else _Person(status, email, first_name, last_name)
        )
        row = _Stored(*own, person)
        stored[row.user_name.upper()] = row
    todo, seen = [], set()
    for key, digest, raw in rows:
        if key in seen:
            # Listed twice by the provider: the first listing counts.
            continue
        seen.add(key)
        row = stored.get(key)
        if row is not None and row.pk in held:
            continue
        if row is not None and row.digest == digest and _unchanged(row):
            run.unchanged += 1
            continue
        todo.append((digest, json.loads(raw), row))

    loaded = DirectoryUser.objects.select_related("user").in_bulk(
        [row.pk for *_, row in todo if row is not None]
    )
    work = _Work(directory)
    for digest, fields, row in todo:
        if row is None:
            directory_user = DirectoryUser(
                directory=directory, record_digest=digest, **fields
            )
            work.new.append(directory_user)
            work.plan(directory_user, fields)
            continue
        directory_user = loaded[row.pk]
        differs = directory_user.record_digest != digest or any(
            getattr(directory_user, f) != fields[f] for f in RECORD_FIELDS
        )
        if not work.plan(directory_user, fields, differs=differs):
            run.unchanged += 1
            continue
        for name in RECORD_FIELDS:
            setattr(directory_user, name, fields[name])
        directory_user.record_digest = digest
        if differs:
            work.changed_directory_users.append(directory_user)
    return work.apply(run)


class _Work:
    """What one chunk will write, gathered before a single statement is sent."""

    def __init__(self, directory: Directory):
        self.directory = directory
        self.actor = directory.actor_label
        self.new: list[DirectoryUser] = []
        self.changed_directory_users: list[DirectoryUser] = []
        self.creates: list[tuple[DirectoryUser, str]] = []
        self.updates: list[tuple[DirectoryUser, dict]] = []
        self.reactivations: list[DirectoryUser] = []
        self.archives: list[DirectoryUser] = []

    def plan(self, directory_user: DirectoryUser, fields: dict, *, differs=True):
        """Note what the rules want for this person; False when nothing at all."""
        plan = provisioning.person_plan(
            in_scope=fields["active"],
            email=provisioning.person_email(
                email=fields["email"], user_name=fields["user_name"]
            ),
            first_name=fields["first_name"],
            last_name=fields["last_name"],
            person=directory_user.user,
        )
        if plan.unchanged and not differs:
            return False
        if plan.action == provisioning.PLAN_ARCHIVE:
            self.archives.append(directory_user)
        elif plan.action == provisioning.PLAN_CREATE:
            self.creates.append((directory_user, plan.email))
        elif plan.action == provisioning.PLAN_UPDATE:
            if plan.changes:
                self.updates.append((directory_user, plan.changes))
            if plan.reactivate:
                self.reactivations.append(directory_user)
        return True

    def apply(self, run: SyncRun) -> list[int]:
        touched = self._create_people(run)
        changing = {du.pk for du in self.changed_directory_users}
        for directory_user, _ in self.creates:
            # A stored directory user that gets its person now needs the link.
            if directory_user.pk is not None and directory_user.user_id:
                if directory_user.pk not in changing:
                    self.changed_directory_users.append(directory_user)
        model_rows_insert(model=DirectoryUser, rows=self.new)
        now = timezone.now()
        for directory_user in self.changed_directory_users:
            directory_user.updated_at = now
        model_rows_write(
            model=DirectoryUser,
            rows=self.changed_directory_users,
            fields=[*RECORD_FIELDS, "record_digest", "user", "updated_at"],
        )

        results = users_update_bulk(
            changes=[(du.user, changes) for du, changes in self.updates],
            actor=self.actor,
        )
        # Counted by identity: directory users inserted here have no key.
        updated = set()
        for (directory_user, _), result in zip(self.updates, results, strict=True):
            if isinstance(result, ProgressionError):
                _problem(run, directory_user.user_name, result)
            else:
                updated.add(id(directory_user))
        users_reactivate_bulk(
            users=[du.user for du in self.reactivations], actor=self.actor
        )
        run.reactivated += len(self.reactivations)
        archived = self._archive(
            run, [(du, provisioning.REASON_INACTIVE) for du in self.archives]
        )
        # Anything else that changed (a raw manager, department or title, an
        # attribute) counts as an update of the directory's person.
        counted = archived | {id(du) for du in self.reactivations}
        others = {id(du) for du in self.changed_directory_users}
        run.updated += len((updated | others) - counted)
        run.unchanged += sum(1 for du in self.new if du.user_id is None)
        touched += [du.user_id for du in self.changed_directory_users if du.user_id]
        return touched

    def _create_people(self, run: SyncRun) -> list[int]:
        """Create people, or bring back an archived namesake, as `_adopt_or_create`."""
        if not self.creates:
            return []
        holders = _holders([email for _, email in self.creates])
        fresh: list[tuple[DirectoryUser, str]] = []
        for directory_user, email in self.creates:
            holder = holders.get(email.lower())
            if holder is None:
                fresh.append((directory_user, email))
            elif holder.adoptable and holder.organization_id == (
                self.directory.organization_id
            ):
                holder.adoptable = False
                directory_user.user = holder
                self.updates.append(
                    (
                        directory_user,
                        {
                            "first_name": directory_user.first_name,
                            "last_name": directory_user.last_name,
                        },
                    )
                )
                self.reactivations.append(directory_user)
            else:
                _problem(
                    run,
                    directory_user.user_name,
                    ConflictError(provisioning.EMAIL_TAKEN, code="email_taken"),
                )
        results = users_create_bulk(
            organization=self.directory.organization,
            people=[
                {
                    "email": email,
                    "first_name": du.first_name,
                    "last_name": du.last_name,
                }
                for du, email in fresh
            ],
            source=User.Source.DIRECTORY,
            actor=self.actor,
        )
        touched = []
        for (directory_user, _), result in zip(fresh, results, strict=True):
            if isinstance(result, ProgressionError):
                _problem(run, directory_user.user_name, result)
                continue
            directory_user.user = result
            run.created += 1
            touched.append(result.pk)
        return touched

    def _archive(self, run: SyncRun, archives) -> set[int]:
        people = [(du.user, reason) for du, reason in archives]
        results = users_archive_bulk(archives=people, actor=self.actor)
        done = set()
        for (directory_user, _), result in zip(archives, results, strict=True):
            if isinstance(result, ProgressionError):
                _problem(run, directory_user.user_name, result)
            else:
                done.add(id(directory_user))
        run.archived += len(done)
        return done


def _holders(emails: list[str]) -> dict[str, User]:
    """Who holds each address, and whether an archived holder may be adopted.

    An archived person not linked to a live directory user is the same person
    coming back; anyone else holding the address refuses the create.
    """
    users = list(
        User.objects.annotate(email_key=Lower("email")).filter(
            email_key__in={email.lower() for email in emails}
        )
    )
    linked = set(
        DirectoryUser.objects.filter(
            deleted_at__isnull=True, user__in=[user.pk for user in users]
        ).values_list("user_id", flat=True)
    )
    for user in users:
        user.adoptable = user.status == User.Status.ARCHIVED and user.pk not in linked
    return {user.email.lower(): user for user in users}


def unlisted_archive(run, directory, unlisted, held) -> None:
    """Mark directory users the provider no longer lists inactive; archive them."""
    last = 0
    while True:
        chunk = list(
            unlisted.filter(pk__gt=last, active=True)
            .select_related("user")
            .order_by("pk")[:CHUNK]
        )
        if not chunk:
            return
        last = chunk[-1].pk
        chunk = [du for du in chunk if du.pk not in held]
        with transaction.atomic():
            DirectoryUser.objects.filter(pk__in=[du.pk for du in chunk]).update(
                # The digest goes too: the same record listed again must be
                # applied, not skipped as unchanged.
                active=False,
                record_digest="",
                updated_at=timezone.now(),
            )
            work = _Work(directory)
            people = [
                (du, provisioning.REASON_NOT_LISTED)
                for du in chunk
                if du.user is not None and du.user.status == User.Status.ACTIVE
            ]
            work._archive(run, people)
            _links_request(directory, [du.user_id for du in chunk if du.user_id])
