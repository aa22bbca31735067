from directory.links_queue import EVERYONE, links_resolve_pending, pending_store
from progression.management.base import OperatorCommand


class Command(OperatorCommand):
    help = "Resolve the managers, teams and positions of an organisation now."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("slug")

    def run(self, **options):
        organization = self.organization(options["slug"])
        # Noted as pending first, so the run also settles what workers were
        # about to resolve.
        pending_store().add(organization.pk, [EVERYONE])
        resolution = links_resolve_pending(organization=organization)
        issues = organization.link_issues.count()
        data = {
            "organization": organization.slug,
            "people": resolution.people,
            "changed": resolution.changed,
            "issues": issues,
            "duration_ms": resolution.duration_ms,
        }
        summary = (
            f"Links of {organization.slug} resolved: {resolution.people} people, "
            f"{resolution.changed} changed, {issues} open issues "
            f"({resolution.duration_ms} ms)."
        )
        return summary, data
