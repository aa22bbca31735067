"""ID token checks on tokens built by hand: algorithms, keys, claim shapes.

The peer signs the well-formed ones with its published key (`mint`); the
forged ones are signed with keys it never published or with the client
secret, as an attacker would.
"""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sso.oidc.discovery import document_check, signing_algorithms
from sso.oidc.errors import OidcRejectedError
from sso.oidc.tokens import id_token_verify
from tests.sso.oidc_peer import CLIENT_ID, CLIENT_SECRET, oidc_connect

NONCE = "nonce-of-this-sign-in"


@pytest.fixture
def connection(organization, peer):
    return oidc_connect(organization, peer.issuer, activate=False)


def claims(peer, **changes) -> dict:
    now = int(time.time())
    return {
        "iss": peer.issuer,
        "aud": CLIENT_ID,
        "sub": "sub-ada",
        "nonce": NONCE,
        "iat": now,
        "exp": now + 300,
        **changes,
    }


def refused(connection, token, nonce=NONCE) -> str:
    with pytest.raises(OidcRejectedError) as caught:
        id_token_verify(connection, token, nonce=nonce)
    return caught.value.code


def test_token_signed_by_the_provider_is_accepted(connection, peer):
    token = peer.mint(claims(peer, email="ada@acme.example"))

    verified = id_token_verify(connection, token, nonce=NONCE)

    assert verified["sub"] == "sub-ada"
    assert verified["email"] == "ada@acme.example"


def test_hs256_signed_with_the_client_secret_is_refused(connection, peer):
    token = jwt.encode(claims(peer), CLIENT_SECRET, algorithm="HS256")

    assert refused(connection, token) == "algorithm_refused"


def test_unsigned_token_is_refused(connection, peer):
    token = jwt.encode(claims(peer), None, algorithm="none")

    assert refused(connection, token) == "algorithm_refused"


def test_algorithm_the_discovery_does_not_list_is_refused(connection, peer):
    connection.discovery = {
        **connection.discovery,
        "id_token_signing_alg_values_supported": ["ES256"],
    }

    assert refused(connection, peer.mint(claims(peer))) == "algorithm_refused"


def test_key_the_provider_never_published_is_an_unknown_key(connection, peer):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        claims(peer), forger, algorithm="RS256", headers={"kid": "forged-key"}
    )

    assert refused(connection, token) == "unknown_key"


def test_forged_signature_under_the_providers_kid_is_refused(connection, peer):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        claims(peer), forger, algorithm="RS256", headers={"kid": peer.kid}
    )

    assert refused(connection, token) == "signature_invalid"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"nonce": "another-nonce"}, "nonce_mismatch"),
        ({"aud": [CLIENT_ID, "another-app"]}, "wrong_audience"),
        ({"aud": [CLIENT_ID, "another-app"], "azp": CLIENT_ID}, None),
        ({"iss": "https://127.0.0.1.evil.example"}, "wrong_issuer"),
        ({"sub": None}, "subject_missing"),
        ({"exp": None}, "token_malformed"),
    ],
)
def test_claim_shapes(connection, peer, changes, reason):
    body = {k: v for k, v in claims(peer, **changes).items() if v is not None}
    token = peer.mint(body)

    if reason is None:
        assert id_token_verify(connection, token, nonce=NONCE)["azp"] == CLIENT_ID
    else:
        assert refused(connection, token) == reason


def test_missing_nonce_in_the_session_is_refused(connection, peer):
    assert refused(connection, peer.mint(claims(peer)), nonce=None) == (
        "nonce_mismatch"
    )


def test_garbage_is_a_malformed_token(connection):
    assert refused(connection, "not.a.jwt") == "token_malformed"


def test_keys_are_cached_between_sign_ins(connection, peer):
    for _ in range(3):
        id_token_verify(connection, peer.mint(claims(peer)), nonce=NONCE)

    assert peer.stats()["jwks"] == 1


def test_many_unknown_kids_are_rate_limited(connection, peer):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for n in range(10):
        token = jwt.encode(
            claims(peer), forger, algorithm="RS256", headers={"kid": f"odd-{n}"}
        )
        assert refused(connection, token) == "unknown_key"

    # One fill, then at most five refetches a minute.
    assert peer.stats()["jwks"] == 6


def test_discovery_offering_only_hs256_is_refused(peer):
    document = {
        "issuer": peer.issuer,
        "authorization_endpoint": f"{peer.issuer}/auth",
        "token_endpoint": f"{peer.issuer}/token",
        "jwks_uri": f"{peer.issuer}/jwks",
        "id_token_signing_alg_values_supported": ["HS256", "none"],
    }

    with pytest.raises(OidcRejectedError) as caught:
        document_check(document, peer.issuer, tenant_templated=False)

    assert caught.value.code == "discovery_invalid"
    assert signing_algorithms(document) == []


def test_discovery_without_algorithms_means_rs256():
    assert signing_algorithms({}) == ["RS256"]


def test_discovery_missing_an_endpoint_is_refused(peer):
    document = {"issuer": peer.issuer, "authorization_endpoint": "https://a/x"}

    with pytest.raises(OidcRejectedError) as caught:
        document_check(
            json.loads(json.dumps(document)), peer.issuer, tenant_templated=False
        )

    assert caught.value.code == "discovery_invalid"
