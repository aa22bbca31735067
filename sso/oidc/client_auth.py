"""How we prove at the token endpoint that we are the provider's client.

Three methods, picked per connection among those the provider's discovery
document lists (`token_endpoint_auth_methods_supported`, which means
`client_secret_basic` alone when absent, OpenID Connect Discovery 1.0):

- `client_secret_basic`: the client id and secret in an HTTP Basic header,
  each form-encoded first (RFC 6749, section 2.3.1);
- `client_secret_post`: both in the request body;
- `private_key_jwt`: no shared secret at all. Each token request carries a
  short-lived JWT signed with an RSA key only we hold (RFC 7523, OpenID
  Connect Core 1.0 section 9): `iss` and `sub` are the client id, `aud` the
  token endpoint, `jti` fresh each time so a captured assertion cannot be
  replayed, `exp` a minute away. The provider checks it against the public
  key we publish at the connection's JWKS URL.

A replaced key rolls over in two steps, so that a provider caching our key
set never meets an assertion signed with a key it has not seen: the new key
is published beside the current one at once, and signs only `ROLLOVER`
later, once every provider honouring the key set's cache lifetime has it.
A key that may have leaked is replaced at once instead.
"""

import base64
import hashlib
import json
import time
import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from sso.models import Connection
from sso.oidc.errors import OidcRejectedError

PRIVATE_KEY_JWT = "private_key_jwt"  # noqa: S105 - a method's name
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 60
SIGNING_ALGORITHM = "RS256"
KEY_SIZE = 3072
DEFAULT_METHODS = ["client_secret_basic"]
# How long the JWKS URL may be cached by a provider.
JWKS_MAX_AGE = 60
# How long a new key is published before it signs: ten cache lifetimes.
ROLLOVER = timedelta(seconds=10 * JWKS_MAX_AGE)


def supported_methods(discovery: dict) -> list[str]:
    """The token endpoint's methods we can use, in the provider's words."""
    offered = (discovery or {}).get("token_endpoint_auth_methods_supported")
    if not isinstance(offered, list) or not offered:
        offered = DEFAULT_METHODS
    return [
        method
        for method in ("client_secret_basic", "client_secret_post", "private_key_jwt")
        if method in offered
    ]


def method_of(connection: Connection) -> str:
    """The connection's chosen method, or the secret method the provider takes."""
    if connection.token_auth_method:
        return connection.token_auth_method
    methods = supported_methods(connection.discovery)
    if "client_secret_basic" in methods:
        return "client_secret_basic"
    return "client_secret_post"


def signing_key_generate() -> str:
    """A new RSA private key, as unencrypted PKCS#8 PEM (encrypted at rest)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@lru_cache(maxsize=64)
def _loaded(pem: str):
    # The key is ours: generated here and stored under authenticated
    # encryption, so the RSA consistency check (a tenth of a second per
    # load, on every sign-in) cannot find anything and is skipped; each
    # process loads a key once.
    return serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
    )


def _signing_pem(connection: Connection, now: datetime | None = None) -> str:
    """The key that signs now: the replacement once its rollover has passed."""
    if connection.client_signing_key_next and (
        connection.client_signing_key_next_at is not None
        and connection.client_signing_key_next_at + ROLLOVER <= (now or timezone.now())
    ):
        return connection.client_signing_key_next
    return connection.client_signing_key


def _public(pem: str) -> dict:
    """A key's public half as a JWK, its kid the RFC 7638 thumbprint.

    The thumbprint changes with the key, so a provider that caches our JWKS
    sees a new kid after the key is replaced and fetches it again.
    """
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(_loaded(pem).public_key(), as_dict=True)
    public = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}
    return {
        **public,
        "kid": _thumbprint(public),
        "use": "sig",
        "alg": SIGNING_ALGORITHM,
    }


def public_jwk(connection: Connection) -> dict:
    """The public half of the key that signs now."""
    return _public(_signing_pem(connection))


def next_jwk(connection: Connection) -> dict | None:
    """The public half of a replacement still waiting to sign, if any."""
    if _signing_pem(connection) == connection.client_signing_key_next:
        return None
    if not connection.client_signing_key_next:
        return None
    return _public(connection.client_signing_key_next)


def _thumbprint(public: dict) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without spaces."""
    canonical = json.dumps(
        {"e": public["e"], "kty": "RSA", "n": public["n"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def jwks(connection: Connection) -> dict:
    """What the connection's JWKS URL serves: every key that signs or will."""
    pems = [connection.client_signing_key, connection.client_signing_key_next]
    return {"keys": [_public(pem) for pem in dict.fromkeys(pems) if pem]}


def client_assertion(connection: Connection, token_endpoint: str) -> str:
    """A signed assertion that we are the connection's client, for one request."""
    now = int(time.time())
    claims = {
        "iss": connection.client_id,
        "sub": connection.client_id,
        "aud": token_endpoint,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
    }
    pem = _signing_pem(connection)
    return jwt.encode(
        claims,
        _loaded(pem),
        algorithm=SIGNING_ALGORITHM,
        headers={"kid": _public(pem)["kid"]},
    )


def authenticate(
    connection: Connection, payload: dict, headers: dict, token_endpoint: str
) -> None:
    """Add the client's proof to a token request's body and headers, in place."""
    method = method_of(connection)
    secret = payload.pop("client_secret", "")
    if method == PRIVATE_KEY_JWT:
        if not connection.client_signing_key:
            raise OidcRejectedError("client_key_missing")
        payload["client_assertion_type"] = ASSERTION_TYPE
        payload["client_assertion"] = client_assertion(connection, token_endpoint)
    elif method == "client_secret_post":
        payload["client_secret"] = secret
    else:
        pair = f"{quote(payload['client_id'], safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode(
            "ascii"
        )
