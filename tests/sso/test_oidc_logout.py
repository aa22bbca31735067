"""RP-initiated logout: signing out of Progression signs out at the provider.

The provider peer's end-session endpoint checks our `id_token_hint` and our
registered `post_logout_redirect_uri`, ends its own session on confirmation
and sends the browser back with our `state`.
"""

import logging

import jwt
import pytest
from django.urls import reverse

from sso.models import LoginAttempt
from sso.oidc.logout import SESSION_ID_TOKEN
from sso.views.oidc import SIGNED_OUT, SIGNED_OUT_AT_PROVIDER
from tests.sso.oidc_peer import (
    CLIENT_ID,
    SIGNED_OUT_PATH,
    TESTSERVER,
    begin,
    oidc_connect,
    query_of,
    sign_in,
)


@pytest.fixture
def connection(acme, peer):
    return oidc_connect(acme, peer.issuer)


def test_sign_out_ends_the_session_here_and_at_the_provider(
    client, peer, connection, ada
):
    sign_in(peer, client, connection, login="sub-ada")
    id_token = client.session[SESSION_ID_TOKEN]
    assert peer.signed_in_at_provider(begin(client, connection)) is True

    out = client.post(reverse("signout"))
    end_session = out["Location"]
    query = query_of(end_session)
    back = peer.sign_out(end_session)
    page = client.get(back)

    assert end_session.startswith(connection.discovery["end_session_endpoint"] + "?")
    assert query["id_token_hint"] == id_token
    assert jwt.decode(id_token, options={"verify_signature": False})["sub"] == (
        "sub-ada"
    )
    assert query["client_id"] == CLIENT_ID
    assert query["post_logout_redirect_uri"] == TESTSERVER + SIGNED_OUT_PATH
    assert len(query["state"]) >= 32
    assert back == f"{TESTSERVER}{SIGNED_OUT_PATH}?state={query['state']}"
    assert client.get("/").wsgi_request.user.is_anonymous is True
    assert page.status_code == 200
    assert SIGNED_OUT_AT_PROVIDER.format(connection=connection) in page.content.decode()
    assert peer.signed_in_at_provider(begin(client, connection)) is False


def test_logout_state_is_answered_once(client, peer, connection, ada):
    sign_in(peer, client, connection, login="sub-ada")
    back = peer.sign_out(client.post(reverse("signout"))["Location"])

    first = client.get(back)
    again = client.get(back)

    assert SIGNED_OUT_AT_PROVIDER.format(connection=connection) in (
        first.content.decode()
    )
    assert again.status_code == 200
    assert SIGNED_OUT in again.content.decode()
    assert "identity provider" not in again.content.decode()


def test_signed_out_page_with_a_forged_state_ends_nothing(
    client, peer, connection, ada
):
    sign_in(peer, client, connection, login="sub-ada")

    page = client.get(SIGNED_OUT_PATH, {"state": "not-one-of-ours"})

    assert page.status_code == 200
    assert "identity provider" not in page.content.decode()
    assert client.get("/").wsgi_request.user == ada


def test_without_end_session_endpoint_sign_out_only_ends_our_session(
    client, peer, connection, ada
):
    connection.discovery.pop("end_session_endpoint")
    connection.save(update_fields=["discovery"])
    sign_in(peer, client, connection, login="sub-ada")
    kept = dict(client.session)

    out = client.post(reverse("signout"))

    assert SESSION_ID_TOKEN not in kept
    assert out.status_code == 302
    assert out["Location"] == reverse("signin")
    assert client.get("/").wsgi_request.user.is_anonymous is True
    assert peer.signed_in_at_provider(begin(client, connection)) is True


def test_id_token_stays_in_the_server_side_session_only(
    client, peer, connection, ada, caplog
):
    with caplog.at_level(logging.DEBUG):
        sign_in(peer, client, connection, login="sub-ada")
        id_token = client.session[SESSION_ID_TOKEN]
        client.post(reverse("signout"))

    assert id_token.count(".") == 2
    assert all(id_token not in morsel.value for morsel in client.cookies.values())
    assert id_token not in caplog.text
    attempt = LoginAttempt.objects.get(connection=connection)
    assert id_token not in str(attempt.attributes) + str(attempt.mapped)


def test_password_sign_out_still_goes_to_sign_in(admin_client):
    out = admin_client.post(reverse("signout"))

    assert out["Location"] == reverse("signin")
    assert admin_client.get("/").wsgi_request.user.is_anonymous is True


def test_provider_refuses_an_unregistered_post_logout_uri(
    client, peer, connection, ada, settings
):
    """Why the portal guide asks for the URI to be registered."""
    sign_in(peer, client, connection, login="sub-ada")
    settings.PUBLIC_BASE_URL = "https://progression.example"
    connection.refresh_from_db()

    out = client.post(reverse("signout"))

    assert query_of(out["Location"])["post_logout_redirect_uri"] == (
        "https://progression.example" + SIGNED_OUT_PATH
    )
    with pytest.raises(RuntimeError):
        peer.sign_out(out["Location"])
