"""Pull syncs of HR directories: setting one up, running a sync, approving one.

`run` opens, runs and finishes a sync; its phases are `fetch` (stage the
provider's records), `reconcile` (walk them a chunk at a time), `apply` (write
what the provisioning rules decide) and `safeguard` (hold a run that would
archive too many people). `setup` holds the writes an admin makes to an HR
directory, `schedule` the claiming of due syncs and `guides` the setup guides.
"""

from directory.sync.run import directory_sync, sync_run_execute, sync_start
from directory.sync.safeguard import HELD_FOR_APPROVAL
from directory.sync.setup import (
    pull_directory_activate,
    pull_directory_create,
    pull_directory_credentials_set,
    pull_directory_groups_list,
    pull_directory_groups_set,
    pull_directory_schedule_set,
    pull_directory_test,
    sync_run_approve,
)

__all__ = [
    "HELD_FOR_APPROVAL",
    "directory_sync",
    "pull_directory_activate",
    "pull_directory_create",
    "pull_directory_credentials_set",
    "pull_directory_groups_list",
    "pull_directory_groups_set",
    "pull_directory_schedule_set",
    "pull_directory_test",
    "sync_run_approve",
    "sync_run_execute",
    "sync_start",
]
