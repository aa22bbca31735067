"""The OpenID provider peer for the OIDC sign-in tests, and their helpers.

Two providers run for the session: one that plays a generic provider and
Google (its accounts carry `hd`), and one that plays Entra: its issuer is
`/<tenant id>/v2.0`, it serves discovery under `/organizations/v2.0` too and
reports the tenant-templated issuer there, and its tokens carry `tid`/`oid`.
Our side is reached both as Django's test client (`http://testserver`) and
as the live server, so both are registered redirect URIs.
"""

from urllib.parse import parse_qsl, urlsplit

import pytest

from sso.models import Connection
from sso.oidc import services as oidc_services
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_settings_set,
)
from tests.peers.oidc_provider import OidcProvider

CLIENT_ID = "progression"
CLIENT_SECRET = "progression-client-secret-of-the-test-peer"  # noqa: S105 - the peer's test client
OTHER_CLIENT_ID = "another-app"
TESTSERVER = "http://testserver"
CALLBACK_PATH = "/sso/oidc/callback/"
SIGNED_OUT_PATH = "/sso/oidc/signed-out/"
TENANT = "6f1c2f0e-4a4b-4f55-9d51-0a6b1f3c7e21"
OTHER_TENANT = "0b9e8c1d-2e3f-4a5b-8c7d-6e5f4a3b2c1d"

ACCOUNTS = {
    "sub-ada": {
        "email": "ada@acme.example",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "groups": ["staff", "engineering"],
    },
    "sub-newcomer": {
        "email": "newcomer@acme.example",
        "email_verified": True,
        "given_name": "New",
        "family_name": "Comer",
    },
    "sub-gina": {
        "email": "gina@acme.example",
        "email_verified": True,
        "given_name": "Gina",
        "family_name": "Google",
        "hd": "acme.example",
    },
    "sub-gus": {
        "email": "gus@acme.example",
        "email_verified": True,
        "given_name": "Gus",
        "family_name": "Outsider",
        "hd": "globex.example",
    },
    "sub-pat": {
        "email": "pat@acme.example",
        "email_verified": True,
        "given_name": "Pat",
        "family_name": "Personal",
    },
}
MS_ACCOUNTS = {
    "ms-ada": {
        "email": "ada@acme.example",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "tid": TENANT,
        "oid": "00000000-0000-0000-0000-00000000ada0",
    },
}


def _clients(redirect_uris):
    return [
        {
            "client_id": client_id,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": redirect_uris,
            "post_logout_redirect_uris": [
                uri.replace(CALLBACK_PATH, SIGNED_OUT_PATH) for uri in redirect_uris
            ],
        }
        for client_id in (CLIENT_ID, OTHER_CLIENT_ID)
    ]


def _redirects(live_server) -> list[str]:
    return [TESTSERVER + CALLBACK_PATH, live_server.url + CALLBACK_PATH]


def peer_redirects(live_server) -> list[str]:
    """The redirect URIs our side is reached at (test client, live server)."""
    return _redirects(live_server)


@pytest.fixture(scope="session")
def oidc_peer(tmp_path_factory, live_server):
    peer = OidcProvider(
        tmp_path_factory.mktemp("oidc-peer"),
        clients=_clients(_redirects(live_server)),
        accounts=ACCOUNTS,
    ).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def entra_peer(tmp_path_factory, live_server):
    peer = OidcProvider(
        tmp_path_factory.mktemp("entra-peer"),
        clients=_clients(_redirects(live_server)),
        accounts=MS_ACCOUNTS,
        kid="entra-key-1",
        issuer_path=f"/{TENANT}/v2.0",
        discovery_prefixes=["/organizations/v2.0"],
    )
    peer.discovery = {"issuer": f"{peer.base_url}/{{tenantid}}/v2.0"}
    yield peer.start()
    peer.stop()


@pytest.fixture
def peer(oidc_peer, settings):
    """The generic/Google peer, back to its own behaviour for this test."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PUBLIC_BASE_URL = TESTSERVER
    oidc_peer.reset()
    yield oidc_peer
    oidc_peer.reset()


@pytest.fixture
def entra(entra_peer, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PUBLIC_BASE_URL = TESTSERVER
    entra_peer.reset()
    yield entra_peer
    entra_peer.reset()


def oidc_connect(
    organization,
    issuer: str,
    *,
    provider: str = "generic-oidc",
    client_id: str = CLIENT_ID,
    activate: bool = True,
    jit: bool = False,
    **client,
) -> Connection:
    """An OIDC connection to a peer, configured the way the portal does it."""
    connection = connection_create(
        organization=organization, provider=provider, actor="operator"
    )
    oidc_services.oidc_client_set(
        connection=connection,
        actor="operator",
        issuer=issuer,
        client_id=client_id,
        client_secret=CLIENT_SECRET,
        **client,
    )
    if jit:
        connection_settings_set(
            connection=connection, actor="operator", jit_provisioning=True
        )
    if activate:
        connection_activate(connection=connection, actor="operator", skip_test=True)
    return Connection.objects.get(pk=connection.pk)


def query_of(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


def begin(client, connection) -> str:
    """Start a sign-in at our login URL; return the provider URL we send to."""
    response = client.get(f"/sso/oidc/{connection.public_id}/login/")
    assert response.status_code == 302, response.content
    return response["Location"]


def provider_round_trip(peer, client, connection, *, login: str) -> str:
    """Our login URL, then the provider's pages; the callback URL it sends back."""
    return peer.sign_in(begin(client, connection), login=login)


def sign_in(peer, client, connection, *, login: str):
    """A whole sign-in through the provider: the callback's response."""
    back = provider_round_trip(peer, client, connection, login=login)
    return client.get(back)
