"""UserInfo for claims the ID token leaves out, against the real provider.

The peer is steered to leave email (or names) out of its ID tokens, so they
are found only at its UserInfo endpoint, which answers for the access token
of the same sign-in; or to answer UserInfo about another subject.
"""

import logging

import pytest
from django.utils.html import escape

from sso.models import Identity, LoginAttempt
from sso.oidc import services as oidc_services
from sso.oidc.errors import REASONS
from tests.sso.oidc_peer import oidc_connect, sign_in


@pytest.fixture
def connection(acme, peer):
    return oidc_connect(acme, peer.issuer, scopes="openid email profile groups")


def last_attempt(connection) -> LoginAttempt:
    return LoginAttempt.objects.filter(connection=connection).first()


def test_email_only_in_userinfo_signs_in(client, peer, connection, ada):
    peer.steer(remove=["email", "email_verified"])

    response = sign_in(peer, client, connection, login="sub-ada")

    assert connection.discovery["userinfo_endpoint"] == f"{peer.issuer}/me"
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == ada
    attempt = last_attempt(connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN
    assert attempt.email == "ada@acme.example"
    assert Identity.objects.get(connection=connection).subject == "sub-ada"


def test_names_only_in_userinfo_create_the_person_with_jit(client, peer, acme):
    connection = oidc_connect(acme, peer.issuer, jit=True)
    peer.steer(remove=["email", "email_verified", "given_name", "family_name"])

    sign_in(peer, client, connection, login="sub-newcomer")

    attempt = last_attempt(connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN
    assert (attempt.user.email, attempt.user.first_name, attempt.user.last_name) == (
        "newcomer@acme.example",
        "New",
        "Comer",
    )


def test_userinfo_of_another_subject_is_refused_and_logged(
    client, peer, connection, ada, caplog
):
    peer.steer(remove=["email", "email_verified"], userinfo={"sub": "sub-mallory"})

    with caplog.at_level(logging.WARNING, logger="progression.security"):
        response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert escape(REASONS["userinfo_subject_mismatch"]) in response.content.decode()
    assert last_attempt(connection).reason == "userinfo_subject_mismatch"
    assert "oidc userinfo refused: another subject" in caplog.text
    assert client.get("/").wsgi_request.user.is_anonymous is True
    assert not Identity.objects.exists()


def test_id_token_claims_win_over_userinfo(client, peer, connection, ada):
    peer.steer(
        remove=["given_name"],
        userinfo={
            "email": "mallory@acme.example",
            "family_name": "Changed",
            "tid": "someone-elses-tenant",
        },
    )

    sign_in(peer, client, connection, login="sub-ada")

    attempt = last_attempt(connection)
    assert attempt.user == ada
    assert attempt.email == "ada@acme.example"
    assert (attempt.mapped["first_name"], attempt.mapped["last_name"]) == (
        "Ada",
        "Lovelace",
    )
    assert "tid" not in attempt.attributes


def test_unverified_email_in_userinfo_is_not_used(client, peer, connection, ada):
    # The ID token says its (absent) email is verified; UserInfo's address
    # comes with UserInfo's own word on it.
    peer.steer(remove=["email"], userinfo={"email_verified": False})

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert last_attempt(connection).reason == "email_missing"


def test_userinfo_is_not_asked_when_the_token_has_every_claim(
    client, peer, connection, ada
):
    # A UserInfo about someone else would refuse the sign-in if it were read.
    peer.steer(userinfo={"sub": "sub-mallory"})

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 302
    assert last_attempt(connection).outcome == LoginAttempt.Outcome.SIGNED_IN


def test_userinfo_endpoint_failing_refuses_with_its_reason(
    client, peer, connection, ada
):
    peer.steer(
        remove=["email", "email_verified"],
        discovery={"userinfo_endpoint": f"{peer.issuer}/no-such-endpoint"},
    )
    oidc_services.oidc_discovery_refresh(connection=connection)

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert last_attempt(connection).reason == "userinfo_failed"


def test_without_userinfo_endpoint_the_token_alone_decides(
    client, peer, connection, ada
):
    connection.discovery.pop("userinfo_endpoint")
    connection.save(update_fields=["discovery"])
    peer.steer(remove=["email", "email_verified"])

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert last_attempt(connection).reason == "email_missing"
