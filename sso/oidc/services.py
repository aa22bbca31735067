"""Writes to OIDC connections: the provider's client and its discovery.

Like `sso.services`, each validates first and changes nothing on bad input,
and each change is audited on the connection's organisation. The client
secret is never written to the audit log, only whether it changed.
"""

import logging
import re

from django.db import transaction
from django.utils import timezone

from progression.errors import ValidationFailedError
from progression.services.audit import Actor, audit_record
from sso.models import Connection
from sso.oidc import client_auth, discovery
from sso.oidc.errors import OidcRejectedError
from sso.oidc.providers import DEFAULT_SCOPES, PRESET_ISSUERS

logger = logging.getLogger(__name__)

NOT_OIDC = "This connection does not use OpenID Connect."
ISSUER_REQUIRED = "Enter the provider's issuer URL, starting with https://."
CLIENT_ID_REQUIRED = "Enter the client id from the provider."
CLIENT_SECRET_REQUIRED = "Enter the client secret from the provider."  # noqa: S105
SCOPES_NEED_OPENID = "The scopes must include openid."
HOSTED_DOMAIN_INVALID = "%r is not a domain name."
TENANT_ID_INVALID = "%r is not an Entra tenant id (a GUID)."
HOSTED_DOMAINS_REQUIRED = (
    "List at least one allowed hosted domain: without one, no Google account "
    "may sign in."
)
TENANT_IDS_REQUIRED = (
    "List at least one allowed tenant id: without one, no Microsoft account "
    "may sign in."
)
AUTH_METHOD_UNSUPPORTED = (
    "The provider's discovery document does not offer %s at its token "
    "endpoint; it offers: %s."
)
CLIENT_KEY_REQUIRED = (
    "Generate our signing key first, and register its JWKS URL at the "
    "provider, before choosing private_key_jwt."
)
DISCOVERY_MISSING = (
    "Save the provider's values first: its discovery document is missing."
)

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
_TENANT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _snapshot(connection: Connection) -> dict:
    return {
        "issuer": connection.issuer,
        "client_id": connection.client_id,
        "scopes": connection.scopes,
        "allowed_hosted_domains": connection.allowed_hosted_domains,
        "allowed_tenant_ids": connection.allowed_tenant_ids,
        "token_auth_method": connection.token_auth_method,
    }


def _tenant_templated(connection: Connection) -> bool:
    return connection.provider == "microsoft-oauth"


def _clean_list(values, pattern, message) -> list[str]:
    cleaned = []
    for value in values or ():
        value = (value or "").strip().lower()
        if not value:
            continue
        if not pattern.match(value):
            raise ValidationFailedError(message % value, code="allow_list_invalid")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _clean_issuer(issuer: str) -> str:
    issuer = (issuer or "").strip()
    if not issuer.startswith(("https://", "http://")) or " " in issuer:
        raise ValidationFailedError(ISSUER_REQUIRED, code="issuer_required")
    return issuer


def oidc_defaults_apply(connection: Connection) -> None:
    """A new OIDC connection's preset issuer and scopes (no save)."""
    connection.protocol = Connection.Protocol.OIDC
    connection.issuer = PRESET_ISSUERS.get(connection.provider, "")
    connection.scopes = DEFAULT_SCOPES


def oidc_client_set(
    *,
    connection: Connection,
    actor: Actor,
    client_id: str,
    client_secret: str = "",
    issuer: str = "",
    scopes: str = "",
    hosted_domains=(),
    tenant_ids=(),
    token_auth_method: str = "",
) -> Connection:
    """Set the provider's values and fetch its discovery document.

    An empty `client_secret` keeps the stored one; an empty `issuer` keeps
    the connection's (the preset one for Google and Microsoft). The
    discovery document must be fetched and valid before anything is saved,
    and the token endpoint must offer the chosen `token_auth_method` (empty:
    client_secret_basic where offered, else client_secret_post). With
    private_key_jwt no client secret is needed, but our signing key is.
    """
    if not connection.is_oidc:
        raise ValidationFailedError(NOT_OIDC, code="not_oidc")
    issuer = _clean_issuer(issuer or connection.issuer)
    client_id = (client_id or "").strip()
    if not client_id:
        raise ValidationFailedError(CLIENT_ID_REQUIRED, code="client_id_required")
    client_secret = (client_secret or "").strip() or connection.client_secret
    token_auth_method = (token_auth_method or "").strip()
    uses_key = token_auth_method == client_auth.PRIVATE_KEY_JWT
    if not client_secret and not uses_key:
        raise ValidationFailedError(
            CLIENT_SECRET_REQUIRED, code="client_secret_required"
        )
    if uses_key and not connection.client_signing_key:
        raise ValidationFailedError(CLIENT_KEY_REQUIRED, code="client_key_required")
    scope_list = (scopes or connection.scopes or DEFAULT_SCOPES).split()
    if "openid" not in scope_list:
        raise ValidationFailedError(SCOPES_NEED_OPENID, code="scopes_openid")
    hosted = _clean_list(hosted_domains, _DOMAIN, HOSTED_DOMAIN_INVALID)
    tenants = _clean_list(tenant_ids, _TENANT, TENANT_ID_INVALID)
    document = discovery.document_fetch(
        issuer, tenant_templated=_tenant_templated(connection)
    )
    offered = client_auth.supported_methods(document)
    if token_auth_method and token_auth_method not in offered:
        raise ValidationFailedError(
            AUTH_METHOD_UNSUPPORTED % (token_auth_method, ", ".join(offered) or "none"),
            code="auth_method_unsupported",
        )

    before = _snapshot(connection)
    secret_changed = client_secret != connection.client_secret
    with transaction.atomic():
        connection.issuer = issuer
        connection.client_id = client_id
        connection.client_secret = client_secret
        connection.scopes = " ".join(dict.fromkeys(scope_list))
        connection.allowed_hosted_domains = hosted
        connection.allowed_tenant_ids = tenants
        connection.token_auth_method = token_auth_method
        connection.discovery = document
        connection.metadata_fetched_at = timezone.now()
        connection.metadata_error = ""
        connection.save()
        audit_record(
            organization=connection.organization,
            actor=actor,
            action="sso.connection.oidc_set",
            target=connection,
            before=before,
            after={**_snapshot(connection), "client_secret_changed": secret_changed},
        )
    return connection


def oidc_client_key_generate(
    *, connection: Connection, actor: Actor, immediately: bool = False
) -> Connection:
    """Give an OIDC connection a new signing key for private_key_jwt.

    A first key signs at once. A replacement is published beside the current
    key at once and signs `client_auth.ROLLOVER` later, so a provider that
    caches our key set has it before it sees it; `immediately` (for a key
    that may have leaked) retires the current key now instead, and a provider
    still holding the old key set refuses sign-ins until it fetches ours again.
    """
    if not connection.is_oidc:
        raise ValidationFailedError(NOT_OIDC, code="not_oidc")
    pem = client_auth.signing_key_generate()
    with transaction.atomic():
        if immediately or not connection.client_signing_key:
            connection.client_signing_key = pem
            connection.client_signing_key_next = ""
            connection.client_signing_key_next_at = None
        else:
            connection.client_signing_key_next = pem
            connection.client_signing_key_next_at = timezone.now()
        connection.save(
            update_fields=[
                "client_signing_key",
                "client_signing_key_next",
                "client_signing_key_next_at",
                "updated_at",
            ]
        )
        pending = client_auth.next_jwk(connection)
        audit_record(
            organization=connection.organization,
            actor=actor,
            action="sso.connection.oidc_key_generated",
            target=connection,
            after={
                "kid": (pending or client_auth.public_jwk(connection))["kid"],
                "immediately": immediately or pending is None,
            },
        )
    return connection


def oidc_client_key_promote(*, connection: Connection) -> bool:
    """Retire the old key once its replacement signs; True when it did."""
    if not connection.client_signing_key_next or client_auth.next_jwk(connection):
        return False
    Connection.objects.filter(
        pk=connection.pk,
        client_signing_key_next_at=connection.client_signing_key_next_at,
    ).update(
        client_signing_key=connection.client_signing_key_next,
        client_signing_key_next="",
        client_signing_key_next_at=None,
        updated_at=timezone.now(),
    )
    return True


def oidc_discovery_refresh(*, connection: Connection) -> bool:
    """Fetch the discovery document again; on failure keep the old one, say why.

    A document that now names another issuer is a failure too: the old
    document, and with it the old endpoints, stay in use until an admin looks.
    """
    try:
        document = discovery.document_fetch(
            connection.issuer, tenant_templated=_tenant_templated(connection)
        )
    except OidcRejectedError as exc:
        connection.metadata_error = exc.message[:300]
        connection.save(update_fields=["metadata_error", "updated_at"])
        logger.warning(
            "oidc discovery refresh failed: %s",
            exc.code,
            extra={"connection_id": connection.pk},
        )
        return False
    connection.discovery = document
    connection.metadata_fetched_at = timezone.now()
    connection.metadata_error = ""
    connection.save(
        update_fields=[
            "discovery",
            "metadata_fetched_at",
            "metadata_error",
            "updated_at",
        ]
    )
    return True


def oidc_activation_problem(connection: Connection) -> str | None:
    """Why an OIDC connection cannot be activated yet (its own parts), or None."""
    if connection.token_auth_method == client_auth.PRIVATE_KEY_JWT:
        proof = connection.client_signing_key
    else:
        proof = connection.client_secret
    if not (connection.issuer and connection.client_id and proof):
        return DISCOVERY_MISSING
    if not connection.discovery:
        return DISCOVERY_MISSING
    if connection.provider == "google-oauth" and not connection.allowed_hosted_domains:
        return HOSTED_DOMAINS_REQUIRED
    if connection.provider == "microsoft-oauth" and not connection.allowed_tenant_ids:
        return TENANT_IDS_REQUIRED
    return None
