"""The provider's discovery document: fetched through the SSRF-safe client.

A connection's document is fetched when its issuer is saved and refreshed
daily. It is accepted only if it names the configured issuer (Entra's
multi-tenant documents name a template of it, `{tenantid}` in the tenant's
place), lists the endpoints the code flow needs, and offers at least one
signing algorithm we accept: an issuer we did not configure never signs
anyone in.
"""

import json
import logging
from urllib.parse import urlsplit

from progression.errors import ProgressionError
from progression.outbound import fetch
from sso.oidc.errors import OidcRejectedError
from sso.oidc.providers import TENANT_PLACEHOLDER

logger = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/openid-configuration"
MAX_DOCUMENT_BYTES = 256 * 1024
# Asymmetric algorithms only: with a shared-secret one (HS256) anyone who
# holds the client secret, the provider's whole support desk included, could
# mint ID tokens. "none" is never accepted.
ACCEPTED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
)
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + WELL_KNOWN


def tenant_template(issuer: str) -> str:
    """The issuer with its first path segment (the tenant) as the placeholder."""
    parts = urlsplit(issuer)
    segments = parts.path.split("/")
    if len(segments) < 2 or not segments[1]:
        return issuer
    segments[1] = TENANT_PLACEHOLDER
    return parts._replace(path="/".join(segments)).geturl()


def expected_issuers(issuer: str, *, tenant_templated: bool) -> set[str]:
    expected = {issuer}
    if tenant_templated:
        expected.add(tenant_template(issuer))
    return expected


def document_fetch(issuer: str, *, tenant_templated: bool = False) -> dict:
    """Fetch and validate the issuer's discovery document; raise why not."""
    try:
        result = fetch(discovery_url(issuer), max_bytes=MAX_DOCUMENT_BYTES)
    except ProgressionError as exc:
        raise OidcRejectedError("discovery_failed", exc.message) from exc
    try:
        document = json.loads(result.content)
    except ValueError as exc:
        raise OidcRejectedError("discovery_invalid", "not JSON") from exc
    return document_check(document, issuer, tenant_templated=tenant_templated)


def document_check(document, issuer: str, *, tenant_templated: bool) -> dict:
    if not isinstance(document, dict):
        raise OidcRejectedError("discovery_invalid", "not a JSON object")
    named = document.get("issuer")
    if named not in expected_issuers(issuer, tenant_templated=tenant_templated):
        logger.warning("oidc discovery names another issuer")
        raise OidcRejectedError("issuer_mismatch", str(named)[:200])
    for name in REQUIRED_ENDPOINTS:
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise OidcRejectedError("discovery_invalid", f"no {name}")
    if not signing_algorithms(document):
        raise OidcRejectedError(
            "discovery_invalid", "no accepted ID token signing algorithm"
        )
    return document


def signing_algorithms(document: dict) -> list[str]:
    """The algorithms both the provider offers and we accept, in our order.

    A document that lists none is taken to mean RS256, the one every
    provider must support (OpenID Connect Discovery 1.0, section 3).
    """
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    if not isinstance(offered, list):
        return []
    return [alg for alg in ACCEPTED_ALGORITHMS if alg in offered]
