"""Every write to SSO connections, their certificates and the login log.

Views, the operator command and tasks call these. Each validates first and
changes nothing on bad input; each change is audited on the connection's
organisation.
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.entitlements import entitlement
from progression.errors import ConflictError, ProgressionError, ValidationFailedError
from progression.models import Organization
from progression.outbound import fetch
from progression.queries import RowInsert
from progression.services import Actor, audit_record
from sso import saml
from sso.models import Connection, IdpCertificate, LoginAttempt, Policy
from sso.oidc import services as oidc_services
from sso.oidc.providers import SSO_PROVIDERS
from sso.providers import MAPPED_FIELDS

logger = logging.getLogger(__name__)

PROVIDER_UNKNOWN = "Unknown provider %r. Choose one of: %s."
ENTITY_ID_REQUIRED = "Enter the IdP's entity ID (issuer)."
SSO_URL_INVALID = "Enter the IdP's sign-in URL, starting with https:// or http://."
CERTIFICATE_REQUIRED = "Add at least one IdP signing certificate."
CERTIFICATE_EXPIRED = "That certificate expired on %s."
CERTIFICATE_DUPLICATE = "This connection already has that certificate."
CERTIFICATE_LAST = "A connection in use needs at least one certificate."
MAPPING_EMAIL_REQUIRED = "Map the email address to an attribute, or to the NameID."
MAPPING_UNKNOWN_FIELD = "Unknown mapped field %r."
NOT_TESTED = "Run a successful test sign-in before activating this connection."
NOT_ENTITLED = "Single sign-on is not available on this organisation's plan: %s"
METADATA_URL_REQUIRED = "This connection has no metadata URL to refresh from."
ALREADY_ACTIVE = "This connection is already active."

# The portal warns about certificates this close to their expiry.
EXPIRY_WARNING_DAYS = 90
NAMEID = ""  # a mapping to "" reads the value from the NameID


def _validate_provider(provider: str) -> None:
    if provider not in SSO_PROVIDERS:
        raise ValidationFailedError(
            PROVIDER_UNKNOWN % (provider, ", ".join(SSO_PROVIDERS)), code="provider"
        )


def _validate_url(url: str) -> str:
    url = (url or "").strip()
    if url and not (url.startswith("https://") or url.startswith("http://")):
        raise ValidationFailedError(SSO_URL_INVALID, code="sso_url_invalid")
    return url


def _snapshot(connection: Connection) -> dict:
    return {
        "provider": connection.provider,
        "state": connection.state,
        "idp_entity_id": connection.idp_entity_id,
        "sso_url": connection.sso_url,
        "slo_url": connection.slo_url,
        "metadata_url": connection.metadata_url,
        "allow_idp_initiated": connection.allow_idp_initiated,
        "allow_sha1": connection.allow_sha1,
        "jit_provisioning": connection.jit_provisioning,
        "attribute_mapping": connection.attribute_mapping,
    }


def _audit(connection, actor, action, before=None, after=None):
    audit_record(
        organization=connection.organization,
        actor=actor,
        action=action,
        target=connection,
        before=before,
        after=after,
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


def connection_idp_set(
    *,
    connection: Connection,
    actor: Actor,
    entity_id: str,
    sso_url: str,
    slo_url: str = "",
    certificates: list[str] = (),
) -> Connection:
    """Set the IdP's values by hand: entity ID, sign-in URL and certificates."""
    entity_id = (entity_id or "").strip()
    if not entity_id:
        raise ValidationFailedError(ENTITY_ID_REQUIRED, code="entity_id_required")
    sso_url = _validate_url(sso_url)
    if not sso_url:
        raise ValidationFailedError(SSO_URL_INVALID, code="sso_url_invalid")
    slo_url = _validate_url(slo_url)
    infos = [saml.certificate_info(pem) for pem in certificates if pem.strip()]
    if not infos and not connection.certificates.exists():
        raise ValidationFailedError(CERTIFICATE_REQUIRED, code="certificate_required")

    before = _snapshot(connection)
    with transaction.atomic():
        connection.idp_entity_id = entity_id
        connection.sso_url = sso_url
        connection.slo_url = slo_url
        connection.save()
        for info in infos:
            _certificate_store(connection, info, IdpCertificate.Source.MANUAL)
        _certificates_changed(connection)
        _audit(
            connection, actor, "sso.connection.idp_set", before, _snapshot(connection)
        )
    return connection


def connection_metadata_apply(
    *,
    connection: Connection,
    actor: Actor,
    xml: str | bytes,
    metadata_url: str = "",
) -> Connection:
    """Take the IdP's values from its metadata; its certificates replace the
    ones that came from earlier metadata, hand-added ones stay."""
    metadata = saml.parse_idp_metadata(xml)
    infos = [saml.certificate_info(pem) for pem in metadata.certificates]

    before = _snapshot(connection)
    with transaction.atomic():
        connection.idp_entity_id = metadata.entity_id
        connection.sso_url = metadata.sso_url
        connection.slo_url = metadata.slo_url
        if metadata_url:
            connection.metadata_url = metadata_url
        connection.metadata_fetched_at = timezone.now() if metadata_url else None
        connection.metadata_error = ""
        connection.save()
        keep = {info.fingerprint_sha256 for info in infos}
        connection.certificates.filter(source=IdpCertificate.Source.METADATA).exclude(
            fingerprint_sha256__in=keep
        ).delete()
        for info in infos:
            _certificate_store(connection, info, IdpCertificate.Source.METADATA)
        _certificates_changed(connection)
        _audit(
            connection,
            actor,
            "sso.connection.metadata_applied",
            before,
            _snapshot(connection),
        )
    return connection


def connection_metadata_fetch(
    *, connection: Connection, actor: Actor, metadata_url: str = ""
) -> Connection:
    """Fetch the IdP's metadata from its URL, through the SSRF-safe client."""
    url = (metadata_url or connection.metadata_url).strip()
    if not url:
        raise ValidationFailedError(METADATA_URL_REQUIRED, code="metadata_url_missing")
    result = fetch(url, max_bytes=1024 * 1024)
    return connection_metadata_apply(
        connection=connection, actor=actor, xml=result.content, metadata_url=url
    )


def connection_metadata_refresh(*, connection: Connection) -> bool:
    """Refresh from the metadata URL; on failure keep the old values, say why."""
    try:
        connection_metadata_fetch(connection=connection, actor="system")
    except ProgressionError as exc:
        connection.metadata_error = exc.message[:300]
        connection.save(update_fields=["metadata_error", "updated_at"])
        logger.warning(
            "sso metadata refresh failed: %s",
            exc.code,
            extra={"connection_id": connection.pk},
        )
        return False
    return True


def _certificates_changed(connection: Connection) -> None:
    """Move `updated_at` with every certificate change: cached SAML settings
    are keyed on it."""
    connection.updated_at = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(updated_at=connection.updated_at)


def _certificate_store(connection, info, source) -> IdpCertificate:
    certificate, _ = IdpCertificate.objects.get_or_create(
        connection=connection,
        fingerprint_sha256=info.fingerprint_sha256,
        defaults={
            "pem": info.pem,
            "subject": info.subject,
            "not_before": info.not_before,
            "not_after": info.not_after,
            "source": source,
        },
    )
    return certificate


def certificate_add(
    *, connection: Connection, actor: Actor, pem: str
) -> IdpCertificate:
    """Add an IdP signing certificate, typically ahead of the IdP's rotation."""
    info = saml.certificate_info(pem)
    if info.not_after <= timezone.now():
        raise ValidationFailedError(
            CERTIFICATE_EXPIRED % info.not_after.date(), code="certificate_expired"
        )
    if connection.certificates.filter(
        fingerprint_sha256=info.fingerprint_sha256
    ).exists():
        raise ConflictError(CERTIFICATE_DUPLICATE, code="certificate_duplicate")

    try:
        with transaction.atomic():
            certificate = _certificate_store(
                connection, info, IdpCertificate.Source.MANUAL
            )
            _certificates_changed(connection)
            _audit(
                connection,
                actor,
                "sso.certificate.added",
                after={"fingerprint": info.fingerprint_sha256},
            )
    except IntegrityError as exc:
        raise ConflictError(
            CERTIFICATE_DUPLICATE, code="certificate_duplicate"
        ) from exc
    return certificate


def certificate_remove(*, certificate: IdpCertificate, actor: Actor) -> None:
    connection = certificate.connection
    others = connection.certificates.exclude(pk=certificate.pk).exists()
    if connection.is_active and not others:
        raise ValidationFailedError(CERTIFICATE_LAST, code="certificate_last")

    with transaction.atomic():
        _audit(
            connection,
            actor,
            "sso.certificate.removed",
            before={"fingerprint": certificate.fingerprint_sha256},
        )
        certificate.delete()
        _certificates_changed(connection)


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


def policy_set(
    *, organization: Organization, require_sso: bool, actor: Actor
) -> Policy:
    """Turn "require SSO" on or off; admins keep password sign-in either way."""
    policy, _ = Policy.objects.get_or_create(organization=organization)
    if policy.require_sso == require_sso:
        return policy

    with transaction.atomic():
        policy.require_sso = require_sso
        policy.save()
        audit_record(
            organization=organization,
            actor=actor,
            action="sso.policy.updated",
            target=policy,
            before={"require_sso": not require_sso},
            after={"require_sso": require_sso},
        )
    return policy


def password_sign_in_allowed(user) -> bool:
    """Whether a person may sign in with a password under their organisation's
    policy: admins always may (the way back in when the IdP is down)."""
    if user.is_admin:
        return True
    required = Policy.objects.filter(
        organization_id=user.organization_id, require_sso=True
    ).exists()
    if not required:
        return True
    return not Connection.objects.filter(
        organization_id=user.organization_id, state=Connection.State.ACTIVE
    ).exists()


# Every sign-in writes one log entry: its INSERT is built once per process.
_ATTEMPT_INSERT = RowInsert(LoginAttempt)


def attempt_record(
    *,
    connection: Connection,
    outcome: str,
    reason: str = "",
    detail: str = "",
    test: bool = False,
    idp_initiated: bool = False,
    subject: str = "",
    email: str = "",
    issuer: str = "",
    attributes: dict | None = None,
    mapped: dict | None = None,
    groups_overage: bool = False,
    user=None,
) -> LoginAttempt:
    """Log one sign-in attempt; attribute values are kept only for test runs."""
    attributes = attributes or {}
    if not test:
        attributes = {name: ["(redacted)"] for name in attributes}
    return _ATTEMPT_INSERT.save(
        LoginAttempt(
            connection=connection,
            outcome=outcome,
            reason=reason[:60],
            detail=detail[:500],
            test=test,
            idp_initiated=idp_initiated,
            subject=subject[:512],
            email=email[:254],
            issuer=issuer[:1024],
            attributes=_cap_attributes(attributes),
            mapped=mapped or {},
            groups_overage=groups_overage,
            user=user,
        )
    )


def _cap_attributes(attributes: dict) -> dict:
    capped = {}
    for name, values in list(attributes.items())[:100]:
        capped[str(name)[:300]] = [str(value)[:300] for value in list(values)[:50]]
    return capped


def connection_tested(*, connection: Connection) -> None:
    connection.tested_at = timezone.now()
    connection.save(update_fields=["tested_at", "updated_at"])


def certificates_check_expiry(*, now: dt.datetime | None = None) -> int:
    """Mark certificates of live connections that expire within the warning
    window; the portal shows the warning. Returns how many were marked now."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    due = IdpCertificate.objects.filter(
        not_after__lte=horizon,
        expiry_warned_at__isnull=True,
        connection__state__in=[Connection.State.ACTIVE, Connection.State.DRAFT],
    ).select_related("connection")
    marked = 0
    for certificate in due:
        certificate.expiry_warned_at = now
        certificate.save(update_fields=["expiry_warned_at"])
        logger.warning(
            "sso certificate expires soon",
            extra={
                "connection_id": certificate.connection_id,
                "not_after": certificate.not_after.isoformat(),
            },
        )
        marked += 1
    return marked
