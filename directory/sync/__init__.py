"""Pull syncs of HR directories: setting one up, running a sync, approving one.

`run` reads a directory and applies it through the provisioning rules;
`setup` holds the writes an admin makes to an HR directory.
"""

from directory.sync.run import (
    HELD_FOR_APPROVAL,
    directory_sync,
    sync_run_execute,
    sync_start,
)
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
