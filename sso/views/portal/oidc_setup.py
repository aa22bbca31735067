"""The OIDC steps of a connection's setup: the provider's values and our
signing key for private_key_jwt."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from progression.access import admin_required
from progression.errors import ProgressionError
from sso.forms import OidcClientForm
from sso.models import Connection
from sso.oidc import services as oidc_services
from sso.views.portal._common import _connection, _render_connection

OIDC_SAVED = "The provider's values were saved and its discovery document fetched."
OIDC_KEY_GENERATED = (
    "A new signing key was generated; its JWKS URL now publishes only its public key."
)


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
