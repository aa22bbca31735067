"""The reconcile phase: walk the staged records in key order, a chunk at a time.

Each chunk is applied in its own transaction and asks for link resolution of
the people it touched; directory users no longer listed are archived last.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Upper

from directory.models import Directory, DirectoryUser, SyncRun, SyncStagedRecord
from directory.sync._common import CHUNK, Progress, _links_request
from directory.sync.apply import chunk_apply, unlisted_archive
from directory.sync.safeguard import hold_check


def records_reconcile(
    run: SyncRun, directory: Directory, progress: Progress | None
) -> str:
    """Apply the staged records, archive the unlisted; return the run's state."""
    run.phase = SyncRun.Phase.RECONCILING
    SyncRun.objects.filter(pk=run.pk).update(phase=run.phase)
    live = DirectoryUser.objects.filter(directory=directory, deleted_at__isnull=True)
    staged = SyncStagedRecord.objects.filter(run=run)
    listed = Exists(staged.filter(key=Upper(OuterRef("user_name"))))
    listed_inactive = Exists(
        staged.filter(key=Upper(OuterRef("user_name")), active=False)
    )

    held = hold_check(run, directory, live, listed, listed_inactive)
    last_key = ""
    while True:
        window = staged.filter(key__gt=last_key).order_by("key", "id")[:CHUNK]
        rows = list(window.values_list("key", "digest", "fields"))
        if not rows:
            break
        last_key = rows[-1][0]
        with transaction.atomic():
            touched = chunk_apply(
                run, directory, _named_by(live, rows[0][0], last_key), rows, held
            )
            _links_request(directory, touched)
        run.processed += len(rows)
        SyncRun.objects.filter(pk=run.pk).update(processed=run.processed)
        if progress is not None:
            progress(run)

    unlisted_archive(run, directory, live.filter(~listed), held)
    run.save()
    return SyncRun.State.AWAITING_APPROVAL if held else SyncRun.State.SUCCEEDED


def _named_by(live, first_key: str, last_key: str):
    """The directory users whose key falls in a chunk's range of staged keys.

    A range scan of the directory's userName index, with two parameters
    however many keys the chunk holds; users in the range that the chunk does
    not name are the ones no longer listed, and are left to that pass.
    """
    return live.annotate(key=Upper("user_name")).filter(
        key__gte=first_key, key__lte=last_key
    )
