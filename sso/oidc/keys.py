"""The provider's signing keys (JWKS), cached in the shared cache.

Every web process reads the same cached key set, so a sign-in costs no fetch
while the provider's keys stay the same. A token signed with a key id we have
not seen makes one fetch, since providers publish a new key before they sign
with it; a key id still unknown after that refetch is refused without another
fetch for a while, and a few refetches a minute per key set is the most any
stream of odd tokens can cause.
"""

import hashlib
import json
import logging

import jwt
from django.core.cache import cache

from progression.errors import ProgressionError
from progression.outbound import fetch
from sso.oidc.errors import OidcRejectedError

logger = logging.getLogger(__name__)

JWKS_TTL = 24 * 60 * 60
# How long an unknown key id is not fetched for again.
UNKNOWN_KID_TTL = 5 * 60
# At most this many refetches of one key set per minute, whatever the kids.
REFETCHES_PER_MINUTE = 5
MAX_JWKS_BYTES = 256 * 1024


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _cache_key(jwks_uri: str) -> str:
    return f"sso:oidc:jwks:{_digest(jwks_uri)}"


def _fetch(jwks_uri: str) -> list[dict]:
    try:
        result = fetch(jwks_uri, max_bytes=MAX_JWKS_BYTES)
        keys = json.loads(result.content).get("keys")
    except (ProgressionError, ValueError, AttributeError) as exc:
        logger.warning("oidc jwks fetch failed")
        raise OidcRejectedError("keys_failed") from exc
    if not isinstance(keys, list):
        raise OidcRejectedError("keys_failed")
    keys = [key for key in keys if isinstance(key, dict)]
    cache.set(_cache_key(jwks_uri), keys, JWKS_TTL)
    return keys


def _match(keys: list[dict], kid: str | None, alg: str) -> dict | None:
    candidates = [
        key
        for key in keys
        if key.get("use", "sig") == "sig" and key.get("alg", alg) == alg
    ]
    if kid is None:
        # Without a key id only an unambiguous key set can be trusted.
        return candidates[0] if len(candidates) == 1 else None
    return next((key for key in candidates if key.get("kid") == kid), None)


def _refetch_allowed(jwks_uri: str, kid: str | None) -> bool:
    if not cache.add(
        f"{_cache_key(jwks_uri)}:kid:{_digest(str(kid))}", 1, UNKNOWN_KID_TTL
    ):
        return False
    counter = f"{_cache_key(jwks_uri)}:refetches"
    cache.add(counter, 0, 60)
    try:
        return cache.incr(counter) <= REFETCHES_PER_MINUTE
    except ValueError:
        return True


def signing_key(jwks_uri: str, *, kid: str | None, alg: str) -> jwt.PyJWK:
    """The provider's public key for this token header, or `unknown_key`."""
    keys = cache.get(_cache_key(jwks_uri))
    if keys is None:
        keys = _fetch(jwks_uri)
    jwk = _match(keys, kid, alg)
    if jwk is None and _refetch_allowed(jwks_uri, kid):
        logger.info("oidc jwks refetched for an unknown key id")
        jwk = _match(_fetch(jwks_uri), kid, alg)
    if jwk is None:
        raise OidcRejectedError("unknown_key")
    try:
        return jwt.PyJWK(jwk, algorithm=alg)
    except jwt.PyJWTError as exc:
        raise OidcRejectedError("unknown_key") from exc
