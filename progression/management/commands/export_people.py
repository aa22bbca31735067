import csv
import json

from progression.management.base import OperatorCommand
from progression.models import User

COLUMNS = [
    "email",
    "first_name",
    "last_name",
    "status",
    "team",
    "position",
    "manager_email",
    "source",
]


class Command(OperatorCommand):
    help = "Print every person of an organisation as JSON or CSV."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["json", "csv"], default="csv")

    def handle(self, *args, **options):
        organization = self.organization(options["slug"])
        rows = (
            User.objects.filter(organization=organization)
            .order_by("email")
            .values_list(
                "email",
                "first_name",
                "last_name",
                "status",
                "team__name",
                "position__name",
                "manager__email",
                "source",
            )
            .iterator(chunk_size=2000)
        )
        if options["format"] == "json" or options["json"]:
            people = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
            self.stdout.write(json.dumps(people, indent=2))
            return
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
