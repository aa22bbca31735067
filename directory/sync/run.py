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

This module opens, runs and finishes a run; the phases live beside it:
`fetch` stages the provider's records, `reconcile` walks them, `apply` writes
what the rules decide, and `safeguard` holds a run that would archive too
many people.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from billing.entitlements import entitlement
from directory.connectors import ConnectorError
from directory.models import Directory, SyncRun
from directory.sync._common import Progress
from directory.sync.fetch import records_fetch, records_unstage
from directory.sync.reconcile import records_reconcile
from progression.services.audit import audit_record

logger = logging.getLogger(__name__)

# A run still marked running after the task time limit was cut short.
STALE_AFTER = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)

NOT_A_PULL_DIRECTORY = "Only HR-system directories are synced."
RUN_INTERRUPTED = "The sync was interrupted before it finished."
INTERNAL_ERROR = "The sync failed on our side; it will be tried again."


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
        records_fetch(run, directory, progress)
    except ConnectorError as exc:
        records_unstage(run)
        if exc.needs_attention:
            _needs_attention(directory, exc.message)
        logger.warning(
            "sync fetch failed: %s",
            exc.code,
            extra={"directory_id": directory.pk, "sync_run_id": run.pk},
        )
        return _finish(run, SyncRun.State.FAILED, exc.code, exc.message)
    except (DatabaseError, OSError):
        records_unstage(run)
        logger.exception("sync fetch failed", extra={"sync_run_id": run.pk})
        return _finish(run, SyncRun.State.FAILED, "internal_error", INTERNAL_ERROR)

    try:
        state = records_reconcile(run, directory, progress)
    except DatabaseError:
        logger.exception("sync reconcile failed", extra={"sync_run_id": run.pk})
        _finish(run, SyncRun.State.FAILED, "internal_error", INTERNAL_ERROR)
        raise
    finally:
        records_unstage(run)
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
