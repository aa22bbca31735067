"""The fetch phase: read the provider's people and stage them, a page at a time.

Each page is normalised and written to `SyncStagedRecord` rows at once, so
the worker holds one page whatever the size of the directory.
"""

import hashlib
import json

from django.db import connection

from directory import provisioning
from directory.connectors import connector_build
from directory.models import Directory, Provider, SyncRun, SyncStagedRecord
from directory.sync._common import CHUNK, Progress, _problem
from progression.errors import ValidationFailedError


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


def records_fetch(
    run: SyncRun, directory: Directory, progress: Progress | None
) -> None:
    """Stage every record the provider lists; a refused one is noted on the run."""
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


def records_unstage(run: SyncRun) -> None:
    """Delete what the run staged, whether it finished or failed."""
    SyncStagedRecord.objects.filter(run=run).delete()
