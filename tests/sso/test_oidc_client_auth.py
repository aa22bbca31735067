"""Token endpoint authentication: client secrets and private_key_jwt.

The provider peer registers clients through its own dynamic registration,
each for one method: a private_key_jwt client with the JWKS our connection
publishes (given at registration, or fetched by the provider from our JWKS
URL), a client_secret_post client with the secret the provider issued.
"""

from datetime import timedelta

import jwt
import pytest
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone

from progression.errors import ValidationFailedError
from sso.models import Connection, LoginAttempt
from sso.oidc import client_auth
from sso.oidc import services as oidc_services
from sso.oidc.services import AUTH_METHOD_UNSUPPORTED, CLIENT_KEY_REQUIRED
from sso.services.connections import connection_activate, connection_create
from tests.factories import OrganizationDomainFactory, UserFactory
from tests.sso.oidc_peer import CLIENT_SECRET, TESTSERVER, peer_redirects, sign_in


def draft_connection(organization, peer, *, client_id="progression", secret=None):
    connection = connection_create(
        organization=organization, provider="generic-oidc", actor="operator"
    )
    return oidc_services.oidc_client_set(
        connection=connection,
        actor="operator",
        issuer=peer.issuer,
        client_id=client_id,
        client_secret=secret or CLIENT_SECRET,
    )


def use_method(connection, method, *, client_id=None):
    oidc_services.oidc_client_set(
        connection=connection,
        actor="operator",
        client_id=client_id or connection.client_id,
        token_auth_method=method,
    )
    if not connection.is_active:
        connection_activate(connection=connection, actor="operator", skip_test=True)
    return Connection.objects.get(pk=connection.pk)


def published_jwks(client, connection) -> dict:
    response = client.get(reverse("sso:oidc-jwks", args=[connection.public_id]))
    assert response.status_code == 200
    return response.json()


def register_key_client(peer, live_server, extra_redirects=(), **metadata) -> str:
    return peer.register(
        redirect_uris=[*peer_redirects(live_server), *extra_redirects],
        grant_types=["authorization_code"],
        response_types=["code"],
        token_endpoint_auth_method="private_key_jwt",
        token_endpoint_auth_signing_alg="RS256",
        **metadata,
    )["client_id"]


def test_private_key_jwt_signs_in_with_the_published_jwks(
    client, peer, acme, ada, live_server
):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    client_id = register_key_client(
        peer, live_server, jwks=published_jwks(client, connection)
    )
    connection = use_method(connection, "private_key_jwt", client_id=client_id)

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == ada
    assert LoginAttempt.objects.get(connection=connection).outcome == "signed_in"


def _key_client(client, peer, acme, live_server):
    """An active private_key_jwt connection, the provider holding our JWKS."""
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    client_id = register_key_client(
        peer, live_server, jwks=published_jwks(client, connection)
    )
    return use_method(connection, "private_key_jwt", client_id=client_id)


def _rollover_passed(connection):
    Connection.objects.filter(pk=connection.pk).update(
        client_signing_key_next_at=timezone.now()
        - client_auth.ROLLOVER
        - timedelta(seconds=1)
    )
    return Connection.objects.get(pk=connection.pk)


def test_replaced_key_keeps_signing_until_its_rollover(
    client, peer, acme, ada, live_server
):
    connection = _key_client(client, peer, acme, live_server)
    signing = client_auth.public_jwk(connection)["kid"]
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    connection.refresh_from_db()

    response = sign_in(peer, client, connection, login="sub-ada")

    # The provider still holds only the old key set, and that is enough.
    assert response.status_code == 302
    assert client_auth.public_jwk(connection)["kid"] == signing
    kids = [key["kid"] for key in published_jwks(client, connection)["keys"]]
    assert kids == [signing, client_auth.next_jwk(connection)["kid"]]


def test_replacement_signs_after_its_rollover(client, peer, acme, ada, live_server):
    connection = _key_client(client, peer, acme, live_server)
    old = client_auth.public_jwk(connection)["kid"]
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    connection = _rollover_passed(connection)

    response = sign_in(peer, client, connection, login="sub-ada")

    # A provider that never fetched the key set again refuses the new key.
    assert response.status_code == 403
    assert LoginAttempt.objects.get(connection=connection).reason == "code_rejected"
    assert client_auth.public_jwk(connection)["kid"] != old
    assert client_auth.next_jwk(connection) is None


def test_replacement_signs_in_at_a_provider_that_fetched_both_keys(
    client, peer, acme, ada, live_server
):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    client_id = register_key_client(
        peer, live_server, jwks=published_jwks(client, connection)
    )
    connection = _rollover_passed(
        use_method(connection, "private_key_jwt", client_id=client_id)
    )

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == ada


def test_key_replaced_immediately_is_refused_by_a_provider_holding_the_old_jwks(
    client, peer, acme, ada, live_server
):
    connection = _key_client(client, peer, acme, live_server)
    oidc_services.oidc_client_key_generate(
        connection=connection, actor="operator", immediately=True
    )
    connection.refresh_from_db()

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert LoginAttempt.objects.get(connection=connection).reason == "code_rejected"
    assert len(published_jwks(client, connection)["keys"]) == 1


def test_promote_retires_the_old_key_only_after_the_rollover(peer, acme):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    connection.refresh_from_db()
    replacement = connection.client_signing_key_next

    early = oidc_services.oidc_client_key_promote(connection=connection)
    connection = _rollover_passed(connection)
    late = oidc_services.oidc_client_key_promote(connection=connection)

    connection.refresh_from_db()
    assert (early, late) == (False, True)
    assert connection.client_signing_key == replacement
    assert (
        connection.client_signing_key_next,
        connection.client_signing_key_next_at,
    ) == (
        "",
        None,
    )
    assert len(client_auth.jwks(connection)["keys"]) == 1


def test_portal_replace_now_checkbox_retires_the_key_at_once(admin_client, peer, acme):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    url = reverse("sso:connection-oidc-key", args=[connection.pk])

    admin_client.post(url)
    connection.refresh_from_db()
    pending = bool(connection.client_signing_key_next)
    admin_client.post(url, {"immediately": "1"})
    connection.refresh_from_db()

    assert pending is True
    assert connection.client_signing_key_next == ""
    assert len(client_auth.jwks(connection)["keys"]) == 1


def test_provider_fetches_our_jwks_uri(
    transactional_db, oidc_peer, settings, live_server, client
):
    """The provider reads our JWKS URL itself, over the live server."""
    # Node resolves localhost to ::1 first; the live server listens on IPv4.
    base = live_server.url.replace("localhost", "127.0.0.1")
    settings.PUBLIC_BASE_URL = base
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    oidc_peer.reset()
    from billing.services.subscriptions import subscription_set
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory(name="Acme", slug="acme")
    subscription_set(
        organization=organization, plan="scale", period="annual", seats=50, actor="t"
    )
    OrganizationDomainFactory(organization=organization, domain="acme.example")
    ada = UserFactory(organization=organization, email="ada@acme.example")
    connection = draft_connection(organization, oidc_peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    client_id = register_key_client(
        oidc_peer,
        live_server,
        jwks_uri=connection.client_jwks_url,
        extra_redirects=[base + "/sso/oidc/callback/"],
    )
    connection = use_method(connection, "private_key_jwt", client_id=client_id)

    response = sign_in(oidc_peer, client, connection, login="sub-ada")

    assert connection.client_jwks_url == (
        f"{base}/sso/oidc/{connection.public_id}/jwks/"
    )
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == ada


def test_client_secret_post_sends_the_secret_in_the_body(
    client, peer, acme, ada, live_server
):
    registered = peer.register(
        redirect_uris=peer_redirects(live_server),
        grant_types=["authorization_code"],
        response_types=["code"],
        token_endpoint_auth_method="client_secret_post",
    )
    connection = draft_connection(
        acme,
        peer,
        client_id=registered["client_id"],
        secret=registered["client_secret"],
    )
    connection = use_method(connection, "client_secret_post")

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == ada


def test_client_assertion_names_us_the_endpoint_and_expires_soon(peer, acme):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    endpoint = connection.discovery["token_endpoint"]
    key = jwt.PyJWK(client_auth.public_jwk(connection))

    one = client_auth.client_assertion(connection, endpoint)
    two = client_auth.client_assertion(connection, endpoint)

    claims = jwt.decode(one, key, algorithms=["RS256"], audience=endpoint)
    assert claims["iss"] == claims["sub"] == "progression"
    assert claims["exp"] - claims["iat"] == 60
    assert jwt.get_unverified_header(one)["kid"] == key.key_id
    assert (
        claims["jti"]
        != jwt.decode(two, key, algorithms=["RS256"], audience=endpoint)["jti"]
    )


def test_token_request_with_private_key_jwt_carries_no_secret(peer, acme):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    connection.token_auth_method = "private_key_jwt"
    payload = {"client_id": "progression", "client_secret": CLIENT_SECRET}
    headers = {}

    client_auth.authenticate(connection, payload, headers, "https://op/token")

    assert set(payload) == {"client_id", "client_assertion_type", "client_assertion"}
    assert payload["client_assertion_type"] == client_auth.ASSERTION_TYPE
    assert headers == {}


def test_client_secret_post_and_basic_put_the_secret_in_different_places(peer, acme):
    connection = draft_connection(acme, peer)
    sent = {}
    for method in ("client_secret_post", "client_secret_basic"):
        connection.token_auth_method = method
        payload = {"client_id": "progression", "client_secret": CLIENT_SECRET}
        headers = {}
        client_auth.authenticate(connection, payload, headers, "https://op/token")
        sent[method] = (payload.get("client_secret"), "Authorization" in headers)

    assert sent == {
        "client_secret_post": (CLIENT_SECRET, False),
        "client_secret_basic": (None, True),
    }


def test_jwks_url_publishes_only_the_public_key(client, peer, acme):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")

    jwks = published_jwks(client, connection)

    (key,) = jwks["keys"]
    assert set(key) == {"kty", "n", "e", "kid", "use", "alg"}
    assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS256")


def test_signing_key_is_encrypted_at_rest(peer, acme):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")

    with db.cursor() as cursor:
        cursor.execute(
            "SELECT client_signing_key FROM sso_connection WHERE id = %s",
            [connection.pk],
        )
        stored = cursor.fetchone()[0]

    assert "PRIVATE KEY" not in stored
    assert Connection.objects.get(pk=connection.pk).client_signing_key.startswith(
        "-----BEGIN PRIVATE KEY-----"
    )


def test_jwks_url_without_a_key_or_of_a_saml_connection_is_not_found(
    client, peer, acme
):
    oidc = draft_connection(acme, peer)
    saml = connection_create(
        organization=acme, provider="generic-saml", actor="operator"
    )

    statuses = [
        client.get(reverse("sso:oidc-jwks", args=[public_id])).status_code
        for public_id in (oidc.public_id, saml.public_id, "no-such-connection")
    ]

    assert statuses == [404, 404, 404]


def test_method_the_discovery_does_not_offer_is_refused_and_changes_nothing(peer, acme):
    connection = draft_connection(acme, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")
    peer.steer(
        discovery={"token_endpoint_auth_methods_supported": ["client_secret_basic"]}
    )

    with pytest.raises(ValidationFailedError) as refused:
        use_method(connection, "private_key_jwt")

    assert refused.value.message == AUTH_METHOD_UNSUPPORTED % (
        "private_key_jwt",
        "client_secret_basic",
    )
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.token_auth_method == ""
    assert (
        "private_key_jwt" in stored.discovery["token_endpoint_auth_methods_supported"]
    )


def test_private_key_jwt_without_our_key_is_refused(peer, acme):
    connection = draft_connection(acme, peer)

    with pytest.raises(ValidationFailedError) as refused:
        use_method(connection, "private_key_jwt")

    assert refused.value.message == CLIENT_KEY_REQUIRED
    assert Connection.objects.get(pk=connection.pk).token_auth_method == ""


def test_portal_offers_only_the_methods_discovery_lists(admin_client, peer, entitled):
    peer.steer(
        discovery={
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "private_key_jwt",
            ]
        }
    )
    connection = draft_connection(entitled, peer)

    page = admin_client.get(reverse("sso:connection", args=[connection.pk]))

    body = page.content.decode()
    assert 'value="private_key_jwt"' in body
    assert 'value="client_secret_post"' not in body
    assert connection.post_logout_redirect_uri == (TESTSERVER + "/sso/oidc/signed-out/")
    assert connection.post_logout_redirect_uri in body


def test_portal_generates_a_key_and_shows_its_jwks_url(admin_client, peer, entitled):
    connection = draft_connection(entitled, peer)

    done = admin_client.post(reverse("sso:connection-oidc-key", args=[connection.pk]))
    page = admin_client.get(reverse("sso:connection", args=[connection.pk]))

    connection.refresh_from_db()
    kid = client_auth.public_jwk(connection)["kid"]
    assert done.status_code == 302
    assert connection.client_jwks_url in page.content.decode()
    assert kid in page.content.decode()


def test_portal_saves_the_chosen_method(admin_client, peer, entitled):
    connection = draft_connection(entitled, peer)
    oidc_services.oidc_client_key_generate(connection=connection, actor="operator")

    saved = admin_client.post(
        reverse("sso:connection-oidc", args=[connection.pk]),
        {
            "issuer": peer.issuer,
            "client_id": "progression",
            "token_auth_method": "private_key_jwt",
        },
    )

    assert saved.status_code == 302
    assert Connection.objects.get(pk=connection.pk).token_auth_method == (
        "private_key_jwt"
    )


def test_key_pages_of_another_organisation_answer_404(
    admin_client, peer, other_organization
):
    other = draft_connection(other_organization, peer)

    page = admin_client.post(reverse("sso:connection-oidc-key", args=[other.pk]))

    assert page.status_code == 404
    assert Connection.objects.get(pk=other.pk).client_signing_key == ""


def test_key_page_refuses_members(member_client, peer, entitled):
    connection = draft_connection(entitled, peer)

    page = member_client.post(reverse("sso:connection-oidc-key", args=[connection.pk]))

    assert page.status_code == 403
    assert Connection.objects.get(pk=connection.pk).client_signing_key == ""
