"""What the phases of a sync run share: the chunk size, the progress callback,
the record of a refused record and the request for link resolution."""

from collections.abc import Callable

from directory.links_queue import links_request_on_commit
from directory.models import Directory, SyncRun
from progression.errors import ProgressionError

CHUNK = 1000
# How many refused records a run keeps the details of.
PROBLEMS_KEPT = 50

Progress = Callable[[SyncRun], None]


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


def _links_request(directory: Directory, user_ids: list[int]) -> None:
    """Ask for link resolution of a chunk's people once the chunk commits.

    Asked per chunk, so that a run never holds the ids of everyone it touched;
    the requests coalesce into one run per organisation.
    """
    if user_ids:
        links_request_on_commit(
            organization_id=directory.organization_id, user_ids=user_ids
        )
