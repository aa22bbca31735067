from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from directory import services
from directory.guides import base_url_for
from directory.models import Directory, Provider
from progression.management.base import OperatorCommand

NOT_SCIM_OPTION = "{option} applies to HR-system directories, not to {provider}."
SCIM_GROUPS_LATER = (
    "A SCIM directory has no groups until the identity provider pushes them; "
    "choose the group scope in the portal afterwards."
)


class Command(OperatorCommand):
    help = "Create a directory; for SCIM, print its base URL and a new bearer token."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("slug")
        parser.add_argument("--provider", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--base-url", default="")
        parser.add_argument("--credentials-file", default="")
        parser.add_argument("--group", action="append", default=[], dest="groups")
        parser.add_argument("--activate", action="store_true")

    def run(
        self,
        *,
        slug,
        provider,
        name,
        base_url,
        credentials_file,
        groups,
        activate,
        **options,
    ):
        organization = self.organization(slug)
        if provider not in Provider.values:
            raise CommandError(
                f"Unknown SCIM provider {provider!r}; choose one of "
                + ", ".join(Provider.values)
            )
        for option, value in (
            ("--base-url", base_url),
            ("--credentials-file", credentials_file),
        ):
            if value:
                raise CommandError(
                    NOT_SCIM_OPTION.format(option=option, provider=provider)
                )
        if groups:
            raise CommandError(SCIM_GROUPS_LATER)

        with transaction.atomic():
            directory, token = services.directory_create(
                organization=organization,
                provider=provider,
                name=name,
                actor="operator",
            )
            if not activate:
                services.directory_state_set(
                    directory=directory,
                    state=Directory.State.INACTIVE,
                    actor="operator",
                )
        url = base_url_for(directory, settings.PUBLIC_BASE_URL)
        data = {
            "id": directory.pk,
            "provider": provider,
            "name": directory.name,
            "state": directory.state,
            "base_url": url,
            "token": token,
        }
        summary = (
            f"Created directory {directory.name} ({provider}, {directory.state}) "
            f"for {organization.name}.\nbase_url: {url}\ntoken: {token}\n"
            "The token is shown once; rotate it in the portal if it is lost."
        )
        return summary, data
