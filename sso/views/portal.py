"""The SSO section of the portal: connections, their setup wizard and log.

Admins only. Every lookup goes through the signed-in admin's organisation, so
another organisation's connection, certificate or attempt answers 404.
"""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from billing.entitlements import entitlement
from progression.access import admin_required
from progression.errors import CrossOrganizationError, ProgressionError
from sso import flows, routing
from sso.forms import (
    CertificateForm,
    ManualIdpForm,
    MetadataForm,
    NewConnectionForm,
    OidcClientForm,
    PolicyForm,
    SettingsForm,
)
from sso.models import Connection, Policy
from sso.oidc import client_auth
from sso.oidc import services as oidc_services
from sso.oidc.errors import OidcRejectedError
from sso.oidc.providers import SSO_PROVIDERS
from sso.providers import MAPPED_FIELDS
from sso.saml import SamlRejectedError
from sso.services import certificates as certificate_services
from sso.services import connections as connection_services
from sso.services import idp as idp_services
from sso.services import policy as policy_services
from sso.views import oidc

CONNECTION_CREATED = "The connection was created. Follow the steps below."
IDP_SAVED = "The identity provider's values were saved."
SETTINGS_SAVED = "Mapping and options saved."
CERTIFICATE_ADDED = "The certificate was added."
CERTIFICATE_REMOVED = "The certificate was removed."
KEYPAIR_GENERATED = (
    "A new SP key pair was generated. Give the IdP our updated SP metadata."
)
ACTIVATED = "The connection is active: people on your domains sign in through it."
DEACTIVATED = "The connection is inactive: people sign in with a password."
POLICY_SAVED = "Sign-in policy saved."
METADATA_REFRESHED = "The metadata was fetched again."
OIDC_SAVED = "The provider's values were saved and its discovery document fetched."
GROUPS_OVERAGE = (
    "Groups were not included: this person is in more groups than the "
    "identity provider puts in a token (Entra: more than 200), so it sent a "
    "pointer to Microsoft Graph instead, which Progression does not read. "
    "Their groups are unknown, not empty. In Entra, open the app "
    "registration's Token configuration, edit the groups claim and choose "
    '"Groups assigned to the application" (then assign the groups that '
    "matter to the enterprise application), or filter the groups it sends."
)
OIDC_KEY_GENERATED = (
    "A new signing key was generated; its JWKS URL now publishes only its public key."
)
DISCOVERY_REFRESHED = "The discovery document was fetched again."
ROUTING_SAVED = "Domain routing saved."
ATTEMPTS_PAGE_SIZE = 50


def _connections(request):
    return Connection.objects.filter(organization_id=request.user.organization_id)


def _connection(request, pk, *, protocol: str | None = None) -> Connection:
    """The admin's organisation's connection; `protocol` limits a page that
    only makes sense for SAML or for OIDC to that kind."""
    connections = _connections(request)
    if protocol is not None:
        connections = connections.filter(protocol=protocol)
    return get_object_or_404(connections, pk=pk)


@admin_required
def index(request):
    """The organisation's connections, the sign-in policy and the IdP picker."""
    policy = Policy.objects.filter(organization_id=request.user.organization_id).first()
    connections = _connections(request).prefetch_related("certificates")
    context = {
        "connections": connections,
        "routes": routing.routes_of(request.user.organization),
        "default_connection_id": policy.default_connection_id if policy else None,
        "providers": SSO_PROVIDERS.values(),
        "policy_form": PolicyForm(
            initial={"require_sso": bool(policy and policy.require_sso)}
        ),
        "entitlement": entitlement(request.user.organization),
        "section": "sso",
    }
    return render(request, "sso/index.html", context)


@admin_required
@require_POST
def connection_new(request):
    form = NewConnectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an identity provider.")
        return redirect("sso:index")
    connection = connection_services.connection_create(
        organization=request.user.organization,
        provider=form.cleaned_data["provider"],
        actor=request.user,
    )
    messages.success(request, CONNECTION_CREATED)
    return redirect("sso:connection", pk=connection.pk)


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


@admin_required
def connection(request, pk):
    """The setup wizard: guide and our values, IdP values, mapping, test, on."""
    return _render_connection(request, _connection(request, pk))


@admin_required
@require_POST
def connection_idp(request, pk):
    """Save the IdP's values: metadata (file, XML or URL) or typed by hand."""
    connection = _connection(request, pk, protocol=Connection.Protocol.SAML)
    if request.POST.get("mode") == "manual":
        form = ManualIdpForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                idp_services.connection_idp_set(
                    connection=connection,
                    actor=request.user,
                    entity_id=data["entity_id"],
                    sso_url=data["sso_url"],
                    slo_url=data["slo_url"],
                    certificates=[data["certificate"]],
                )
                messages.success(request, IDP_SAVED)
                return redirect("sso:connection", pk=connection.pk)
            except ProgressionError as exc:
                form.add_error(None, exc.message)
        return _render_connection(request, connection, status=400, manual_form=form)

    form = MetadataForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data.get("xml"):
                idp_services.connection_metadata_apply(
                    connection=connection, actor=request.user, xml=data["xml"]
                )
            else:
                idp_services.connection_metadata_fetch(
                    connection=connection, actor=request.user, metadata_url=data["url"]
                )
            messages.success(request, IDP_SAVED)
            return redirect("sso:connection", pk=connection.pk)
        except ProgressionError as exc:
            form.add_error(None, exc.message)
    return _render_connection(request, connection, status=400, metadata_form=form)


@admin_required
@require_POST
def connection_oidc(request, pk):
    """Save the OIDC provider's values; its discovery document must fetch."""
    connection = _connection(request, pk, protocol=Connection.Protocol.OIDC)
    form = OidcClientForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            oidc_services.oidc_client_set(
                connection=connection,
                actor=request.user,
                issuer=data["issuer"],
                client_id=data["client_id"],
                client_secret=data["client_secret"],
                scopes=data["scopes"],
                hosted_domains=data["hosted_domains"],
                tenant_ids=data["tenant_ids"],
                token_auth_method=data["token_auth_method"],
            )
            messages.success(request, OIDC_SAVED)
            return redirect("sso:connection", pk=connection.pk)
        except ProgressionError as exc:
            form.add_error(None, exc.message)
    connection.refresh_from_db()
    return _render_connection(request, connection, status=400, oidc_form=form)


@admin_required
@require_POST
def connection_oidc_key(request, pk):
    """Generate (or replace) our signing key for private_key_jwt."""
    connection = _connection(request, pk, protocol=Connection.Protocol.OIDC)
    oidc_services.oidc_client_key_generate(
        connection=connection,
        actor=request.user,
        immediately=request.POST.get("immediately") == "1",
    )
    messages.success(request, OIDC_KEY_GENERATED)
    return redirect("sso:connection", pk=connection.pk)


@admin_required
@require_POST
def connection_refresh(request, pk):
    connection = _connection(request, pk)
    if connection.is_oidc:
        if oidc_services.oidc_discovery_refresh(connection=connection):
            messages.success(request, DISCOVERY_REFRESHED)
        else:
            messages.error(request, connection.metadata_error)
        return redirect("sso:connection", pk=connection.pk)
    try:
        idp_services.connection_metadata_fetch(
            connection=connection, actor=request.user
        )
        messages.success(request, METADATA_REFRESHED)
    except ProgressionError as exc:
        messages.error(request, exc.message)
    return redirect("sso:connection", pk=connection.pk)


@admin_required
@require_POST
def connection_settings(request, pk):
    connection = _connection(request, pk)
    form = SettingsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            connection_services.connection_settings_set(
                connection=connection,
                actor=request.user,
                name=data["name"],
                mapping={key: data[key] for key in MAPPED_FIELDS},
                allow_idp_initiated=data["allow_idp_initiated"],
                allow_sha1=data["allow_sha1"],
                jit_provisioning=data["jit_provisioning"],
            )
            messages.success(request, SETTINGS_SAVED)
            return redirect("sso:connection", pk=connection.pk)
        except ProgressionError as exc:
            form.add_error(None, exc.message)
    return _render_connection(request, connection, status=400, settings_form=form)


@admin_required
@require_POST
def certificate_add(request, pk):
    connection = _connection(request, pk, protocol=Connection.Protocol.SAML)
    form = CertificateForm(request.POST)
    if form.is_valid():
        try:
            certificate_services.certificate_add(
                connection=connection,
                actor=request.user,
                pem=form.cleaned_data["certificate"],
            )
            messages.success(request, CERTIFICATE_ADDED)
            return redirect("sso:connection", pk=connection.pk)
        except ProgressionError as exc:
            form.add_error("certificate", exc.message)
    return _render_connection(request, connection, status=400, certificate_form=form)


@admin_required
@require_POST
def certificate_remove(request, pk, cert_pk):
    connection = _connection(request, pk, protocol=Connection.Protocol.SAML)
    certificate = get_object_or_404(connection.certificates, pk=cert_pk)
    try:
        certificate_services.certificate_remove(
            certificate=certificate, actor=request.user
        )
        messages.success(request, CERTIFICATE_REMOVED)
    except ProgressionError as exc:
        messages.error(request, exc.message)
    return redirect("sso:connection", pk=connection.pk)


@admin_required
@require_POST
def connection_keypair(request, pk):
    connection = _connection(request, pk, protocol=Connection.Protocol.SAML)
    connection_services.connection_keypair_generate(
        connection=connection, actor=request.user
    )
    messages.success(request, KEYPAIR_GENERATED)
    return redirect("sso:connection", pk=connection.pk)


@admin_required
@require_POST
def connection_test(request, pk):
    """Send the admin through the IdP in test mode: see, don't sign in."""
    connection = _connection(request, pk)
    try:
        if connection.is_oidc:
            url = oidc.start_test_sign_in(request, connection)
        else:
            url = flows.login_start(connection=connection, test_by=request.user.pk)
    except (SamlRejectedError, OidcRejectedError) as exc:
        messages.error(request, exc.message)
        return redirect("sso:connection", pk=connection.pk)
    return redirect(url)


@admin_required
def connection_test_result(request, pk, attempt):
    connection = _connection(request, pk)
    attempt = get_object_or_404(connection.attempts, pk=attempt, test=True)
    mapping = connection.attribute_mapping or {}
    rows = [
        {
            "field": field,
            "attribute": mapping.get(field)
            or ("sub" if connection.is_oidc else "NameID"),
            "value": attempt.mapped.get(field),
        }
        for field in MAPPED_FIELDS
    ]
    return render(
        request,
        "sso/test_result.html",
        {
            "connection": connection,
            "attempt": attempt,
            "rows": rows,
            "groups_overage_notice": GROUPS_OVERAGE,
            "section": "sso",
        },
    )


@admin_required
@require_POST
def connection_activate(request, pk):
    connection = _connection(request, pk)
    try:
        connection_services.connection_activate(
            connection=connection, actor=request.user
        )
        messages.success(request, ACTIVATED)
    except ProgressionError as exc:
        messages.error(request, exc.message)
    return redirect("sso:connection", pk=connection.pk)


@admin_required
@require_POST
def connection_deactivate(request, pk):
    connection = _connection(request, pk)
    connection_services.connection_deactivate(connection=connection, actor=request.user)
    messages.success(request, DEACTIVATED)
    return redirect("sso:connection", pk=connection.pk)


@admin_required
def connection_attempts(request, pk):
    connection = _connection(request, pk)
    page = Paginator(connection.attempts.all(), ATTEMPTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "sso/attempts.html",
        {"connection": connection, "page": page, "section": "sso"},
    )


@admin_required
@require_http_methods(["POST"])
def policy(request):
    form = PolicyForm(request.POST)
    form.is_valid()
    policy_services.policy_set(
        organization=request.user.organization,
        require_sso=bool(form.cleaned_data.get("require_sso")),
        actor=request.user,
    )
    messages.success(request, POLICY_SAVED)
    return redirect("sso:index")


def _id_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


@admin_required
@require_POST
def routing_save(request):
    """Route each domain to a connection and choose the default connection.

    The form posts `route-<domain id>` per domain and `default_connection`;
    an id of another organisation's domain or connection answers 404.
    """
    organization = request.user.organization
    routes = {
        int(name.removeprefix("route-")): _id_or_none(value)
        for name, value in request.POST.items()
        if name.startswith("route-") and name.removeprefix("route-").isdigit()
    }
    try:
        routing.routing_set(
            organization=organization,
            actor=request.user,
            routes=routes,
            default_connection_id=_id_or_none(request.POST.get("default_connection")),
        )
    except CrossOrganizationError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, ROUTING_SAVED)
    return redirect("sso:index")
