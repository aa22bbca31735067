"""A connection's life: create it, set its mapping and flags, give it an SP
key pair, activate and deactivate it."""

import logging

from django.db import transaction
from django.utils import timezone

from billing.entitlements import entitlement
from progression.errors import ValidationFailedError
from progression.models import Organization
from progression.services.audit import Actor
from sso import saml
from sso.models import Connection
from sso.oidc import services as oidc_services
from sso.oidc.providers import SSO_PROVIDERS
from sso.providers import MAPPED_FIELDS
from sso.services._common import _audit, _snapshot
from sso.services.idp import CERTIFICATE_REQUIRED, SSO_URL_INVALID

logger = logging.getLogger(__name__)

PROVIDER_UNKNOWN = "Unknown provider %r. Choose one of: %s."
MAPPING_EMAIL_REQUIRED = "Map the email address to an attribute, or to the NameID."
MAPPING_UNKNOWN_FIELD = "Unknown mapped field %r."
NOT_TESTED = "Run a successful test sign-in before activating this connection."
NOT_ENTITLED = "Single sign-on is not available on this organisation's plan: %s"
ALREADY_ACTIVE = "This connection is already active."

NAMEID = ""  # a mapping to "" reads the value from the NameID


def _validate_provider(provider: str) -> None:
    if provider not in SSO_PROVIDERS:
        raise ValidationFailedError(
            PROVIDER_UNKNOWN % (provider, ", ".join(SSO_PROVIDERS)), code="provider"
        )


def connection_create(
    *,
    organization: Organization,
    provider: str,
    actor: Actor,
    name: str = "",
) -> Connection:
    """Start a draft connection with the provider's default mapping.

    An OIDC provider's connection starts with its preset issuer, if any.
    """
    _validate_provider(provider)
    info = SSO_PROVIDERS[provider]

    with transaction.atomic():
        connection = Connection(
            organization=organization,
            provider=provider,
            name=(name or "").strip()[:200],
            attribute_mapping=dict(info.mapping),
        )
        if info.protocol == Connection.Protocol.OIDC:
            oidc_services.oidc_defaults_apply(connection)
        connection.save()
        if info.wants_encryption:
            _keypair_set(connection)
        _audit(connection, actor, "sso.connection.created", after=_snapshot(connection))
    logger.info("sso connection created", extra={"connection_id": connection.pk})
    return connection


def _keypair_set(connection: Connection) -> None:
    cert, key = saml.keypair_generate(
        common_name=f"Progression SP {connection.public_id}"
    )
    connection.sp_certificate, connection.sp_private_key = cert, key
    connection.save(update_fields=["sp_certificate", "sp_private_key", "updated_at"])


def connection_keypair_generate(*, connection: Connection, actor: Actor) -> Connection:
    """Give a connection a new SP key pair; the SP metadata then publishes it."""
    with transaction.atomic():
        _keypair_set(connection)
        _audit(connection, actor, "sso.connection.sp_key_generated")
    return connection


def connection_settings_set(
    *,
    connection: Connection,
    actor: Actor,
    mapping: dict | None = None,
    allow_idp_initiated: bool | None = None,
    allow_sha1: bool | None = None,
    jit_provisioning: bool | None = None,
    name: str | None = None,
) -> Connection:
    """Change the attribute mapping and the connection's flags."""
    if mapping is not None:
        unknown = set(mapping) - set(MAPPED_FIELDS)
        if unknown:
            raise ValidationFailedError(
                MAPPING_UNKNOWN_FIELD % sorted(unknown)[0], code="mapping_field"
            )
        mapping = {key: (mapping.get(key) or "").strip() for key in MAPPED_FIELDS}

    before = _snapshot(connection)
    if mapping is not None:
        connection.attribute_mapping = mapping
    if allow_idp_initiated is not None:
        connection.allow_idp_initiated = allow_idp_initiated
    if allow_sha1 is not None:
        connection.allow_sha1 = allow_sha1
    if jit_provisioning is not None:
        connection.jit_provisioning = jit_provisioning
    if name is not None:
        connection.name = name.strip()[:200]
    with transaction.atomic():
        connection.save()
        _audit(
            connection,
            actor,
            "sso.connection.updated",
            before,
            _snapshot(connection),
        )
    return connection


def connection_tested(*, connection: Connection) -> None:
    connection.tested_at = timezone.now()
    connection.save(update_fields=["tested_at", "updated_at"])


def connection_activation_problem(connection: Connection) -> str | None:
    """Why a connection cannot be activated now, or None."""
    granted = entitlement(connection.organization)
    if not granted.available:
        return NOT_ENTITLED % granted.message
    if connection.is_oidc:
        problem = oidc_services.oidc_activation_problem(connection)
        if problem:
            return problem
        return NOT_TESTED if connection.tested_at is None else None
    if not connection.idp_entity_id or not connection.sso_url:
        return SSO_URL_INVALID
    if not connection.certificates.exists():
        return CERTIFICATE_REQUIRED
    if connection.tested_at is None:
        return NOT_TESTED
    return None


def connection_activate(
    *, connection: Connection, actor: Actor, skip_test: bool = False
) -> Connection:
    """Turn a connection on; it must be configured, tested and entitled.

    `skip_test` is for operators and scripts that configure an IdP they
    control; the portal always requires the test sign-in.
    """
    problem = connection_activation_problem(connection)
    if problem == NOT_TESTED and skip_test:
        problem = None
    if problem:
        raise ValidationFailedError(problem, code="activation_refused")
    if connection.is_active:
        return connection

    with transaction.atomic():
        connection.state = Connection.State.ACTIVE
        connection.save(update_fields=["state", "updated_at"])
        _audit(
            connection,
            actor,
            "sso.connection.activated",
            {"state": "draft"},
            {"state": "active"},
        )
    logger.info("sso connection activated", extra={"connection_id": connection.pk})
    return connection


def connection_deactivate(*, connection: Connection, actor: Actor) -> Connection:
    """Turn a connection off; its people sign in with a password meanwhile."""
    if connection.state == Connection.State.INACTIVE:
        return connection

    before = connection.state
    with transaction.atomic():
        connection.state = Connection.State.INACTIVE
        connection.save(update_fields=["state", "updated_at"])
        _audit(
            connection,
            actor,
            "sso.connection.deactivated",
            {"state": before},
            {"state": "inactive"},
        )
    logger.info("sso connection deactivated", extra={"connection_id": connection.pk})
    return connection
