"""One pull sync of an HR directory: read everything, then apply it in bulk.

A run has two phases:

1. **Fetch.** The connector streams the provider's people page by page; each
   page is normalised and staged in `SyncStagedRecord` rows at once, so the
   worker holds one page at a time whatever the size of the directory. A
   fetch that fails part way deletes what it staged: nothing changes.
2. **Reconcile.** The staged records are walked in key order, a chunk at a
   time. For each chunk the directory users they describe are loaded in one
   query and `provisioning.person_plan` (the rule set SCIM uses too) decides
   what happens to each person; the decisions are written through the
   set-based user services, one audit event per person changed. A record
   identical to its directory user, whose person already matches, costs only
   the comparison. Directory users no longer listed are archived last.

Before any write the run counts the people it would archive. Above the
directory's threshold (a share of its active people, or a number of people;
either is enough) it archives no one, applies everything else, and waits
for an admin's approval with the list of who would go. An approval starts a
new run that may archive the people on that list.

A run ends by asking for link resolution (manager, team, position) of the
people it touched.
"""

import hashlib
import json
import logging
from collections import namedtuple
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from billing.entitlements import entitlement
from directory import provisioning
from directory.connectors import ConnectorError, connector_build
from directory.links_queue import links_request_on_commit
from directory.models import (
    Directory,
    DirectoryUser,
    Provider,
    SyncRun,
    SyncStagedRecord,
)
from progression.errors import (
    ConflictError,
    ProgressionError,
    ValidationFailedError,
)
from progression.models import User
from progression.services.audit import audit_record
from progression.services.bulk import (
    model_rows_insert,
    model_rows_write,
    users_archive_bulk,
    users_create_bulk,
    users_reactivate_bulk,
    users_update_bulk,
)

logger = logging.getLogger(__name__)

CHUNK = 1000
# How many refused records a run keeps the details of.
PROBLEMS_KEPT = 50
# A run still marked running after the task time limit was cut short.
STALE_AFTER = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)

NOT_A_PULL_DIRECTORY = "Only HR-system directories are synced."
RUN_INTERRUPTED = "The sync was interrupted before it finished."
INTERNAL_ERROR = "The sync failed on our side; it will be tried again."
HELD_FOR_APPROVAL = (
    "This sync would archive %(count)s of %(active)s active people, above the "
    "directory's threshold; no one was archived. An admin can approve it."
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

Progress = Callable[[SyncRun], None]


def sync_start(
    *, directory: Directory, trigger: str, approves: SyncRun | None = None
) -> SyncRun | None:
    """Open a run for the directory, or return None while another one runs.

    The directory row is locked while the check and the insert happen, so two
    workers never open two runs of one directory.
    """
    now = timezone.now()
    with transaction.atomic():
        Directory.objects.select_for_update().filter(pk=directory.pk).first()
        running = SyncRun.objects.filter(
            directory=directory, state=SyncRun.State.RUNNING
        )
        running.filter(started_at__lt=now - STALE_AFTER).update(
            state=SyncRun.State.FAILED,
            finished_at=now,
            error_code="interrupted",
            error_message=RUN_INTERRUPTED,
        )
        if running.exists():
            return None
        return SyncRun.objects.create(
            directory=directory, trigger=trigger, approves=approves
        )


def directory_sync(
    *,
    directory: Directory,
    trigger: str,
    approves: SyncRun | None = None,
    progress: Progress | None = None,
) -> SyncRun | None:
    """Sync a directory now; None when a run of it is already going on."""
    run = sync_start(directory=directory, trigger=trigger, approves=approves)
    if run is None:
        return None
    return sync_run_execute(run=run, progress=progress)


def sync_run_execute(*, run: SyncRun, progress: Progress | None = None) -> SyncRun:
    """Fetch, reconcile and finish an open run; every outcome is recorded on it."""
    directory = Directory.objects.select_related("organization").get(
        pk=run.directory_id
    )
    answer = entitlement(directory.organization_id)
    if not answer.available:
        return _finish(run, SyncRun.State.SKIPPED, answer.reason, answer.message)
    if not directory.is_pull:
        return _finish(
            run, SyncRun.State.FAILED, "not_pull_directory", NOT_A_PULL_DIRECTORY
        )

    try:
        _fetch(run, directory, progress)
    except ConnectorError as exc:
        _unstage(run)
        if exc.needs_attention:
            _needs_attention(directory, exc.message)
        logger.warning(
            "sync fetch failed: %s",
            exc.code,
            extra={"directory_id": directory.pk, "sync_run_id": run.pk},
        )
        return _finish(run, SyncRun.State.FAILED, exc.code, exc.message)
    except (DatabaseError, OSError):
        _unstage(run)
        logger.exception("sync fetch failed", extra={"sync_run_id": run.pk})
        return _finish(run, SyncRun.State.FAILED, "internal_error", INTERNAL_ERROR)

    try:
        state = _reconcile(run, directory, progress)
    except DatabaseError:
        logger.exception("sync reconcile failed", extra={"sync_run_id": run.pk})
        _finish(run, SyncRun.State.FAILED, "internal_error", INTERNAL_ERROR)
        raise
    finally:
        _unstage(run)
    if directory.state == Directory.State.ATTENTION:
        # A complete read proves the credentials work again.
        Directory.objects.filter(pk=directory.pk).update(
            state=Directory.State.ACTIVE, attention_message=""
        )
    SyncRun.objects.filter(
        directory=directory,
        state=SyncRun.State.AWAITING_APPROVAL,
        pk__lt=run.pk,
    ).update(state=SyncRun.State.SUPERSEDED)
    message = run.error_message if state == SyncRun.State.AWAITING_APPROVAL else ""
    return _finish(run, state, run.error_code, message)


def _finish(run: SyncRun, state: str, code: str = "", message: str = "") -> SyncRun:
    run.state = state
    run.phase = SyncRun.Phase.DONE
    run.error_code = code or ""
    run.error_message = (message or "")[:500]
    run.finished_at = timezone.now()
    run.save()
    logger.info(
        "sync finished: %s",
        state,
        extra={"sync_run_id": run.pk, "directory_id": run.directory_id},
    )
    return run


def _needs_attention(directory: Directory, message: str) -> None:
    with transaction.atomic():
        Directory.objects.filter(pk=directory.pk).update(
            state=Directory.State.ATTENTION, attention_message=message[:500]
        )
        audit_record(
            organization=directory.organization,
            actor=directory.actor_label,
            action="directory.needs_attention",
            target=directory,
            after={"message": message[:500]},
        )
    directory.state = Directory.State.ATTENTION
    logger.error("directory needs attention", extra={"directory_id": directory.pk})


def connector_for(directory: Directory):
    """The directory's connector; rotated tokens are saved the moment they come.

    Gusto's refresh tokens are single-use: a new pair must be stored even if
    the sync that obtained it fails later, so it is written at once, outside
    any transaction of the run.
    """

    def save(credentials: dict) -> None:
        Directory.objects.filter(pk=directory.pk).update(
            credentials=json.dumps(credentials)
        )
        directory.credentials = json.dumps(credentials)

    options = {}
    if directory.provider == Provider.GOOGLE_WORKSPACE:
        options["groups"] = [group["id"] for group in directory.sync_groups]
    return connector_build(
        provider=directory.provider,
        credentials=directory.credentials_data,
        base_url=directory.api_base_url or None,
        options=options,
        on_credentials_change=save,
    )


def _fetch(run: SyncRun, directory: Directory, progress: Progress | None) -> None:
    # Staged as (key, digest, active, fields as JSON text): the text is both
    # what the digest is taken of and what is written.
    batch: list[tuple[str, str, bool, str]] = []

    def flush():
        _stage(run, batch)
        run.fetched += len(batch)
        SyncRun.objects.filter(pk=run.pk).update(fetched=run.fetched)
        batch.clear()
        if progress is not None:
            progress(run)

    with connector_for(directory) as connector:
        for record in connector.fetch():
            try:
                fields = provisioning.record_fields(record)
            except ValidationFailedError as exc:
                _problem(run, record.user_name, exc)
                continue
            text = _canonical(fields)
            batch.append(
                (fields["user_name"].upper(), _digest(text), fields["active"], text)
            )
            if len(batch) >= CHUNK:
                flush()
    flush()


def _canonical(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _stage(run: SyncRun, batch: list[tuple[str, str, bool, str]]) -> None:
    """Write one page of staged records; on PostgreSQL with COPY, the cheapest way."""
    if not batch:
        return
    if connection.vendor != "postgresql":
        SyncStagedRecord.objects.bulk_create(
            SyncStagedRecord(
                run=run, key=key, digest=digest, active=active, fields=text
            )
            for key, digest, active, text in batch
        )
        return
    table = SyncStagedRecord._meta.db_table
    with connection.cursor() as cursor:
        columns = "run_id, key, digest, active, fields"
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for key, digest, active, text in batch:
                copy.write_row((run.pk, key, digest, active, text))


def _unstage(run: SyncRun) -> None:
    SyncStagedRecord.objects.filter(run=run).delete()


def _problem(run: SyncRun, user_name: str, exc: ProgressionError) -> None:
    run.failed += 1
    if len(run.problems) < PROBLEMS_KEPT:
        run.problems.append(
            {
                "user_name": str(user_name)[:255],
                "code": exc.code,
                "message": exc.message,
            }
        )


def _reconcile(run: SyncRun, directory: Directory, progress: Progress | None) -> str:
    run.phase = SyncRun.Phase.RECONCILING
    SyncRun.objects.filter(pk=run.pk).update(phase=run.phase)
    live = DirectoryUser.objects.filter(directory=directory, deleted_at__isnull=True)
    staged = SyncStagedRecord.objects.filter(run=run)
    listed = Exists(staged.filter(key=Upper(OuterRef("user_name"))))
    listed_inactive = Exists(
        staged.filter(key=Upper(OuterRef("user_name")), active=False)
    )

    held = _hold_check(run, directory, live, listed, listed_inactive)
    last_key = ""
    while True:
        window = staged.filter(key__gt=last_key).order_by("key", "id")[:CHUNK]
        rows = list(window.values_list("key", "digest", "fields"))
        if not rows:
            break
        last_key = rows[-1][0]
        with transaction.atomic():
            touched = _apply_chunk(
                run, directory, _named_by(live, rows[0][0], last_key), rows, held
            )
            _links_request(directory, touched)
        run.processed += len(rows)
        SyncRun.objects.filter(pk=run.pk).update(processed=run.processed)
        if progress is not None:
            progress(run)

    _archive_unlisted(run, directory, live.filter(~listed), held)
    run.save()
    return SyncRun.State.AWAITING_APPROVAL if held else SyncRun.State.SUCCEEDED


def _links_request(directory: Directory, user_ids: list[int]) -> None:
    """Ask for link resolution of a chunk's people once the chunk commits.

    Asked per chunk, so that a run never holds the ids of everyone it touched;
    the requests coalesce into one run per organisation.
    """
    if user_ids:
        links_request_on_commit(
            organization_id=directory.organization_id, user_ids=user_ids
        )


def _hold_check(run, directory, live, listed, listed_inactive) -> set[int]:
    """The directory users whose archiving waits for approval (empty: none wait)."""
    leaving = live.filter(user__status=User.Status.ACTIVE).filter(
        ~listed | listed_inactive
    )
    approved = set()
    if run.approves_id is not None:
        approved = {
            entry["directory_user_id"] for entry in run.approves.pending_archive
        }
        leaving = leaving.exclude(pk__in=approved)
    # Counted as two joins the database can hash; the list is read only when
    # the run is held.
    active_live = live.filter(user__status=User.Status.ACTIVE)
    if run.approves_id is not None:
        active_live = active_live.exclude(pk__in=approved)
    count = (
        active_live.filter(~listed).count()
        + active_live.filter(listed_inactive).count()
    )
    if not count:
        return set()
    active = live.filter(user__status=User.Status.ACTIVE).count()
    over_share = count * 100 > active * directory.archive_threshold_percent
    if not over_share and count <= directory.archive_threshold_people:
        return set()

    run.pending_archive = [
        {
            "directory_user_id": pk,
            "user_id": user_id,
            "email": email,
            "name": f"{first} {last}".strip(),
        }
        for pk, user_id, email, first, last in leaving.order_by(
            "user__last_name", "user__first_name", "pk"
        ).values_list(
            "pk", "user_id", "user__email", "user__first_name", "user__last_name"
        )
    ]
    run.error_code = "archive_held"
    run.error_message = HELD_FOR_APPROVAL % {"count": count, "active": active}
    logger.warning(
        "sync archive held for approval: %s of %s",
        count,
        active,
        extra={"directory_id": directory.pk, "sync_run_id": run.pk},
    )
    return {entry["directory_user_id"] for entry in run.pending_archive}


def _named_by(live, first_key: str, last_key: str):
    """The directory users whose key falls in a chunk's range of staged keys.

    A range scan of the directory's userName index, with two parameters
    however many keys the chunk holds; users in the range that the chunk does
    not name are the ones no longer listed, and are left to that pass.
    """
    return live.annotate(key=Upper("user_name")).filter(
        key__gte=first_key, key__lte=last_key
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


def _apply_chunk(run, directory, chunk_users, rows, held) -> list[int]:
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


def _archive_unlisted(run, directory, unlisted, held) -> None:
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
