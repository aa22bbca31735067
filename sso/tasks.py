"""SSO housekeeping in Celery workers: certificate expiry, metadata and
OIDC discovery refresh."""

from celery import shared_task

from sso.models import Connection
from sso.oidc import services as oidc_services
from sso.services.certificates import certificates_check_expiry
from sso.services.idp import connection_metadata_refresh


@shared_task(name="sso.certificates_check_expiry")
def certificates_check_expiry_task():
    """Record warnings for certificates expiring within 90 days; idempotent."""
    return certificates_check_expiry()


@shared_task(name="sso.metadata_refresh")
def metadata_refresh_task():
    """Fetch every connection's metadata URL again, so rotated certificates
    arrive before the IdP starts signing with them."""
    ids = Connection.objects.exclude(metadata_url="").values_list("pk", flat=True)
    refreshed = 0
    for connection_id in ids:
        connection = Connection.objects.filter(pk=connection_id).first()
        if connection is not None and connection_metadata_refresh(
            connection=connection
        ):
            refreshed += 1
    return refreshed


@shared_task(name="sso.oidc_discovery_refresh")
def oidc_discovery_refresh_task():
    """Fetch every OIDC connection's discovery document again, so moved
    endpoints and new signing algorithms arrive; a failure keeps the old
    document and is shown in the portal. A replaced signing key of ours whose
    successor now signs is retired too. Running it twice is harmless."""
    ids = (
        Connection.objects.filter(protocol=Connection.Protocol.OIDC)
        .exclude(issuer="")
        .values_list("pk", flat=True)
    )
    refreshed = 0
    for connection_id in ids:
        connection = Connection.objects.filter(pk=connection_id).first()
        if connection is None:
            continue
        oidc_services.oidc_client_key_promote(connection=connection)
        if oidc_services.oidc_discovery_refresh(connection=connection):
            refreshed += 1
    return refreshed
