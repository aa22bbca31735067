"""SAML endpoints the IdP and the browser talk to: metadata, login, ACS, SLS.

Connections are found by the public id in the URL, never by the Issuer of a
response: entity IDs are not unique across IdP tenants. The ACS is exempt from
CSRF (the IdP posts cross-site), caps the body before reading it, and answers
every refusal with a page that says why.
"""

import logging

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing.entitlements import entitlement
from billing.models import Subscription
from progression.errors import ProgressionError
from progression.models import Organization
from progression.queries import Joined, RowQuery
from sso import flows, logout, saml
from sso.models import Connection, LoginAttempt
from sso.saml import SamlRejectedError
from sso.services.attempts import attempt_record
from sso.services.connections import connection_tested
from sso.signin import (
    CONNECTION_INACTIVE,
    NOT_ENTITLED,
    identity_check,
    identity_sign_in,
    mapped_fields,
    refusal_page,
)

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

REFUSED_PREFIX = "Sign-in refused: %s"
LOGOUT_REFUSED = "Logout message refused: %s"
BODY_TOO_LARGE = "The sign-in message is too large."


# The connection, its organisation and the organisation's subscription (if
# any), which `_entitlement` reads next: one query on every SAML endpoint.
_CONNECTION = RowQuery(
    (
        Joined(Connection, "c"),
        Joined(Organization, "o", 'JOIN {table} o ON o."id" = c."organization_id"'),
        Joined(
            Subscription, "s", 'LEFT JOIN {table} s ON s."organization_id" = o."id"'
        ),
    ),
    where='c."public_id" = %s AND c."protocol" = %s',
)


def _connection(public_id: str) -> Connection:
    found = _CONNECTION.one([public_id, Connection.Protocol.SAML])
    if found is None:
        raise Http404("No such connection.")
    connection, organization, subscription = found
    connection.organization = organization
    # As select_related would: `organization.subscription` is the row just
    # read, or raises DoesNotExist without a query when there is none.
    Organization.subscription.related.set_cached_value(organization, subscription)
    return connection


def _entitlement(connection: Connection):
    """The organisation's entitlement now, from the subscription just read."""
    organization = connection.organization
    return entitlement(
        organization, subscription=getattr(organization, "subscription", None)
    )


@require_GET
def metadata(request, public_id):
    """Our SP metadata for this connection; its URL is also our entity ID."""
    connection = _connection(public_id)
    response = HttpResponse(
        saml.sp_metadata_xml(connection), content_type="application/samlmetadata+xml"
    )
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="progression-sp-{connection.public_id}.xml"'
        )
    return response


@require_GET
def login(request, public_id):
    """Start an SP-initiated sign-in: an AuthnRequest over HTTP-Redirect."""
    connection = _connection(public_id)
    organization = connection.organization
    granted = _entitlement(connection)
    if not granted.available:
        return refusal_page(
            request,
            NOT_ENTITLED.format(
                organization=organization.name, message=granted.message
            ),
        )
    if not connection.is_active:
        return refusal_page(
            request, CONNECTION_INACTIVE.format(organization=organization.name)
        )
    try:
        url = flows.login_start(
            connection=connection, next_url=request.GET.get("next", "")
        )
    except SamlRejectedError as exc:
        return refusal_page(request, exc.message, status=503)
    return HttpResponseRedirect(url)


@csrf_exempt
@require_POST
def acs(request, public_id):
    """Receive the IdP's response: validate, then sign in or refuse."""
    connection = _connection(public_id)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > saml.MAX_RESPONSE_BYTES + 8192:
        security_logger.warning(
            "saml response rejected: body too large",
            extra={"connection_id": connection.pk},
        )
        return refusal_page(request, BODY_TOO_LARGE, status=413)
    saml_response = request.POST.get("SAMLResponse", "")

    try:
        check, flow = flows.response_parse(connection, saml_response)
    except SamlRejectedError as exc:
        return _refuse(request, connection, exc)
    testing = bool(flow and flow.get("test_by"))
    granted = None
    if not testing:
        # Without the entitlement nothing is written, not even the attempt.
        granted = _entitlement(connection)
        if not granted.available:
            return refusal_page(
                request,
                NOT_ENTITLED.format(
                    organization=connection.organization.name,
                    message=granted.message,
                ),
            )
    try:
        result = flows.response_accept(connection, check, flow)
    except SamlRejectedError as exc:
        return _refuse(request, connection, exc, issuer=check.issuer, test=testing)

    if testing:
        return _test_result(connection, result)
    return identity_sign_in(
        request, result.identity, next_url=result.next_url, granted=granted
    )


def _refuse(request, connection, exc, *, issuer="", test=False):
    security_logger.warning(
        "saml response rejected: %s", exc.code, extra={"connection_id": connection.pk}
    )
    attempt_record(
        connection=connection,
        outcome=LoginAttempt.Outcome.REFUSED,
        reason=exc.code,
        detail=getattr(exc, "detail", ""),
        issuer=issuer,
        test=test,
    )
    return refusal_page(request, REFUSED_PREFIX % exc.message)


def _test_result(connection, result):
    """Record what the IdP sent; the admin is not signed in as that person."""
    identity = result.identity
    try:
        user = identity_check(identity, testing=True)
        would = f"would sign in as {user.email}" if user else "would be created (JIT)"
        reason = ""
    except ProgressionError as exc:
        would, reason = exc.message, exc.code
    attempt = attempt_record(
        connection=connection,
        outcome=LoginAttempt.Outcome.TESTED,
        reason=reason,
        detail=would,
        test=True,
        subject=identity.subject,
        email=identity.email,
        issuer=identity.issuer,
        attributes=identity.attributes,
        mapped=mapped_fields(identity),
        groups_overage=identity.groups_overage,
    )
    connection_tested(connection=connection)
    return redirect("sso:connection-test-result", pk=connection.pk, attempt=attempt.pk)


@require_GET
def single_logout(request, public_id):
    """The IdP's logout messages, over HTTP-Redirect.

    A LogoutRequest ends the session it names and is answered with a
    LogoutResponse; a LogoutResponse answers our own LogoutRequest, sent when
    the person signed out. Anything else, and any message that fails a check,
    is refused with the session untouched: a link to this URL cannot sign
    anyone out.
    """
    connection = _connection(public_id)
    # The signature covers the query string exactly as the IdP wrote it.
    query_string = request.META.get("QUERY_STRING", "")
    try:
        if "SAMLRequest" in request.GET:
            answer = logout.idp_logout(request, connection, query_string=query_string)
            return HttpResponseRedirect(answer) if answer else redirect("signin")
        if "SAMLResponse" in request.GET:
            logout.logout_answered(connection, query_string=query_string)
            return redirect("signin")
        raise SamlRejectedError("logout_missing")
    except SamlRejectedError as exc:
        security_logger.warning(
            "saml logout rejected: %s",
            exc.code,
            extra={"connection_id": connection.pk},
        )
        return refusal_page(request, LOGOUT_REFUSED % exc.message, status=400)
