"""Single logout: a Progression session and the IdP's end together.

- Signing out always ends the Progression session first. When the person came
  in through a SAML connection with an IdP logout URL, they are then sent to
  the IdP with a LogoutRequest naming their NameID and session index; its id
  is kept in the shared store for `LOGOUT_TTL`, and the IdP's LogoutResponse
  must answer that request, once.
- An IdP's LogoutRequest (the person logged out at the IdP, or in another
  application) ends the browser's session only when it came in through that
  connection as the NameID it names (and, when the request lists session
  indexes, in one of them). It is answered with a LogoutResponse either way:
  there is then no session of that person here. Each request is accepted
  once.
- A message that fails any check (`sso.saml.logout`) ends nothing.
"""

import hashlib
import logging

from django.contrib.auth import logout as auth_logout

from sso import saml, store
from sso.models import Connection
from sso.saml import SamlRejectedError

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

# How long a LogoutRequest we sent may be answered.
LOGOUT_TTL = 10 * 60

# What a SAML sign-in keeps in the session, for single logout.
SESSION_NAME_ID = "sso_saml_name_id"
SESSION_NAME_ID_FORMAT = "sso_saml_name_id_format"
SESSION_INDEX = "sso_saml_session_index"


def session_values(assertion: saml.Assertion) -> dict:
    """The session entries a sign-in with this assertion keeps."""
    return {
        SESSION_NAME_ID: assertion.name_id,
        SESSION_NAME_ID_FORMAT: assertion.name_id_format,
        SESSION_INDEX: assertion.session_index or "",
    }


def _key(kind: str, connection: Connection, message_id: str) -> str:
    digest = hashlib.sha256(message_id.encode()).hexdigest()
    return f"sso:saml:{kind}:{connection.pk}:{digest}"


def signout_url(request) -> str | None:
    """Where sign-out continues: the IdP's logout for a SAML session, else None.

    Asked before the session ends, since the NameID is read from it.
    """
    session = request.session
    name_id = session.get(SESSION_NAME_ID)
    connection_id = session.get("sso_connection_id")
    if not name_id or not connection_id:
        return None
    connection = (
        Connection.objects.filter(pk=connection_id, protocol=Connection.Protocol.SAML)
        .exclude(slo_url="")
        .first()
    )
    if connection is None:
        return None
    try:
        url, request_id = saml.logout_request_url(
            connection,
            name_id=name_id,
            name_id_format=session.get(SESSION_NAME_ID_FORMAT, ""),
            session_index=session.get(SESSION_INDEX, ""),
        )
    except SamlRejectedError as exc:
        # Our own session still ends; only the IdP's stays.
        logger.error(
            "saml logout not sent: %s", exc.code, extra={"connection_id": connection.pk}
        )
        return None
    store.put(_key("logout", connection, request_id), {"sent": True}, LOGOUT_TTL)
    logger.info("saml logout sent", extra={"connection_id": connection.pk})
    return url


def logout_answered(connection: Connection, *, query_string: str) -> None:
    """Accept the IdP's LogoutResponse to a live LogoutRequest of ours, once.

    Our session ended when the person signed out; a valid answer only says
    the IdP's has too, so nothing here ends a session.
    """
    in_response_to = saml.logout_response_check(connection, query_string=query_string)
    # Taken only once the answer is valid: a forged one cannot use it up.
    if not store.take(_key("logout", connection, in_response_to)):
        raise SamlRejectedError("logout_unknown_request")
    logger.info("saml logout answered", extra={"connection_id": connection.pk})


def idp_logout(request, connection: Connection, *, query_string: str):
    """Handle an IdP's LogoutRequest; return the URL of our LogoutResponse.

    None when the connection has no IdP logout URL to answer at. Raises
    `SamlRejectedError`, with the session untouched, for any message that is
    not valid, signed and new.
    """
    logout = saml.logout_request_check(connection, query_string=query_string)
    key = _key("logout-request", connection, logout.id)
    if not store.add_once(key, saml.LOGOUT_REQUEST_TTL):
        raise SamlRejectedError("replayed")
    if _session_named(request.session, connection, logout):
        auth_logout(request)
        security_logger.info(
            "saml logout ended a session", extra={"connection_id": connection.pk}
        )
    return saml.logout_response_url(
        connection, in_response_to=logout.id, relay_state=logout.relay_state
    )


def _session_named(session, connection: Connection, logout) -> bool:
    """Whether the browser's session is the one the LogoutRequest names."""
    if session.get("sso_connection_id") != connection.pk:
        return False
    if not logout.name_id or session.get(SESSION_NAME_ID) != logout.name_id:
        return False
    index = session.get(SESSION_INDEX, "")
    return not logout.session_indexes or index in logout.session_indexes
