"""Operator command: an SSO connection for an organisation.

SAML from metadata or values; OIDC (generic, Google, Microsoft) from the
provider's client id and secret, with the issuer preset where the provider
has one.
"""

from pathlib import Path

from django.core.management.base import CommandError
from django.db import transaction

from progression.management.base import OperatorCommand
from sso.oidc import services as oidc_services
from sso.oidc.providers import OIDC_PROVIDERS
from sso.providers import PROVIDERS
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_keypair_generate,
    connection_settings_set,
)
from sso.services.idp import (
    connection_idp_set,
    connection_metadata_apply,
    connection_metadata_fetch,
)

OIDC_CLIENT_REQUIRED = "An OIDC connection needs --client-id and --client-secret."
SAML_ONLY = (
    "--metadata-file, --metadata-url, --entity-id, --sso-url, --cert-file are for SAML."
)
SOURCE_REQUIRED = (
    "Give exactly one of --metadata-file, --metadata-url, or --entity-id with "
    "--sso-url and --cert-file."
)


class Command(OperatorCommand):
    help = (
        "Create a SAML connection and print its id, acs_url, entity_id, "
        "metadata_url and login_url; or an OIDC connection and print its id, "
        "redirect_uri and login_url."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("slug")
        parser.add_argument("--provider", required=True)
        parser.add_argument("--metadata-file")
        parser.add_argument("--metadata-url")
        parser.add_argument("--entity-id")
        parser.add_argument("--sso-url")
        parser.add_argument("--cert-file", action="append", default=[])
        parser.add_argument("--slo-url", default="")
        parser.add_argument("--name", default="")
        parser.add_argument("--allow-idp-initiated", action="store_true")
        parser.add_argument("--jit", action="store_true", help="JIT provisioning")
        parser.add_argument("--sp-keypair", action="store_true")
        parser.add_argument("--activate", action="store_true")
        parser.add_argument("--issuer", default="", help="OIDC issuer URL")
        parser.add_argument("--client-id", default="")
        parser.add_argument("--client-secret", default="")
        parser.add_argument("--scopes", default="")
        parser.add_argument(
            "--hosted-domain", action="append", default=[], help="Google hd"
        )
        parser.add_argument(
            "--tenant-id", action="append", default=[], help="Microsoft tid"
        )

    def run(self, **options):
        organization = self.organization(options["slug"])
        provider = options["provider"]
        if provider in OIDC_PROVIDERS:
            return self._oidc(organization, provider, options)
        if provider not in PROVIDERS:
            raise CommandError(
                f"Unknown SSO provider {provider!r}. Choose one of: "
                + ", ".join([*PROVIDERS, *OIDC_PROVIDERS])
                + "."
            )
        manual = options["entity_id"] or options["sso_url"] or options["cert_file"]
        sources = [bool(options["metadata_file"]), bool(options["metadata_url"])]
        sources.append(bool(manual))
        if sum(sources) != 1:
            raise CommandError(SOURCE_REQUIRED)
        if manual and not (
            options["entity_id"] and options["sso_url"] and options["cert_file"]
        ):
            raise CommandError(SOURCE_REQUIRED)
        metadata_xml = self._read(options["metadata_file"])
        certificates = [self._read(path).decode() for path in options["cert_file"]]

        with transaction.atomic():
            connection = connection_create(
                organization=organization,
                provider=provider,
                name=options["name"],
                actor="operator",
            )
            if options["sp_keypair"] and not connection.sp_certificate:
                connection_keypair_generate(connection=connection, actor="operator")
            if metadata_xml is not None:
                connection_metadata_apply(
                    connection=connection, actor="operator", xml=metadata_xml
                )
            elif options["metadata_url"]:
                connection_metadata_fetch(
                    connection=connection,
                    actor="operator",
                    metadata_url=options["metadata_url"],
                )
            else:
                connection_idp_set(
                    connection=connection,
                    actor="operator",
                    entity_id=options["entity_id"],
                    sso_url=options["sso_url"],
                    slo_url=options["slo_url"],
                    certificates=certificates,
                )
            self._settle(
                connection,
                options,
                allow_idp_initiated=options["allow_idp_initiated"],
            )
        return self._report(
            "SAML",
            connection,
            organization,
            provider,
            acs_url=connection.acs_url,
            entity_id=connection.sp_entity_id,
            metadata_url=connection.sp_metadata_url,
            login_url=connection.login_url,
            idp_entity_id=connection.idp_entity_id,
            allow_idp_initiated=connection.allow_idp_initiated,
        )

    def _oidc(self, organization, provider, options):
        saml = [options[k] for k in ("metadata_file", "metadata_url", "entity_id")]
        if any(saml) or options["sso_url"] or options["cert_file"]:
            raise CommandError(SAML_ONLY)
        if not (options["client_id"] and options["client_secret"]):
            raise CommandError(OIDC_CLIENT_REQUIRED)

        with transaction.atomic():
            connection = connection_create(
                organization=organization,
                provider=provider,
                name=options["name"],
                actor="operator",
            )
            oidc_services.oidc_client_set(
                connection=connection,
                actor="operator",
                issuer=options["issuer"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                scopes=options["scopes"],
                hosted_domains=options["hosted_domain"],
                tenant_ids=options["tenant_id"],
            )
            self._settle(connection, options)
        return self._report(
            "OIDC",
            connection,
            organization,
            provider,
            redirect_uri=connection.redirect_uri,
            login_url=connection.login_url,
            issuer=connection.issuer,
            client_id=connection.client_id,
        )

    @staticmethod
    def _settle(connection, options, **settings):
        """The settings both protocols take, then activation when asked for."""
        connection_settings_set(
            connection=connection,
            actor="operator",
            jit_provisioning=options["jit"],
            **settings,
        )
        if options["activate"]:
            connection_activate(connection=connection, actor="operator", skip_test=True)

    @staticmethod
    def _report(protocol, connection, organization, provider, **details):
        """A summary for people and the same values as data."""
        data = {
            "id": connection.pk,
            "organization": organization.slug,
            "provider": provider,
            "state": connection.state,
            **details,
        }
        summary = "\n".join(
            [f"Created {protocol} connection {connection.pk} ({connection.state})"]
            + [f"  {key}: {value}" for key, value in details.items()]
        )
        return summary, data

    @staticmethod
    def _read(path: str | None) -> bytes | None:
        if not path:
            return None
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
