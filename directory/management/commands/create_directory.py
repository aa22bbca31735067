import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from directory import services, sync
from directory.guides import base_url_for
from directory.models import HR_PROVIDERS, Directory, Provider
from progression.management.base import OperatorCommand

NOT_SCIM_OPTION = "{option} applies to HR-system directories, not to {provider}."
CREDENTIALS_REQUIRED = "An HR-system directory needs --credentials-file."
CREDENTIALS_UNREADABLE = "The credentials file must be a JSON object: {error}"
GROUPS_GOOGLE_ONLY = "--group applies to Google Workspace directories only."
SCIM_GROUPS_LATER = (
    "A SCIM directory has no groups until the identity provider pushes them; "
    "choose the group scope in the portal afterwards."
)


class Command(OperatorCommand):
    help = (
        "Create a directory; for SCIM, print its base URL and a new bearer token; "
        "for an HR system, store its credentials (tested with --activate)."
    )

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
        if provider in HR_PROVIDERS:
            return self._pull(
                organization,
                provider,
                name,
                base_url,
                credentials_file,
                groups,
                activate,
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

    def _pull(
        self, organization, provider, name, base_url, credentials_file, groups, activate
    ):
        """An HR directory: credentials from a file, groups, optional activation."""
        if not credentials_file:
            raise CommandError(CREDENTIALS_REQUIRED)
        if groups and provider != Provider.GOOGLE_WORKSPACE:
            raise CommandError(GROUPS_GOOGLE_ONLY)
        try:
            credentials = json.loads(Path(credentials_file).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(CREDENTIALS_UNREADABLE.format(error=exc)) from exc
        if not isinstance(credentials, dict):
            raise CommandError(CREDENTIALS_UNREADABLE.format(error="not an object"))

        # A failed connection test or an unknown group creates nothing.
        with transaction.atomic():
            directory = sync.pull_directory_create(
                organization=organization,
                provider=provider,
                name=name,
                credentials=credentials,
                base_url=base_url,
                actor="operator",
            )
            if groups:
                sync.pull_directory_groups_set(
                    directory=directory, group_ids=groups, actor="operator"
                )
            if activate:
                sync.pull_directory_activate(directory=directory, actor="operator")
        data = {
            "id": directory.pk,
            "provider": provider,
            "name": directory.name,
            "state": directory.state,
            "base_url": directory.api_base_url,
            "groups": [group["email"] for group in directory.sync_groups],
            "sync_interval_minutes": directory.sync_interval_minutes,
        }
        summary = (
            f"Created directory {directory.name} ({provider}, {directory.state}) "
            f"for {organization.name}, id {directory.pk}.\n"
            + (
                "The connection test passed; it syncs every "
                f"{directory.sync_interval_minutes} minutes."
                if activate
                else "Activate it (or run sync_directory) once it is set up."
            )
        )
        return summary, data
