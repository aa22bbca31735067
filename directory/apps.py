from django.apps import AppConfig

# Scheduled pull syncs: every few minutes, queue the HR directories whose own
# interval (hourly by default) has passed. The link-resolution sweep picks up
# changes whose queued run was lost (a worker that died before taking it).
BEAT_SCHEDULE = {
    "directory-sync-due": {
        "task": "directory.sync_due",
        "schedule": 5 * 60,
    },
    "directory-resolve-links-sweep": {
        "task": "directory.resolve_links_sweep",
        "schedule": 5 * 60,
    },
}


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = "Directory Sync"

    def ready(self):
        from directory import receivers  # noqa: F401
        from progression.celery import beat_schedule_add

        beat_schedule_add(BEAT_SCHEDULE)
