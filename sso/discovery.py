"""Which connection an email signs in through: its domain's route, SAML or OIDC."""

from urllib.parse import urlencode

from django.urls import reverse

from billing.entitlements import entitlement
from progression.models import OrganizationDomain
from sso.models import Connection
from sso.routing import connection_for_domain


def active_connection_for_email(email: str) -> Connection | None:
    domain = (email or "").rpartition("@")[2].strip().lower()
    if not domain:
        return None
    owner = OrganizationDomain.objects.filter(domain__iexact=domain).first()
    if owner is None:
        return None
    connection = connection_for_domain(owner)
    if connection is None or not entitlement(connection.organization).available:
        return None
    return connection


def login_path(connection: Connection) -> str:
    name = "sso:oidc-login" if connection.is_oidc else "sso:saml-login"
    return reverse(name, kwargs={"public_id": connection.public_id})


def connection_for_email(request, email: str) -> str | None:
    """The login URL of the email's connection, or None (password)."""
    connection = active_connection_for_email(email)
    if connection is None:
        return None
    url = login_path(connection)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    return url
