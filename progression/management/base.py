"""The shape every operator command shares: a summary or `--json`, clear errors."""

import json

from django.core.management.base import BaseCommand, CommandError

from progression.errors import ProgressionError
from progression.models import Organization


class OperatorCommand(BaseCommand):
    """A command that prints a human summary, or JSON with `--json`.

    Subclasses implement `run(**options)` returning `(summary, data)`. Project
    errors become a `CommandError`, so the command exits non-zero with the
    message and no traceback.
    """

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **options):
        try:
            summary, data = self.run(**options)
        except ProgressionError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, default=str))
        elif summary:
            self.stdout.write(summary)

    def run(self, **options):
        raise NotImplementedError

    @staticmethod
    def organization(slug: str) -> Organization:
        try:
            return Organization.objects.get(slug=slug)
        except Organization.DoesNotExist:
            raise CommandError(f"No organisation has the slug {slug!r}.") from None
