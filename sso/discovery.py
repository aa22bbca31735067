"""Which connection an email signs in through: its domain's organisation's."""

from urllib.parse import urlencode

from django.urls import reverse

from billing.entitlements import entitlement
from progression.models import OrganizationDomain
from sso.models import Connection


def active_connection_for_email(email: str) -> Connection | None:
    domain = (email or "").rpartition("@")[2].strip().lower()
    if not domain:
        return None
    owner = OrganizationDomain.objects.filter(domain__iexact=domain).first()
    if owner is None:
        return None
    connection = (
        Connection.objects.filter(
            organization_id=owner.organization_id,
            protocol=Connection.Protocol.SAML,
            state=Connection.State.ACTIVE,
        )
        .select_related("organization")
        .first()
    )
    if connection is None or not entitlement(connection.organization).available:
        return None
    return connection


def connection_for_email(request, email: str) -> str | None:
    """The SP-initiated login URL for the email's domain, or None (password)."""
    connection = active_connection_for_email(email)
    if connection is None:
        return None
    url = reverse("sso:saml-login", kwargs={"public_id": connection.public_id})
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    return url
