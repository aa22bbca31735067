"""What the SSO services share: the audited snapshot of a connection and the
storing of an IdP certificate."""

from django.utils import timezone

from progression.services.audit import audit_record
from sso.models import Connection, IdpCertificate


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
