from django.core.management.base import CommandError

from directory.models import Directory, SyncRun
from directory.sync import directory_sync
from progression.management.base import OperatorCommand

NOT_FOUND = "No directory has the id {pk}."
NOT_PULL = "Directory {pk} is a SCIM directory; its identity provider pushes changes."
BUSY = "Another sync of directory {pk} is running; try again when it ends."
BAR_WIDTH = 30


class Command(OperatorCommand):
    help = "Run one pull sync of an HR directory now, showing its progress."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("directory_id", type=int)

    def run(self, *, directory_id, json, **options):
        directory = Directory.objects.filter(pk=directory_id).first()
        if directory is None:
            raise CommandError(NOT_FOUND.format(pk=directory_id))
        if not directory.is_pull:
            raise CommandError(NOT_PULL.format(pk=directory_id))

        run = directory_sync(
            directory=directory,
            trigger=SyncRun.Trigger.OPERATOR,
            progress=None if json else self._progress,
        )
        if run is None:
            raise CommandError(BUSY.format(pk=directory_id))
        if not json:
            self.stderr.write("")
        data = {
            "run": run.pk,
            "directory": directory.pk,
            "state": run.state,
            "fetched": run.fetched,
            "created": run.created,
            "updated": run.updated,
            "archived": run.archived,
            "reactivated": run.reactivated,
            "unchanged": run.unchanged,
            "failed": run.failed,
            "error_code": run.error_code,
            "error_message": run.error_message,
            "pending_archive": len(run.pending_archive),
            "duration_s": round(run.duration.total_seconds(), 3),
        }
        summary = (
            f"Sync {run.pk} of {directory.name}: {run.get_state_display()} in "
            f"{data['duration_s']} s. {run.fetched} read, {run.created} created, "
            f"{run.updated} updated, {run.archived} archived, {run.reactivated} "
            f"reactivated, {run.unchanged} unchanged, {run.failed} refused."
        )
        if run.error_message:
            summary += f"\n{run.error_message}"
        if run.state == SyncRun.State.FAILED:
            raise CommandError(summary)
        return summary, data

    def _progress(self, run: SyncRun) -> None:
        if run.phase == SyncRun.Phase.FETCHING:
            line = f"Reading the directory: {run.fetched} people"
        else:
            total = max(run.fetched, 1)
            done = min(run.processed, total)
            filled = BAR_WIDTH * done // total
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            line = f"Applying [{bar}] {done}/{total}"
        self.stderr.write("\r" + line, ending="")
        self.stderr.flush()
