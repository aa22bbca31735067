"""OIDC sign-in through panva's oidc-provider: the code flow end to end.

Each test drives the provider's own login and consent pages over HTTP and
hands its redirect back to our callback, so state, nonce, PKCE, the code
exchange and the ID token checks all run against a real provider.
"""

import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode

import pytest
import requests
from django.db import connection as db
from django.utils.html import escape

from billing.entitlements import entitlement
from billing.models import Subscription
from billing.services.subscriptions import subscription_set
from progression.celery import app as celery_app
from progression.crypto import decrypt
from progression.errors import ValidationFailedError
from sso.models import Connection, Identity, LoginAttempt
from sso.oidc import services as oidc_services
from sso.oidc.errors import REASONS, OidcRejectedError
from sso.oidc.tokens import id_token_verify
from sso.services.connections import (
    connection_activation_problem,
    connection_create,
    connection_settings_set,
)
from sso.signin import NOT_ENTITLED
from sso.tasks import oidc_discovery_refresh_task
from tests.factories import OrganizationDomainFactory, OrganizationFactory, UserFactory
from tests.sso.oidc_peer import (
    CLIENT_SECRET,
    OTHER_CLIENT_ID,
    OTHER_TENANT,
    TENANT,
    begin,
    oidc_connect,
    provider_round_trip,
    query_of,
    sign_in,
)


@pytest.fixture
def connection(acme, peer):
    return oidc_connect(acme, peer.issuer, scopes="openid email profile groups")


def last_attempt(connection) -> LoginAttempt:
    return LoginAttempt.objects.filter(connection=connection).first()


def test_sign_in_with_pkce_and_nonce_signs_in_and_links_subject(
    client, peer, connection, ada
):
    authorize = begin(client, connection)
    query = query_of(authorize)
    back = peer.sign_in(authorize, login="sub-ada")

    response = client.get(back)

    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["nonce"]) >= 32
    assert query["redirect_uri"] == connection.redirect_uri
    assert query["client_id"] == "progression"
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").wsgi_request.user == ada
    attempt = last_attempt(connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN
    assert attempt.user == ada
    assert attempt.mapped["groups"] == ["staff", "engineering"]
    assert Identity.objects.get(connection=connection).subject == "sub-ada"


def test_later_sign_in_matches_the_subject_not_the_email(client, peer, connection, ada):
    sign_in(peer, client, connection, login="sub-ada")
    client.logout()
    ada.email = "ada.renamed@acme.example"
    ada.save()

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == ada


def test_next_page_survives_the_round_trip(client, peer, connection, ada):
    authorize = client.get(f"/sso/oidc/{connection.public_id}/login/?next=/people/")[
        "Location"
    ]

    response = client.get(peer.sign_in(authorize, login="sub-ada"))

    assert response["Location"] == "/people/"


def test_nonce_of_another_request_is_refused(client, peer, connection, ada):
    authorize = begin(client, connection)
    nonce = query_of(authorize)["nonce"]
    tampered = authorize.replace(f"nonce={nonce}", "nonce=attacker-chosen-nonce")
    back = peer.sign_in(tampered, login="sub-ada")

    response = client.get(back)

    assert response.status_code == 403
    assert REASONS["nonce_mismatch"] in response.content.decode()
    assert last_attempt(connection).reason == "nonce_mismatch"
    assert "_auth_user_id" not in client.session


def test_callback_in_another_browser_is_a_state_mismatch(client, peer, connection, ada):
    back = provider_round_trip(peer, client, connection, login="sub-ada")
    client.cookies.clear()

    response = client.get(back)

    assert response.status_code == 400
    assert REASONS["state_mismatch"] in response.content.decode()
    assert not LoginAttempt.objects.exists()


def test_callback_answered_twice_is_refused_the_second_time(
    client, peer, connection, ada
):
    back = provider_round_trip(peer, client, connection, login="sub-ada")
    assert client.get(back).status_code == 302
    client.logout()

    response = client.get(back)

    assert response.status_code == 400
    assert REASONS["state_mismatch"] in response.content.decode()


def test_reused_code_with_a_fresh_state_is_refused_by_the_provider(
    client, peer, connection, ada
):
    first = query_of(provider_round_trip(peer, client, connection, login="sub-ada"))
    fresh_state = query_of(begin(client, connection))["state"]
    response = client.get(
        "/sso/oidc/callback/", {"code": first["code"], "state": fresh_state}
    )

    assert response.status_code == 403
    assert REASONS["code_rejected"] in response.content.decode()
    assert last_attempt(connection).reason == "code_rejected"


def test_provider_error_in_the_callback_is_logged(client, peer, connection):
    state = query_of(begin(client, connection))["state"]

    response = client.get(
        "/sso/oidc/callback/",
        {"error": "access_denied", "error_description": "no", "state": state},
    )

    assert response.status_code == 400
    assert "access_denied" in response.content.decode()
    assert last_attempt(connection).reason == "provider_error"


def test_callback_without_code_is_refused(client, peer, connection):
    state = query_of(begin(client, connection))["state"]

    response = client.get("/sso/oidc/callback/", {"state": state})

    assert response.status_code == 403
    assert last_attempt(connection).reason == "code_missing"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": OTHER_CLIENT_ID}, "wrong_audience"),
        (
            {"aud": ["progression", OTHER_CLIENT_ID], "azp": OTHER_CLIENT_ID},
            "wrong_audience",
        ),
        ({"azp": OTHER_CLIENT_ID}, "wrong_audience"),
        ({"iss": "https://evil.example"}, "wrong_issuer"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"iat": int(time.time()) + 3600}, "expired"),
    ],
)
def test_id_token_from_the_provider_that_fails_a_check_is_refused(
    client, peer, connection, ada, claims, reason
):
    peer.steer(claims=claims)

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert REASONS[reason] in response.content.decode()
    assert last_attempt(connection).reason == reason
    assert "_auth_user_id" not in client.session
    assert not Identity.objects.exists()


def test_token_expired_within_the_leeway_is_accepted(client, peer, connection, ada):
    peer.steer(claims={"exp": int(time.time()) - 20})

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 302


def _id_token_of_another_client(peer, nonce: str) -> str:
    """A whole code flow of another application at the same provider."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    redirect_uri = "http://testserver/sso/oidc/callback/"
    query = {
        "client_id": OTHER_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid email",
        "state": "their-state",
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    back = peer.sign_in(f"{peer.issuer}/auth?{urlencode(query)}", login="sub-ada")
    tokens = requests.post(
        f"{peer.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": query_of(back)["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(OTHER_CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    ).json()
    return tokens["id_token"]


def test_token_minted_for_another_client_is_a_wrong_audience(peer, connection):
    """An attacker hands in another application's genuine ID token as ours,
    even with the nonce of our own sign-in."""
    foreign = _id_token_of_another_client(peer, nonce="our-nonce")

    with pytest.raises(OidcRejectedError) as refused:
        id_token_verify(connection, foreign, nonce="our-nonce")

    assert refused.value.code == "wrong_audience"


def test_key_rotation_fetches_the_new_key_once(client, peer, connection, ada):
    sign_in(peer, client, connection, login="sub-ada")
    client.logout()
    sign_in(peer, client, connection, login="sub-ada")
    client.logout()
    before = peer.stats()["jwks"]
    new_kid = peer.rotate()

    first = sign_in(peer, client, connection, login="sub-ada")
    client.logout()
    second = sign_in(peer, client, connection, login="sub-ada")

    assert before == 1
    assert new_kid == "peer-key-2"
    assert (first.status_code, second.status_code) == (302, 302)
    assert peer.stats()["jwks"] == 2


def test_unknown_key_id_refetches_once_then_refuses(client, peer, connection, ada):
    peer.steer(header={"kid": "not-published"})

    first = sign_in(peer, client, connection, login="sub-ada")
    second = sign_in(peer, client, connection, login="sub-ada")

    assert (first.status_code, second.status_code) == (403, 403)
    assert last_attempt(connection).reason == "unknown_key"
    # One fetch to fill the cache, one refetch for the new kid, no more.
    assert peer.stats()["jwks"] == 2


def test_subject_linked_in_another_organisation_is_refused(
    client, peer, connection, ada
):
    globex = OrganizationFactory(name="Globex", slug="globex")
    subscription_set(
        organization=globex, plan="scale", period="annual", seats=50, actor="t"
    )
    OrganizationDomainFactory(organization=globex, domain="globex.example")
    theirs = oidc_connect(globex, peer.issuer)
    Identity.objects.create(
        connection=theirs,
        user=UserFactory(organization=globex, email="ada@globex.example"),
        subject="sub-ada",
    )

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert REASONS["subject_elsewhere"] in response.content.decode()
    assert last_attempt(connection).reason == "subject_elsewhere"
    assert not Identity.objects.filter(connection=connection).exists()


def test_unknown_person_is_refused_without_jit(client, peer, connection):
    response = sign_in(peer, client, connection, login="sub-newcomer")

    assert response.status_code == 403
    assert last_attempt(connection).reason == "no_account"


def test_unknown_person_is_created_with_jit(client, peer, acme):
    connection = oidc_connect(acme, peer.issuer, jit=True)

    response = sign_in(peer, client, connection, login="sub-newcomer")

    assert response.status_code == 302
    user = client.get("/").wsgi_request.user
    assert (user.email, user.first_name, user.last_name) == (
        "newcomer@acme.example",
        "New",
        "Comer",
    )


def test_billing_gate_applies_at_the_callback(client, peer, connection, ada, acme):
    back = provider_round_trip(peer, client, connection, login="sub-ada")
    # The subscription ends between the redirect to the provider and the answer.
    Subscription.objects.filter(organization=acme).delete()
    granted = entitlement(acme)

    response = client.get(back)

    assert granted.available is False
    assert response.status_code == 403
    assert (
        escape(NOT_ENTITLED.format(organization="Acme", message=granted.message))
        in response.content.decode()
    )
    assert "_auth_user_id" not in client.session
    assert not LoginAttempt.objects.exists()
    assert not Identity.objects.exists()


def test_inactive_connection_refuses_at_login(client, peer, acme):
    connection = oidc_connect(acme, peer.issuer, activate=False)

    response = client.get(f"/sso/oidc/{connection.public_id}/login/")

    assert response.status_code == 403
    assert "turned off" in response.content.decode()


def test_login_url_of_a_saml_connection_is_not_found(client, acme):
    saml = connection_create(organization=acme, provider="okta-saml", actor="operator")

    assert client.get(f"/sso/oidc/{saml.public_id}/login/").status_code == 404


def test_provider_reporting_another_issuer_is_refused_and_changes_nothing(peer, acme):
    connection = connection_create(
        organization=acme, provider="generic-oidc", actor="operator"
    )
    peer.steer(discovery={"issuer": "https://evil.example"})

    with pytest.raises(OidcRejectedError) as refused:
        oidc_services.oidc_client_set(
            connection=connection,
            actor="operator",
            issuer=peer.issuer,
            client_id="progression",
            client_secret=CLIENT_SECRET,
        )

    assert refused.value.code == "issuer_mismatch"
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.issuer, stored.client_id, stored.discovery) == ("", "", {})


def test_discovery_refresh_keeps_the_old_document_when_the_issuer_changes(
    peer, connection
):
    document = connection.discovery
    peer.steer(discovery={"issuer": "https://evil.example"})

    refreshed = oidc_services.oidc_discovery_refresh(connection=connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert refreshed is False
    assert stored.discovery == document
    assert "https://evil.example" in stored.metadata_error


def test_discovery_refresh_picks_up_a_changed_document(peer, connection):
    peer.steer(discovery={"id_token_signing_alg_values_supported": ["ES256"]})

    refreshed = oidc_services.oidc_discovery_refresh(connection=connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert refreshed is True
    assert stored.discovery["id_token_signing_alg_values_supported"] == ["ES256"]
    assert stored.metadata_error == ""


def test_discovery_refresh_task_twice_changes_nothing_more(peer, connection):
    fetched = peer.stats()["discovery"]
    first = oidc_discovery_refresh_task()
    stored = Connection.objects.get(pk=connection.pk).discovery
    second = oidc_discovery_refresh_task()

    assert (first, second) == (1, 1)
    assert Connection.objects.get(pk=connection.pk).discovery == stored
    assert peer.stats()["discovery"] == fetched + 2


def test_client_secret_is_encrypted_at_rest(connection):
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret FROM sso_connection WHERE id = %s", [connection.pk]
        )
        raw = cursor.fetchone()[0]

    assert raw != CLIENT_SECRET
    assert CLIENT_SECRET not in raw
    assert decrypt(raw) == CLIENT_SECRET
    assert Connection.objects.get(pk=connection.pk).client_secret == CLIENT_SECRET


# Google: the hd claim decides; both forms of the issuer are Google's.


@pytest.fixture
def google(acme, peer):
    return oidc_connect(
        acme, peer.issuer, provider="google-oauth", hosted_domains=["acme.example"]
    )


def test_google_allowed_hosted_domain_signs_in(client, peer, google, acme):
    gina = UserFactory(organization=acme, email="gina@acme.example")

    response = sign_in(peer, client, google, login="sub-gina")

    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == gina
    assert query_of(begin(client, google))["hd"] == "acme.example"


@pytest.mark.parametrize("login", ["sub-gus", "sub-pat"])
def test_google_other_or_missing_hosted_domain_is_refused(
    client, peer, google, acme, login
):
    UserFactory(organization=acme, email=f"{login[4:]}@acme.example")

    response = sign_in(peer, client, google, login=login)

    assert response.status_code == 403
    assert last_attempt(google).reason == "hosted_domain_refused"


def test_google_issuer_without_scheme_is_accepted(client, peer, google, acme):
    UserFactory(organization=acme, email="gina@acme.example")
    peer.steer(claims={"iss": peer.issuer.split("://", 1)[1]})

    response = sign_in(peer, client, google, login="sub-gina")

    assert response.status_code == 302


def test_generic_issuer_without_scheme_is_refused(client, peer, connection, ada):
    peer.steer(claims={"iss": peer.issuer.split("://", 1)[1]})

    response = sign_in(peer, client, connection, login="sub-ada")

    assert last_attempt(connection).reason == "wrong_issuer"
    assert response.status_code == 403


def test_google_without_hosted_domains_cannot_be_activated(peer, acme):
    connection = oidc_connect(
        acme, peer.issuer, provider="google-oauth", activate=False
    )

    assert connection_activation_problem(connection) == (
        oidc_services.HOSTED_DOMAINS_REQUIRED
    )


# Microsoft: the tenant-templated issuer, tid allow-list, tid + oid subject.


def entra_connect(acme, entra, tenants):
    return oidc_connect(
        acme,
        f"{entra.base_url}/organizations/v2.0",
        provider="microsoft-oauth",
        tenant_ids=tenants,
    )


def test_microsoft_allowed_tenant_signs_in_keyed_on_tid_and_oid(
    client, entra, acme, ada
):
    connection = entra_connect(acme, entra, [TENANT])

    response = sign_in(entra, client, connection, login="ms-ada")

    assert connection.discovery["issuer"] == f"{entra.base_url}/{{tenantid}}/v2.0"
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == ada
    assert Identity.objects.get(connection=connection).subject == (
        f"{TENANT}:00000000-0000-0000-0000-00000000ada0"
    )
    assert last_attempt(connection).issuer == f"{entra.base_url}/{TENANT}/v2.0"


def test_microsoft_other_tenant_is_refused(client, entra, acme, ada):
    connection = entra_connect(acme, entra, [OTHER_TENANT])

    response = sign_in(entra, client, connection, login="ms-ada")

    assert response.status_code == 403
    assert last_attempt(connection).reason == "tenant_refused"


def test_microsoft_tid_not_matching_the_issuer_is_refused(client, entra, acme, ada):
    connection = entra_connect(acme, entra, [TENANT, OTHER_TENANT])
    entra.steer(claims={"tid": OTHER_TENANT})

    response = sign_in(entra, client, connection, login="ms-ada")

    assert response.status_code == 403
    assert last_attempt(connection).reason == "wrong_issuer"


def test_microsoft_tenant_ids_must_be_guids(entra, acme):
    with pytest.raises(ValidationFailedError):
        entra_connect(acme, entra, ["contoso"])


def test_end_to_end_over_the_live_server(
    transactional_db, oidc_peer, settings, live_server
):
    """The whole round trip with a requests session on both sides."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    oidc_peer.reset()
    organization = OrganizationFactory(name="Acme", slug="acme")
    subscription_set(
        organization=organization, plan="scale", period="annual", seats=50, actor="t"
    )
    OrganizationDomainFactory(organization=organization, domain="acme.example")
    UserFactory(organization=organization, email="ada@acme.example", first_name="Ada")
    connection = oidc_connect(organization, oidc_peer.issuer)
    browser = requests.Session()

    start = browser.post(
        f"{live_server.url}/signin/",
        data={"email": "ada@acme.example"},
        headers={"Referer": live_server.url},
        allow_redirects=False,
        timeout=10,
    )
    if start.status_code == 403:
        browser.get(f"{live_server.url}/signin/", timeout=10)
        start = browser.post(
            f"{live_server.url}/signin/",
            data={
                "email": "ada@acme.example",
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            headers={"Referer": live_server.url},
            allow_redirects=False,
            timeout=10,
        )
    login = browser.get(
        live_server.url + start.headers["Location"], allow_redirects=False, timeout=10
    )
    back = oidc_peer.sign_in(login.headers["Location"], login="sub-ada")
    home = browser.get(back, timeout=10)

    assert start.headers["Location"].startswith(f"/sso/oidc/{connection.public_id}/")
    assert home.status_code == 200
    assert home.url == live_server.url + "/"
    assert "Ada" in home.text
    assert LoginAttempt.objects.get(connection=connection).outcome == "signed_in"


def test_email_the_provider_marks_unverified_is_not_used(client, peer, connection, ada):
    peer.steer(claims={"email_verified": False})

    response = sign_in(peer, client, connection, login="sub-ada")

    assert response.status_code == 403
    assert last_attempt(connection).reason == "email_missing"
    assert not Identity.objects.exists()


def test_claim_mapping_of_the_connection_is_applied(client, peer, connection, acme):
    UserFactory(organization=acme, email="ada@acme.example")
    connection_settings_set(
        connection=connection,
        actor="operator",
        mapping={
            "subject": "email",
            "email": "email",
            "first_name": "family_name",
            "last_name": "given_name",
            "groups": "",
        },
    )

    sign_in(peer, client, connection, login="sub-ada")

    attempt = last_attempt(connection)
    assert attempt.subject == "ada@acme.example"
    assert (attempt.mapped["first_name"], attempt.mapped["last_name"]) == (
        "Lovelace",
        "Ada",
    )
    assert attempt.mapped["groups"] == []


def test_discovery_refresh_runs_daily_in_beat():
    entry = celery_app.conf.beat_schedule["sso-oidc-discovery-refresh"]

    assert entry == {"task": "sso.oidc_discovery_refresh", "schedule": 24 * 60 * 60}
