"""The OIDC setup wizard in the portal: values, discovery, test, activation."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from sso.models import Connection, LoginAttempt
from sso.oidc import services as oidc_services
from sso.oidc.errors import REASONS
from sso.oidc.providers import GOOGLE_ISSUER, MICROSOFT_ISSUER, OIDC_PROVIDERS
from sso.services.connections import connection_create
from tests.factories import AdminFactory, OrganizationDomainFactory, UserFactory
from tests.sso.oidc_peer import CLIENT_SECRET, oidc_connect


@pytest.fixture
def draft(entitled, peer):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    return connection_create(
        organization=entitled, provider="generic-oidc", actor="operator"
    )


@pytest.fixture
def other_oidc(other_organization, peer):
    return oidc_connect(other_organization, peer.issuer, activate=False)


def _values(peer, **extra):
    return {"issuer": peer.issuer, "client_id": "progression", **extra}


@pytest.mark.parametrize("provider", sorted(OIDC_PROVIDERS))
def test_new_oidc_connection_page_shows_redirect_uri_and_guide(
    admin_client, organization, provider
):
    page = admin_client.post(reverse("sso:connection-new"), {"provider": provider})
    connection = Connection.objects.get(organization=organization)

    body = admin_client.get(page["Location"]).content.decode()

    info = OIDC_PROVIDERS[provider]
    assert connection.protocol == Connection.Protocol.OIDC
    assert connection.redirect_uri.endswith("/sso/oidc/callback/")
    assert connection.redirect_uri in body
    assert escape(info.steps[0]) in body
    assert all(escape(trap) in body for trap in info.traps)
    assert "ACS URL" not in body


def test_google_and_microsoft_come_with_their_issuer(organization):
    google = connection_create(
        organization=organization, provider="google-oauth", actor="operator"
    )
    microsoft = connection_create(
        organization=organization, provider="microsoft-oauth", actor="operator"
    )

    assert (google.issuer, microsoft.issuer) == (GOOGLE_ISSUER, MICROSOFT_ISSUER)
    assert google.scopes == "openid email profile"


def test_saving_values_fetches_discovery_and_encrypts_the_secret(
    admin_client, draft, peer
):
    page = admin_client.post(
        reverse("sso:connection-oidc", args=[draft.pk]),
        _values(peer, client_secret=CLIENT_SECRET),
    )

    stored = Connection.objects.get(pk=draft.pk)
    assert page.status_code == 302
    assert stored.client_id == "progression"
    assert stored.client_secret == CLIENT_SECRET
    assert stored.discovery["issuer"] == peer.issuer
    assert stored.metadata_fetched_at is not None
    body = admin_client.get(reverse("sso:connection", args=[draft.pk])).content
    assert CLIENT_SECRET.encode() not in body


def test_empty_secret_keeps_the_stored_one(admin_client, draft, peer):
    admin_client.post(
        reverse("sso:connection-oidc", args=[draft.pk]),
        _values(peer, client_secret=CLIENT_SECRET),
    )

    admin_client.post(
        reverse("sso:connection-oidc", args=[draft.pk]),
        _values(peer, client_secret="", scopes="openid email"),
    )

    stored = Connection.objects.get(pk=draft.pk)
    assert stored.client_secret == CLIENT_SECRET
    assert stored.scopes == "openid email"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"issuer": "ftp://idp.example"}, oidc_services.ISSUER_REQUIRED),
        ({"client_secret": ""}, oidc_services.CLIENT_SECRET_REQUIRED),
        ({"scopes": "email profile"}, oidc_services.SCOPES_NEED_OPENID),
        ({"issuer": "http://127.0.0.1:9"}, "could not be fetched"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(
    admin_client, draft, peer, values, message
):
    data = {**_values(peer, client_secret=CLIENT_SECRET), **values}

    page = admin_client.post(reverse("sso:connection-oidc", args=[draft.pk]), data)

    assert page.status_code == 400
    assert escape(message) in page.content.decode()
    stored = Connection.objects.get(pk=draft.pk)
    assert (stored.client_id, stored.client_secret, stored.discovery) == ("", "", {})


def test_discovery_naming_another_issuer_is_shown_and_changes_nothing(
    admin_client, draft, peer
):
    peer.steer(discovery={"issuer": "https://evil.example"})

    page = admin_client.post(
        reverse("sso:connection-oidc", args=[draft.pk]),
        _values(peer, client_secret=CLIENT_SECRET),
    )

    assert page.status_code == 400
    assert escape(REASONS["issuer_mismatch"] % "https://evil.example") in (
        page.content.decode()
    )
    assert Connection.objects.get(pk=draft.pk).discovery == {}


def test_refresh_fetches_discovery_again(admin_client, entitled, peer):
    connection = oidc_connect(entitled, peer.issuer, activate=False)
    fetched = peer.stats()["discovery"]

    page = admin_client.post(reverse("sso:connection-refresh", args=[connection.pk]))

    assert page.status_code == 302
    assert peer.stats()["discovery"] == fetched + 1


def test_activation_needs_a_test_sign_in_then_works(
    admin_client, admin, entitled, peer
):
    UserFactory(organization=entitled, email="ada@acme.example")
    connection = oidc_connect(entitled, peer.issuer, activate=False)
    refused = admin_client.post(
        reverse("sso:connection-activate", args=[connection.pk])
    )
    assert Connection.objects.get(pk=connection.pk).state == "draft"

    test = admin_client.post(reverse("sso:connection-test", args=[connection.pk]))
    back = peer.sign_in(test["Location"], login="sub-ada")
    result = admin_client.get(back)
    shown = admin_client.get(result["Location"])
    admin_client.post(reverse("sso:connection-activate", args=[connection.pk]))

    assert refused.status_code == 302
    assert result.status_code == 302
    body = shown.content.decode()
    assert "would sign in as ada@acme.example" in body
    assert "given_name" in body
    assert "sub-ada" in body
    assert shown.wsgi_request.user == admin
    attempt = LoginAttempt.objects.get(connection=connection)
    assert (attempt.outcome, attempt.test) == ("tested", True)
    assert Connection.objects.get(pk=connection.pk).state == "active"


def test_test_sign_in_finished_as_another_admin_is_refused(
    admin_client, entitled, peer
):
    connection = oidc_connect(entitled, peer.issuer, activate=False)
    test = admin_client.post(reverse("sso:connection-test", args=[connection.pk]))
    back = peer.sign_in(test["Location"], login="sub-ada")
    admin_client.force_login(AdminFactory(organization=entitled))

    page = admin_client.get(back)

    # Signing in as someone else starts a new session: the state is gone.
    assert page.status_code == 400
    assert escape(REASONS["state_mismatch"]) in page.content.decode()
    assert Connection.objects.get(pk=connection.pk).tested_at is None


def test_deactivate_sends_people_to_the_password_form(admin_client, entitled, peer):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    connection = oidc_connect(entitled, peer.issuer)

    admin_client.post(reverse("sso:connection-deactivate", args=[connection.pk]))

    page = Client().post(reverse("signin"), {"email": "ada@acme.example"})
    assert Connection.objects.get(pk=connection.pk).state == "inactive"
    assert page["Location"].startswith(reverse("signin-password"))


def test_every_oidc_page_of_other_organization_answers_404(admin_client, other_oidc):
    pk = other_oidc.pk
    attempt = LoginAttempt.objects.create(
        connection=other_oidc, outcome="tested", test=True
    )
    pages = [
        ("get", reverse("sso:connection", args=[pk])),
        ("post", reverse("sso:connection-oidc", args=[pk])),
        ("post", reverse("sso:connection-oidc-key", args=[pk])),
        ("post", reverse("sso:connection-refresh", args=[pk])),
        ("post", reverse("sso:connection-settings", args=[pk])),
        ("post", reverse("sso:connection-test", args=[pk])),
        ("get", reverse("sso:connection-test-result", args=[pk, attempt.pk])),
        ("post", reverse("sso:connection-activate", args=[pk])),
        ("post", reverse("sso:connection-deactivate", args=[pk])),
        ("get", reverse("sso:connection-attempts", args=[pk])),
    ]

    statuses = [getattr(admin_client, method)(url).status_code for method, url in pages]

    after = Connection.objects.get(pk=pk)
    assert statuses == [404] * len(pages)
    assert (after.state, after.client_id) == ("draft", "progression")
    assert after.client_signing_key == ""


def test_oidc_values_page_refuses_members(member_client, draft, peer):
    page = member_client.post(
        reverse("sso:connection-oidc", args=[draft.pk]),
        _values(peer, client_secret=CLIENT_SECRET),
    )

    assert page.status_code == 403
    assert Connection.objects.get(pk=draft.pk).client_id == ""


def test_saml_only_pages_of_an_oidc_connection_are_not_found(
    admin_client, entitled, peer
):
    connection = oidc_connect(entitled, peer.issuer, activate=False)
    pk = connection.pk
    pages = [
        reverse("sso:connection-idp", args=[pk]),
        reverse("sso:certificate-add", args=[pk]),
        reverse("sso:certificate-remove", args=[pk, 1]),
        reverse("sso:connection-keypair", args=[pk]),
    ]

    statuses = [admin_client.post(url).status_code for url in pages]

    assert statuses == [404] * len(pages)
    assert Connection.objects.get(pk=pk).sp_certificate == ""


def test_oidc_values_page_of_a_saml_connection_is_not_found(admin_client, entitled):
    saml = connection_create(
        organization=entitled, provider="okta-saml", actor="operator"
    )

    page = admin_client.post(
        reverse("sso:connection-oidc", args=[saml.pk]),
        {"issuer": "https://idp.example", "client_id": "x", "client_secret": "y"},
    )

    assert page.status_code == 404
    assert Connection.objects.get(pk=saml.pk).client_id == ""
