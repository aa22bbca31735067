"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

When a person who came in through an OIDC connection signs out, their
Progression session ends first; then, if the provider's discovery lists an
`end_session_endpoint`, the browser is sent there with:

- `id_token_hint`: the ID token of this sign-in, so the provider knows whose
  session to end. It is kept in the server-side session for this alone and
  only for connections whose provider has the endpoint; it never reaches a
  cookie, a log line or the attempt log;
- `client_id`, and `post_logout_redirect_uri`: our signed-out page, one URL
  for every connection, which the admin registers at the provider;
- `state`: random, kept in the shared store for `LOGOUT_TTL` and answered
  once, so the signed-out page says "signed out at the provider" only for a
  logout we started.

Without the endpoint, signing out just ends the Progression session.
"""

import hashlib
import logging
import secrets
from urllib.parse import urlencode, urlsplit, urlunsplit

from sso import store
from sso.models import Connection

logger = logging.getLogger(__name__)

SESSION_ID_TOKEN = "sso_oidc_id_token"  # noqa: S105 - a session key's name
LOGOUT_TTL = 10 * 60


def _endpoint(connection: Connection) -> str:
    endpoint = (connection.discovery or {}).get("end_session_endpoint")
    if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
        return endpoint
    return ""


def session_values(connection: Connection, id_token) -> dict:
    """What an OIDC sign-in keeps in the session for logout: maybe nothing."""
    if not _endpoint(connection) or not isinstance(id_token, str):
        return {}
    return {SESSION_ID_TOKEN: id_token}


def _state_key(state: str) -> str:
    return f"sso:oidc:logout:{hashlib.sha256(state.encode()).hexdigest()}"


def end_session_url(request) -> str | None:
    """Where sign-out continues: the provider's end-session URL, or None.

    Asked before the session ends, since the ID token is read from it.
    """
    session = request.session
    id_token = session.get(SESSION_ID_TOKEN)
    connection_id = session.get("sso_connection_id")
    if not id_token or not connection_id:
        return None
    connection = Connection.objects.filter(
        pk=connection_id, protocol=Connection.Protocol.OIDC
    ).first()
    endpoint = _endpoint(connection) if connection is not None else ""
    if not endpoint:
        return None

    state = secrets.token_urlsafe(24)
    store.put(_state_key(state), {"connection_id": connection.pk}, LOGOUT_TTL)
    parts = urlsplit(endpoint)
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": connection.client_id,
            "post_logout_redirect_uri": connection.post_logout_redirect_uri,
            "state": state,
        }
    )
    # The provider's own query (Entra's `?p=` policy) is kept.
    query = f"{parts.query}&{query}" if parts.query else query
    logger.info("oidc logout sent", extra={"connection_id": connection.pk})
    return urlunsplit(parts._replace(query=query))


def logout_returned(state: str) -> Connection | None:
    """The connection a logout we started came back from, once; else None."""
    if not state:
        return None
    key = _state_key(state)
    entry = store.get(key)
    if not entry or not store.take(key):
        return None
    return (
        Connection.objects.select_related("organization")
        .filter(pk=entry.get("connection_id"), protocol=Connection.Protocol.OIDC)
        .first()
    )
