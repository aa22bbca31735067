"""The provider's UserInfo endpoint, for claims an ID token leaves out.

Some providers put only `sub` (and the protocol's own claims) in the ID
token and hand out email and names at UserInfo, for the access token. We ask
only when the ID token lacks a claim the connection maps to email or a name,
and only when discovery lists a `userinfo_endpoint`.

UserInfo is not signed here, so its answer is trusted only as far as OpenID
Connect Core 5.3.2 allows: its `sub` must be the ID token's, or the answer is
about someone else and the sign-in is refused. The ID token stays the
authority: a claim present in both is the token's, and UserInfo never
supplies what says who or where the person is (subject, issuer, audience,
tenant, hosted domain), which the token checks have already decided. An
email and whether it is verified come together from the same source, so an
unverified address is never paired with another source's `email_verified`.
"""

import hmac
import json
import logging

from progression.errors import ProgressionError
from progression.outbound import send
from sso.models import Connection
from sso.oidc.errors import OidcRejectedError

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

MAX_USERINFO_BYTES = 64 * 1024
USERINFO_TIMEOUT = 5.0
# Never taken from UserInfo: the ID token's checks decided these.
_TOKEN_ONLY = {
    "sub",
    "iss",
    "aud",
    "azp",
    "exp",
    "iat",
    "nbf",
    "nonce",
    "auth_time",
    "at_hash",
    "c_hash",
    "sid",
    "tid",
    "oid",
    "hd",
}


def _mapped_names(connection: Connection) -> list[str]:
    mapping = connection.attribute_mapping or {}
    return [
        mapping.get(field) or default
        for field, default in (
            ("email", "email"),
            ("first_name", ""),
            ("last_name", ""),
        )
        if mapping.get(field) or default
    ]


def wanted(connection: Connection, claims: dict) -> bool:
    """Whether the ID token lacks a mapped email or name UserInfo may have."""
    if not (connection.discovery or {}).get("userinfo_endpoint"):
        return False
    return any(claims.get(name) in (None, "") for name in _mapped_names(connection))


def _fetch(connection: Connection, access_token: str) -> dict:
    extra = {"connection_id": connection.pk}
    try:
        response = send(
            "GET",
            connection.discovery["userinfo_endpoint"],
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json",
            },
            timeout=USERINFO_TIMEOUT,
            max_bytes=MAX_USERINFO_BYTES,
        )
    except ProgressionError as exc:
        logger.warning("oidc userinfo request failed", extra=extra)
        raise OidcRejectedError("userinfo_failed") from exc
    if response.status != 200:
        logger.warning("oidc userinfo refused: %s", response.status, extra=extra)
        raise OidcRejectedError("userinfo_failed")
    try:
        answer = json.loads(response.content)
    except ValueError as exc:
        # A signed (application/jwt) answer is not asked for and not read.
        logger.warning("oidc userinfo not json", extra=extra)
        raise OidcRejectedError("userinfo_failed") from exc
    if not isinstance(answer, dict):
        raise OidcRejectedError("userinfo_failed")
    return answer


def claims_completed(connection: Connection, claims: dict, access_token) -> dict:
    """The ID token's claims, completed from UserInfo when it lacks some."""
    if not wanted(connection, claims):
        return claims
    if not isinstance(access_token, str) or not access_token:
        raise OidcRejectedError("userinfo_failed")
    answer = _fetch(connection, access_token)

    subject = answer.get("sub")
    if not isinstance(subject, str) or not hmac.compare_digest(
        subject.encode(), str(claims["sub"]).encode()
    ):
        security_logger.warning(
            "oidc userinfo refused: another subject",
            extra={"connection_id": connection.pk},
        )
        raise OidcRejectedError("userinfo_subject_mismatch")

    extra = {name: value for name, value in answer.items() if name not in _TOKEN_ONLY}
    token = {name: value for name, value in claims.items() if value not in (None, "")}
    email_name = (connection.attribute_mapping or {}).get("email") or "email"
    if email_name in token:
        extra.pop("email_verified", None)
    else:
        token.pop("email_verified", None)
    return {**extra, **token}
