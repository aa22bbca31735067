"""ID token checks: the one place an OIDC provider's word becomes trusted.

An ID token is accepted only if all of these hold:

- it is signed with an algorithm both the provider's discovery document and
  we accept (asymmetric only, so never HS256), by a key the provider
  publishes under the key id in the token's header;
- `iss` is the connection's issuer: Google also writes it without the scheme;
  Entra writes its tenant-templated issuer with the token's own `tid`;
- `aud` names the connection's client id, and `azp`, when present or when
  there are several audiences, is that client id;
- `exp` is in the future and `iat` not in the future, within `LEEWAY`;
- `nonce` is the one stored with this sign-in's `state`;
- for Google, `hd` is one of the connection's allowed hosted domains; for
  Microsoft, `tid` is one of its allowed tenant ids. Either list being empty
  lets no one in: a consumer Google account or a stranger's tenant would
  otherwise be a valid identity.
"""

import hmac
import logging

import jwt

from sso.models import Connection
from sso.oidc import keys
from sso.oidc.discovery import signing_algorithms
from sso.oidc.errors import OidcRejectedError
from sso.oidc.providers import TENANT_PLACEHOLDER

logger = logging.getLogger(__name__)

LEEWAY = 60
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]


def _header(token: str) -> dict:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise OidcRejectedError("token_malformed") from exc


def _decode(token: str, key, alg: str, client_id: str) -> dict:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=client_id,
            leeway=LEEWAY,
            options={"require": REQUIRED_CLAIMS, "verify_iss": False},
        )
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as exc:
        raise OidcRejectedError("expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise OidcRejectedError("wrong_audience") from exc
    except jwt.InvalidSignatureError as exc:
        raise OidcRejectedError("signature_invalid") from exc
    except jwt.MissingRequiredClaimError as exc:
        code = "subject_missing" if exc.claim == "sub" else "token_malformed"
        raise OidcRejectedError(code) from exc
    except jwt.PyJWTError as exc:
        raise OidcRejectedError("token_malformed") from exc


def accepted_issuers(connection: Connection, claims: dict) -> set[str]:
    issuers = {connection.issuer}
    discovered = str(connection.discovery.get("issuer", ""))
    if connection.provider == "google-oauth":
        # Google's tokens carry either form, as its documentation says.
        issuers.add(connection.issuer.split("://", 1)[-1])
    if connection.provider == "microsoft-oauth" and TENANT_PLACEHOLDER in discovered:
        tenant = claims.get("tid")
        if isinstance(tenant, str) and tenant and "/" not in tenant:
            issuers.add(discovered.replace(TENANT_PLACEHOLDER, tenant))
    elif discovered:
        issuers.add(discovered)
    return issuers


def _check_audience(claims: dict, client_id: str) -> None:
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise OidcRejectedError("wrong_audience")


def _check_nonce(claims: dict, nonce: str | None) -> None:
    sent = claims.get("nonce")
    if not nonce or not isinstance(sent, str):
        raise OidcRejectedError("nonce_mismatch")
    if not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise OidcRejectedError("nonce_mismatch")


def _check_tenancy(connection: Connection, claims: dict) -> None:
    if connection.provider == "google-oauth":
        allowed = {d.lower() for d in connection.allowed_hosted_domains}
        if str(claims.get("hd", "")).lower() not in allowed:
            raise OidcRejectedError("hosted_domain_refused")
    if connection.provider == "microsoft-oauth":
        allowed = {t.lower() for t in connection.allowed_tenant_ids}
        if str(claims.get("tid", "")).lower() not in allowed:
            raise OidcRejectedError("tenant_refused")


def id_token_verify(connection: Connection, token: str, *, nonce: str | None) -> dict:
    """Return the claims of a valid ID token for this connection, or raise."""
    if not token:
        raise OidcRejectedError("token_missing")
    header = _header(token)
    alg = header.get("alg")
    if alg not in signing_algorithms(connection.discovery):
        raise OidcRejectedError("algorithm_refused")
    kid = header.get("kid")
    key = keys.signing_key(
        connection.discovery["jwks_uri"],
        kid=kid if isinstance(kid, str) else None,
        alg=alg,
    )
    claims = _decode(token, key, alg, connection.client_id)
    if claims["iss"] not in accepted_issuers(connection, claims):
        raise OidcRejectedError("wrong_issuer")
    _check_audience(claims, connection.client_id)
    _check_nonce(claims, nonce)
    _check_tenancy(connection, claims)
    return claims
