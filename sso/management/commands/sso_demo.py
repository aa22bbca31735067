"""Operator command for the embedded demo: SAML sign-in through a local IdP.

Starts SimpleSAMLphp (the IdP the test suite drives, configured from
`tests/peers/simplesamlphp/`) on 127.0.0.1, gives every active person of the
demo organisation an IdP account with the demo password, and connects the demo
organisation to it with an active SAML connection. Safe to run again: a
running IdP is reused, the people are refreshed and the connection is kept.
"""

import os
import shutil
import subprocess
from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from billing.entitlements import entitlement
from billing.services.subscriptions import subscription_set
from progression.management.base import OperatorCommand
from progression.management.commands.seed_demo import DEMO_PASSWORD, DEMO_SLUG
from progression.models import User
from sso.models import Connection
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_settings_set,
)
from sso.services.idp import connection_metadata_apply

DEMO_IDP_PORT = 8091
DEMO_CONNECTION_NAME = "Demo IdP (SimpleSAMLphp)"
PACKAGES = ["simplesamlphp", "php-xml", "php-mbstring", "php-cli"]
NOT_INSTALLED = (
    "SimpleSAMLphp is not installed and this user may not install it; run "
    "`sudo apt-get install -y simplesamlphp php-xml php-mbstring php-cli`, then "
    "`manage.py sso_demo` again. Password sign-in works meanwhile."
)


def _installed() -> bool:
    if not Path("/usr/share/simplesamlphp/www").is_dir() or not shutil.which("php"):
        return False
    modules = subprocess.run(  # noqa: S603 - fixed arguments
        [shutil.which("php"), "-m"], capture_output=True, text=True, check=False
    ).stdout.lower()
    return "dom" in modules.split() and "mbstring" in modules.split()


def _install() -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q"]):
        args = command + (PACKAGES if "install" in command else [])
        if subprocess.run(args, env=env, check=False).returncode != 0:  # noqa: S603
            return False
    return _installed()


class Command(OperatorCommand):
    help = "Connect the demo organisation to a local SimpleSAMLphp IdP (make run)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--port", type=int, default=DEMO_IDP_PORT)
        parser.add_argument("--state-dir", default=str(settings.BASE_DIR / "var/idp"))

    def run(self, **options):
        from tests.peers.simplesamlphp.idp import SimpleSamlIdp

        organization = self.organization(DEMO_SLUG)
        if not _installed() and not _install():
            return NOT_INSTALLED, {"sso": False, "reason": "not_installed"}
        idp = SimpleSamlIdp(Path(options["state_dir"]), port=options["port"])
        idp.prepare()
        people = User.objects.filter(
            organization=organization, status=User.Status.ACTIVE
        )
        idp.set_users(
            [
                {
                    "username": person.email,
                    "password": DEMO_PASSWORD,
                    "attributes": {
                        "email": [person.email],
                        "firstName": [person.first_name],
                        "lastName": [person.last_name],
                    },
                }
                for person in people
            ]
        )
        if not idp.running():
            log = (idp.state_dir / "php.log").open("ab")
            idp.start(log=log, detach=True)

        with transaction.atomic():
            if not entitlement(organization).available:
                subscription_set(
                    organization=organization,
                    plan="scale",
                    period="annual",
                    seats=50,
                    actor="operator",
                )
            connection = self._connection(organization, idp)
        idp.register_sp(connection.sp_entity_id, connection.acs_url)

        data = {
            "sso": True,
            "idp": idp.base_url,
            "connection_id": connection.pk,
            "login_url": connection.login_url,
            "idp_initiated_url": idp.idp_initiated_url(connection.sp_entity_id),
            "password": DEMO_PASSWORD,
            "people": people.count(),
        }
        summary = (
            f"SAML demo IdP at {idp.base_url} (SimpleSAMLphp). Sign in at "
            f"{settings.PUBLIC_BASE_URL}/signin/ with any demo person's email, "
            f"then at the IdP with that email and the password {DEMO_PASSWORD}."
        )
        return summary, data

    @staticmethod
    def _connection(organization, idp) -> Connection:
        connection = Connection.objects.filter(
            organization=organization, name=DEMO_CONNECTION_NAME
        ).first()
        if connection is None:
            connection = connection_create(
                organization=organization,
                provider="generic-saml",
                name=DEMO_CONNECTION_NAME,
                actor="operator",
            )
        try:
            # Our own IdP on loopback: fetched directly, not through the
            # customer-URL client that (rightly) refuses loopback.
            metadata = requests.get(idp.metadata_url, timeout=10).content
        except requests.RequestException as exc:
            raise CommandError(f"The demo IdP does not answer: {exc}") from exc
        connection_metadata_apply(connection=connection, actor="operator", xml=metadata)
        connection_settings_set(
            connection=connection,
            actor="operator",
            allow_idp_initiated=True,
            mapping={
                "subject": "",
                "email": "email",
                "first_name": "firstName",
                "last_name": "lastName",
                "groups": "",
            },
        )
        connection_activate(connection=connection, actor="operator", skip_test=True)
        return Connection.objects.get(pk=connection.pk)
