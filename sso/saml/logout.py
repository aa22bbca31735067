"""Single logout over HTTP-Redirect: our LogoutRequest, and the IdP's messages.

python3-saml reads and signs the messages; on top of its checks, made with
settings that require every IdP message to be signed:

- the Issuer must be present and name the connection's IdP (the library lets
  a message without one through);
- the Destination must be present and equal our SLS URL exactly (the library
  compares a prefix, and skips an absent one);
- a LogoutResponse must carry InResponseTo (the library skips its comparison
  when the attribute is absent), for the caller to match against the
  LogoutRequest it sent;
- the signature is checked over the query string exactly as received, so no
  re-encoding of the parameters can make a valid one fail or a forged one
  pass.

Whether a LogoutRequest's NameID is the signed-in person's, and whether a
LogoutResponse answers a live request of ours, are the caller's
(`sso.logout`), because they need the session and the shared store.
"""

from dataclasses import dataclass
from urllib.parse import parse_qs

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from sso.saml.response import (
    MAX_RESPONSE_BYTES,
    SamlRejectedError,
    _public_request_data,
    _settings_dict,
)

_E = OneLogin_Saml2_ValidationError
_LIBRARY_CODES = {
    _E.INVALID_XML_FORMAT: "invalid_xml",
    _E.NO_SIGNED_MESSAGE: "logout_unsigned",
    _E.INVALID_SIGNATURE: "signature_invalid",
    _E.DEPRECATED_SIGNATURE_METHOD: "sha1_refused",
    _E.WRONG_DESTINATION: "wrong_destination",
    _E.WRONG_ISSUER: "wrong_issuer",
    _E.RESPONSE_EXPIRED: "expired",
    _E.WRONG_INRESPONSETO: "wrong_in_response_to",
}


@dataclass(frozen=True)
class LogoutRequest:
    """What a validated IdP LogoutRequest asks: end this person's session."""

    id: str
    name_id: str
    session_indexes: tuple[str, ...]
    # Handed back to the IdP with our answer, as SAML asks; never followed.
    relay_state: str


def _logout_settings(connection) -> OneLogin_Saml2_Settings:
    """The connection's settings, requiring every IdP logout message signed.

    Only for logout: sign-in responses carry their signature in the XML,
    which `wantMessagesSigned` would make the Response's own.
    """
    data = _settings_dict(connection)
    data["security"]["wantMessagesSigned"] = True
    return OneLogin_Saml2_Settings(data)


_PARAMETERS = ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")
# How old a LogoutRequest may be, and so how long the caller must remember
# the ids of accepted ones to refuse them again.
MESSAGE_MAX_AGE = 10 * 60
_CLOCK_SKEW = 3 * 60
LOGOUT_REQUEST_TTL = MESSAGE_MAX_AGE + _CLOCK_SKEW


def _parameters(query_string: str) -> dict:
    """The query's SAML parameters; each may appear once.

    The signature covers every copy of a parameter while a reader takes one,
    so a repeated parameter is refused rather than risk reading an unsigned
    copy.
    """
    parsed = parse_qs(query_string, keep_blank_values=True)
    if any(len(parsed.get(name, ())) > 1 for name in _PARAMETERS):
        raise SamlRejectedError("logout_malformed", "repeated parameter")
    return {name: values[0] for name, values in parsed.items() if values}


def _request_data(connection, query_string: str, get: dict) -> dict:
    return {
        **_public_request_data(connection.slo_return_url, get=get),
        "query_string": query_string,
        "validate_signature_from_qs": True,
    }


def _auth(connection, request_data: dict) -> OneLogin_Saml2_Auth:
    return OneLogin_Saml2_Auth(request_data, _logout_settings(connection))


def _signature_check(auth, get: dict, kind: str) -> None:
    try:
        auth._validate_signature(get, kind, raise_exceptions=True)
    except OneLogin_Saml2_ValidationError as exc:
        code = _LIBRARY_CODES.get(exc.code, "invalid")
        raise SamlRejectedError(code, str(exc)) from exc
    except OneLogin_Saml2_Error as exc:
        raise SamlRejectedError("not_configured", str(exc)) from exc


def _addressed_to_us(connection, root) -> None:
    destination = root.get("Destination")
    if not destination:
        raise SamlRejectedError("wrong_destination", "no Destination")
    if destination != connection.slo_return_url:
        raise SamlRejectedError("wrong_destination", destination)


def _issued_by_idp(connection, issuer: str | None) -> None:
    if not issuer:
        raise SamlRejectedError("wrong_issuer", "no Issuer")
    if issuer != connection.idp_entity_id:
        raise SamlRejectedError("wrong_issuer", issuer)


def _recent(root) -> None:
    """Refuse a LogoutRequest issued more than `MESSAGE_MAX_AGE` ago.

    NotOnOrAfter is optional; this bounds how long a captured request could
    be replayed to the time its id is remembered.
    """
    try:
        issued = OneLogin_Saml2_Utils.parse_SAML_to_time(root.get("IssueInstant"))
    except (TypeError, ValueError) as exc:
        raise SamlRejectedError("logout_malformed", "IssueInstant") from exc
    age = OneLogin_Saml2_Utils.now() - issued
    if age > MESSAGE_MAX_AGE or age < -_CLOCK_SKEW:
        raise SamlRejectedError("expired", "IssueInstant")


def _check_size(message: str) -> None:
    if not message:
        raise SamlRejectedError("logout_missing")
    if len(message) > MAX_RESPONSE_BYTES:
        raise SamlRejectedError("response_too_large")


def logout_request_url(
    connection, *, name_id: str, name_id_format: str, session_index: str
) -> tuple[str, str]:
    """The HTTP-Redirect URL of our LogoutRequest to the IdP, and its id.

    Signed when the connection has an SP key pair (Okta requires it).
    """
    if not connection.slo_url:
        raise SamlRejectedError("not_configured")
    try:
        auth = OneLogin_Saml2_Auth(
            _public_request_data(connection.slo_return_url),
            _settings_dict(connection),
        )
        # RelayState is our SLS URL (the library's default); never followed.
        url = auth.logout(
            name_id=name_id or None,
            name_id_format=name_id_format or None,
            session_index=session_index or None,
        )
    except OneLogin_Saml2_Error as exc:
        raise SamlRejectedError("not_configured", str(exc)) from exc
    return url, auth.get_last_request_id()


def logout_request_check(connection, *, query_string: str) -> LogoutRequest:
    """Validate an IdP's LogoutRequest fully or raise `SamlRejectedError`."""
    get = _parameters(query_string)
    message = get.get("SAMLRequest", "")
    _check_size(message)
    auth = _auth(connection, _request_data(connection, query_string, get))
    _signature_check(auth, get, "SAMLRequest")
    try:
        request = OneLogin_Saml2_Logout_Request(auth.get_settings(), message)
        xml = request.get_xml()
        root = OneLogin_Saml2_XML.to_etree(xml)
        request.is_valid(
            _request_data(connection, query_string, get), raise_exceptions=True
        )
        name_id = OneLogin_Saml2_Logout_Request.get_nameid(xml)
        session_indexes = OneLogin_Saml2_Logout_Request.get_session_indexes(xml)
        issuer = OneLogin_Saml2_Logout_Request.get_issuer(xml)
    except OneLogin_Saml2_ValidationError as exc:
        raise SamlRejectedError(
            _LIBRARY_CODES.get(exc.code, "invalid"), str(exc)
        ) from exc
    except Exception as exc:  # noqa: BLE001 - a message we cannot read is refused
        raise SamlRejectedError("logout_malformed", str(exc)) from exc
    _issued_by_idp(connection, issuer)
    _addressed_to_us(connection, root)
    _recent(root)
    return LogoutRequest(
        id=root.get("ID", ""),
        name_id=name_id or "",
        session_indexes=tuple(session_indexes),
        relay_state=get.get("RelayState", ""),
    )


def logout_response_check(connection, *, query_string: str) -> str:
    """Validate the IdP's LogoutResponse; return the request id it answers.

    Whether that id names a live request of ours is the caller's to check.
    """
    get = _parameters(query_string)
    message = get.get("SAMLResponse", "")
    _check_size(message)
    request_data = _request_data(connection, query_string, get)
    auth = _auth(connection, request_data)
    _signature_check(auth, get, "SAMLResponse")
    try:
        response = OneLogin_Saml2_Logout_Response(auth.get_settings(), message)
        response.is_valid(request_data, raise_exceptions=True)
        issuer = response.get_issuer()
        status = response.get_status()
        root = response.document
    except OneLogin_Saml2_ValidationError as exc:
        raise SamlRejectedError(
            _LIBRARY_CODES.get(exc.code, "invalid"), str(exc)
        ) from exc
    except Exception as exc:  # noqa: BLE001 - a message we cannot read is refused
        raise SamlRejectedError("logout_malformed", str(exc)) from exc
    _issued_by_idp(connection, issuer)
    _addressed_to_us(connection, root)
    in_response_to = root.get("InResponseTo")
    if not in_response_to:
        raise SamlRejectedError("wrong_in_response_to", "no InResponseTo")
    if status != Constants.STATUS_SUCCESS:
        raise SamlRejectedError("status_not_success", status or "")
    return in_response_to


def logout_response_url(
    connection, *, in_response_to: str, relay_state: str
) -> str | None:
    """The HTTP-Redirect URL of our LogoutResponse (Success) to the IdP.

    None when the connection has no IdP logout URL to answer at.
    """
    if not connection.slo_url:
        return None
    settings_object = OneLogin_Saml2_Settings(_settings_dict(connection))
    response = OneLogin_Saml2_Logout_Response(settings_object)
    response.build(in_response_to)
    parameters = {"SAMLResponse": response.get_response()}
    if relay_state:
        parameters["RelayState"] = relay_state
    auth = OneLogin_Saml2_Auth(
        _public_request_data(connection.slo_return_url), settings_object
    )
    security = settings_object.get_security_data()
    if security["logoutResponseSigned"]:
        auth.add_response_signature(parameters, security["signatureAlgorithm"])
    return OneLogin_Saml2_Utils.redirect(
        settings_object.get_idp_slo_response_url(), parameters
    )
