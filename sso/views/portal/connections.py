"""A connection's page, the setup wizard, and what it posts for both
protocols: mapping and options, a refresh of the IdP's values, activation."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from progression.access import admin_required
from progression.errors import ProgressionError
from progression.portal import carried_out
from sso.forms import SettingsForm
from sso.oidc import services as oidc_services
from sso.providers import MAPPED_FIELDS
from sso.services import connections as connection_services
from sso.services import idp as idp_services
from sso.views.portal._common import _connection, _render_connection

SETTINGS_SAVED = "Mapping and options saved."
ACTIVATED = "The connection is active: people on your domains sign in through it."
DEACTIVATED = "The connection is inactive: people sign in with a password."
METADATA_REFRESHED = "The metadata was fetched again."
DISCOVERY_REFRESHED = "The discovery document was fetched again."


@admin_required
def connection(request, pk):
    """The setup wizard: guide and our values, IdP values, mapping, test, on."""
    return _render_connection(request, _connection(request, pk))


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
    carried_out(
        request,
        METADATA_REFRESHED,
        idp_services.connection_metadata_fetch,
        connection=connection,
        actor=request.user,
    )
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
def connection_activate(request, pk):
    connection = _connection(request, pk)
    carried_out(
        request,
        ACTIVATED,
        connection_services.connection_activate,
        connection=connection,
        actor=request.user,
    )
    return redirect("sso:connection", pk=connection.pk)


@admin_required
@require_POST
def connection_deactivate(request, pk):
    connection = _connection(request, pk)
    connection_services.connection_deactivate(connection=connection, actor=request.user)
    messages.success(request, DEACTIVATED)
    return redirect("sso:connection", pk=connection.pk)
