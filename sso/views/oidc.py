"""OIDC endpoints: login (per connection), callback, signed-out page, our JWKS.

The login URL names its connection by public id. The callback is one URL for
every connection: which connection a callback answers is read only from the
session entry stored under its `state` when the sign-in started, never from
the provider's answer. Every refusal gets a page that says why and, once the
connection is known, a line in its login attempt log.

The signed-out page is where providers send people back after an
RP-initiated logout (`sso.oidc.logout`); the JWKS URL publishes the public
key of a connection that authenticates with private_key_jwt.
"""

import logging
from types import SimpleNamespace

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from billing.entitlements import entitlement
from sso.models import Connection, LoginAttempt
from sso.oidc import client_auth, flow, logout
from sso.oidc.errors import OidcRejectedError
from sso.services.attempts import attempt_record
from sso.signin import (
    CONNECTION_INACTIVE,
    NOT_ENTITLED,
    identity_sign_in,
    refusal_page,
)
from sso.views.protocol import REFUSED_PREFIX, _test_result

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

MAX_ERROR_TEXT = 80
SIGNED_OUT = "You are signed out of Progression."
SIGNED_OUT_AT_PROVIDER = (
    "You are signed out of Progression and of your identity provider ({connection})."
)


def _connection(public_id: str) -> Connection:
    return get_object_or_404(
        Connection.objects.select_related("organization"),
        public_id=public_id,
        protocol=Connection.Protocol.OIDC,
    )


def _not_entitled(request, organization, granted):
    return refusal_page(
        request,
        NOT_ENTITLED.format(organization=organization.name, message=granted.message),
    )


@require_GET
def login(request, public_id):
    """Start a sign-in: send the person to the provider with state, nonce, PKCE."""
    connection = _connection(public_id)
    organization = connection.organization
    granted = entitlement(organization)
    if not granted.available:
        return _not_entitled(request, organization, granted)
    if not connection.is_active:
        return refusal_page(
            request, CONNECTION_INACTIVE.format(organization=organization.name)
        )
    if not connection.discovery:
        return refusal_page(
            request,
            REFUSED_PREFIX % OidcRejectedError("not_configured").message,
            status=503,
        )
    url = flow.authorization_start(
        request, connection, next_url=request.GET.get("next", "")
    )
    return HttpResponseRedirect(url)


@require_GET
def signed_out(request):
    """Where a provider sends people back after logout: say what ended.

    The session already ended when the person signed out; this page ends
    nothing, so a link to it cannot sign anyone out.
    """
    connection = logout.logout_returned(request.GET.get("state", ""))
    message = SIGNED_OUT
    if connection is not None:
        message = SIGNED_OUT_AT_PROVIDER.format(connection=connection)
    return render(request, "sso/signed_out.html", {"message": message})


@require_GET
def jwks(request, public_id):
    """The public key a provider checks our private_key_jwt assertions with."""
    connection = _connection(public_id)
    if not connection.client_signing_key:
        return JsonResponse({"keys": []}, status=404)
    response = JsonResponse(client_auth.jwks(connection))
    # Providers cache it; a replacement is published long before it signs.
    response["Cache-Control"] = f"public, max-age={client_auth.JWKS_MAX_AGE}"
    return response


def start_test_sign_in(request, connection: Connection) -> str:
    """Where an admin's test sign-in goes: the provider, in test mode."""
    if not connection.discovery:
        raise OidcRejectedError("not_configured")
    return flow.authorization_start(request, connection, test_by=request.user.pk)


class CallbackView(OIDCAuthenticationCallbackView):
    """The library's callback, ending in `identity_sign_in` for our connection."""

    def get(self, request):
        entry = flow.state_take(request, request.GET.get("state", ""))
        connection = None
        if entry is not None:
            connection = (
                Connection.objects.select_related("organization")
                .filter(pk=entry["connection_id"], protocol=Connection.Protocol.OIDC)
                .first()
            )
        testing = bool(entry and entry.get("test_by"))
        error = request.GET.get("error")
        if error:
            text = "".join(c for c in error if c.isalnum() or c in "_-")
            exc = OidcRejectedError("provider_error", text[:MAX_ERROR_TEXT])
            return _refuse(request, connection, exc, test=testing, status=400)
        if connection is None:
            return _refuse(
                request, None, OidcRejectedError("state_mismatch"), status=400
            )
        if testing and entry["test_by"] != request.user.pk:
            exc = OidcRejectedError("test_by_other")
            return _refuse(request, connection, exc, test=True, status=403)

        granted = None
        if not testing:
            # Without the entitlement nothing is written, not even the attempt.
            granted = entitlement(connection.organization)
            if not granted.available:
                return _not_entitled(request, connection.organization, granted)
        try:
            identity = flow.identity_from_callback(request, connection, entry)
        except OidcRejectedError as exc:
            return _refuse(request, connection, exc, test=testing)
        if testing:
            return _test_result(connection, SimpleNamespace(identity=identity))
        return identity_sign_in(
            request, identity, next_url=entry.get("next") or "/", granted=granted
        )


callback = CallbackView.as_view()


def _refuse(request, connection, exc, *, test=False, status=403):
    extra = {"connection_id": connection.pk if connection else None}
    security_logger.warning("oidc sign-in rejected: %s", exc.code, extra=extra)
    if connection is not None:
        attempt_record(
            connection=connection,
            outcome=LoginAttempt.Outcome.REFUSED,
            reason=exc.code,
            test=test,
        )
    return refusal_page(request, REFUSED_PREFIX % exc.message, status=status)
