"""The IdP's signing certificates of a SAML connection: added ahead of a
rotation, removed, and marked when they near their expiry."""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from progression.errors import ConflictError, ValidationFailedError
from progression.services.audit import Actor
from sso import saml
from sso.models import Connection, IdpCertificate
from sso.services._common import _audit, _certificate_store, _certificates_changed

logger = logging.getLogger(__name__)

CERTIFICATE_EXPIRED = "That certificate expired on %s."
CERTIFICATE_DUPLICATE = "This connection already has that certificate."
CERTIFICATE_LAST = "A connection in use needs at least one certificate."

# The portal warns about certificates this close to their expiry.
EXPIRY_WARNING_DAYS = 90


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
