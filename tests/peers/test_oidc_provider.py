"""The OpenID provider peer behaves like a real one: the sign-in tests rely on it."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qsl, urlencode, urlparse

import jwt
import pytest
import requests

from tests.peers.oidc_provider import OidcProvider

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    peer = OidcProvider(
        tmp_path_factory.mktemp("oidc"),
        clients=[
            {
                "client_id": "app",
                "client_secret": "app-secret",
                "redirect_uris": [REDIRECT],
            }
        ],
        accounts={
            "sub-ann": {
                "email": "ann@acme.example",
                "email_verified": True,
                "given_name": "Ann",
                "family_name": "Lee",
            }
        },
    ).start()
    yield peer
    peer.stop()


def _authorize_url(provider, **extra) -> str:
    discovery = requests.get(
        f"{provider.issuer}/.well-known/openid-configuration", timeout=5
    ).json()
    query = {
        "client_id": "app",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid email profile",
        "state": "state-1",
        "nonce": "nonce-1",
        **extra,
    }
    return f"{discovery['authorization_endpoint']}?{urlencode(query)}"


def test_provider_code_flow_with_pkce_returns_signed_id_token(provider):
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    url = _authorize_url(
        provider, code_challenge=challenge, code_challenge_method="S256"
    )

    back = provider.sign_in(url, login="sub-ann")
    query = dict(parse_qsl(urlparse(back).query))
    tokens = requests.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=("app", "app-secret"),
        timeout=5,
    ).json()
    keys = jwt.PyJWKClient(f"{provider.issuer}/jwks")
    signing_key = keys.get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(
        tokens["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience="app",
        issuer=provider.issuer,
    )

    assert query["state"] == "state-1"
    assert claims["sub"] == "sub-ann"
    assert claims["email"] == "ann@acme.example"
    assert claims["nonce"] == "nonce-1"


def test_provider_without_pkce_refuses(provider):
    response = requests.get(_authorize_url(provider), allow_redirects=False, timeout=5)

    location = response.headers["Location"]
    assert dict(parse_qsl(urlparse(location).query))["error"] == "invalid_request"
