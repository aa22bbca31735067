"""The IdP's values of a SAML connection: entity ID, sign-in and logout URLs
and certificates, typed by hand or taken from the IdP's metadata."""

import logging

from django.db import transaction
from django.utils import timezone

from progression.errors import ProgressionError, ValidationFailedError
from progression.outbound import fetch
from progression.services.audit import Actor
from sso import saml
from sso.models import Connection, IdpCertificate
from sso.services._common import (
    _audit,
    _certificate_store,
    _certificates_changed,
    _snapshot,
)

logger = logging.getLogger(__name__)

ENTITY_ID_REQUIRED = "Enter the IdP's entity ID (issuer)."
SSO_URL_INVALID = "Enter the IdP's sign-in URL, starting with https:// or http://."
CERTIFICATE_REQUIRED = "Add at least one IdP signing certificate."
METADATA_URL_REQUIRED = "This connection has no metadata URL to refresh from."


def _validate_url(url: str) -> str:
    url = (url or "").strip()
    if url and not (url.startswith("https://") or url.startswith("http://")):
        raise ValidationFailedError(SSO_URL_INVALID, code="sso_url_invalid")
    return url


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
