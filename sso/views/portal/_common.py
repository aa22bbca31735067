"""What the portal's SSO pages share: the organisation's connections and
the rendering of a connection's page, the setup wizard."""

import datetime as dt

from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from billing.entitlements import entitlement
from sso.forms import (
    CertificateForm,
    ManualIdpForm,
    MetadataForm,
    OidcClientForm,
    SettingsForm,
)
from sso.models import Connection
from sso.oidc import client_auth
from sso.providers import MAPPED_FIELDS
from sso.services import certificates as certificate_services
from sso.services import connections as connection_services


def _connections(request):
    return Connection.objects.filter(organization_id=request.user.organization_id)


def _connection(request, pk, *, protocol: str | None = None) -> Connection:
    """The admin's organisation's connection; `protocol` limits a page that
    only makes sense for SAML or for OIDC to that kind."""
    connections = _connections(request)
    if protocol is not None:
        connections = connections.filter(protocol=protocol)
    return get_object_or_404(connections, pk=pk)


def _certificates(connection):
    now = timezone.now()
    warn_at = now + dt.timedelta(days=certificate_services.EXPIRY_WARNING_DAYS)
    rows = []
    for certificate in connection.certificates.all():
        expires = certificate.not_after
        rows.append(
            {
                "certificate": certificate,
                "expired": bool(expires and expires <= now),
                "expiring": bool(expires and now < expires <= warn_at),
                "days_left": (expires - now).days if expires else None,
            }
        )
    return rows


def _render_connection(request, connection, *, status=200, **forms):
    provider = connection.provider_info
    mapping = connection.attribute_mapping or {}
    context = {
        "connection": connection,
        "provider": provider,
        "certificates": _certificates(connection),
        "metadata_form": forms.get("metadata_form") or MetadataForm(),
        "manual_form": forms.get("manual_form")
        or ManualIdpForm(
            initial={
                "entity_id": connection.idp_entity_id,
                "sso_url": connection.sso_url,
                "slo_url": connection.slo_url,
            }
        ),
        "settings_form": forms.get("settings_form")
        or SettingsForm(
            initial={
                **{key: mapping.get(key, "") for key in MAPPED_FIELDS},
                "name": connection.name,
                "allow_idp_initiated": connection.allow_idp_initiated,
                "allow_sha1": connection.allow_sha1,
                "jit_provisioning": connection.jit_provisioning,
            }
        ),
        "certificate_form": forms.get("certificate_form") or CertificateForm(),
        "oidc_form": forms.get("oidc_form")
        or OidcClientForm(
            offered=client_auth.supported_methods(connection.discovery)
            if connection.discovery
            else None,
            initial={
                "issuer": connection.issuer,
                "client_id": connection.client_id,
                "scopes": connection.scopes,
                "hosted_domains": " ".join(connection.allowed_hosted_domains),
                "tenant_ids": " ".join(connection.allowed_tenant_ids),
                "token_auth_method": connection.token_auth_method,
            },
        ),
        "client_jwk": client_auth.public_jwk(connection)
        if connection.client_signing_key
        else None,
        "client_next_jwk": client_auth.next_jwk(connection)
        if connection.client_signing_key
        else None,
        "client_next_signs_at": connection.client_signing_key_next_at
        + client_auth.ROLLOVER
        if connection.client_signing_key_next_at
        else None,
        "last_test": connection.attempts.filter(test=True).first(),
        "attempts": connection.attempts.all()[:10],
        "activation_problem": connection_services.connection_activation_problem(
            connection
        ),
        "entitlement": entitlement(connection.organization),
        "section": "sso",
    }
    return render(request, "sso/connection.html", context, status=status)
