from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = "Directory Sync"

    def ready(self):
        from directory import receivers  # noqa: F401
