"""The SAML steps of a connection's setup: the IdP's values, its signing
certificates and our SP key pair."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from progression.access import admin_required
from progression.errors import ProgressionError
from progression.portal import carried_out
from sso.forms import CertificateForm, ManualIdpForm, MetadataForm
from sso.models import Connection
from sso.services import certificates as certificate_services
from sso.services import connections as connection_services
from sso.services import idp as idp_services
from sso.views.portal._common import _connection, _render_connection

IDP_SAVED = "The identity provider's values were saved."
CERTIFICATE_ADDED = "The certificate was added."
CERTIFICATE_REMOVED = "The certificate was removed."
KEYPAIR_GENERATED = (
    "A new SP key pair was generated. Give the IdP our updated SP metadata."
)


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
    carried_out(
        request,
        CERTIFICATE_REMOVED,
        certificate_services.certificate_remove,
        certificate=certificate,
        actor=request.user,
    )
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
