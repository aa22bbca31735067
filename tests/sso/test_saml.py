"""The ACS against responses in each provider's shape, and the checks we add
over python3-saml's, with responses built and signed by `tests.sso.builder`."""

import base64
import datetime as dt
from importlib import import_module

import pytest
from django.conf import settings
from django.urls import reverse

from sso import saml
from sso.models import Identity, LoginAttempt
from sso.providers import MS_CLAIMS, PROVIDERS, XMLSOAP
from sso.services.certificates import certificate_add, certificate_remove
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_settings_set,
)
from sso.services.idp import connection_idp_set
from sso.views.protocol import REFUSED_PREFIX
from tests.factories import OrganizationDomainFactory, UserFactory
from tests.sso.builder import (
    EMAIL_FORMAT,
    Shape,
    build_response,
    request_id_from,
    signing_key,
)

UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
EMAIL = "ada@acme.example"
NAMES = {"email": EMAIL, "first": "Ada", "last": "Lovelace"}

# What each IdP sends, after the captures and documentation of each.
SHAPES = {
    "auth0-saml": Shape(
        name_id_format=UNSPECIFIED,
        attributes={
            f"{XMLSOAP}/emailaddress": EMAIL,
            f"{XMLSOAP}/givenname": "Ada",
            f"{XMLSOAP}/surname": "Lovelace",
            "http://schemas.auth0.com/nickname": "ada",
        },
    ),
    "azure-saml": Shape(
        attributes={
            f"{MS_CLAIMS}/objectidentifier": "7c0c6b4e-1b7b-4d2b-9a7e-0f0f0f0f0f0f",
            f"{MS_CLAIMS}/tenantid": "0d4b1c2a-0000-4000-8000-000000000001",
            f"{XMLSOAP}/emailaddress": EMAIL,
            f"{XMLSOAP}/givenname": "Ada",
            f"{XMLSOAP}/surname": "Lovelace",
            f"{XMLSOAP}/name": "ada_acme.example#EXT#@tenant.onmicrosoft.com",
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": [
                "f1e2d3c4-0000-4000-8000-00000000000a",
                "f1e2d3c4-0000-4000-8000-00000000000b",
            ],
        },
    ),
    "generic-saml": Shape(
        sign_response=True,
        attributes={
            f"{XMLSOAP}/emailaddress": EMAIL,
            f"{XMLSOAP}/givenname": "Ada",
            f"{XMLSOAP}/surname": "Lovelace",
        },
    ),
    "google-saml": Shape(
        name_id_format=UNSPECIFIED,
        attributes={"email": EMAIL, "firstName": "Ada", "lastName": "Lovelace"},
    ),
    "jumpcloud-saml": Shape(
        name_id_format="urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified",
        attributes={"email": EMAIL, "firstname": "Ada", "lastname": "Lovelace"},
    ),
    "okta-saml": Shape(
        sign_response=True,
        attributes={"email": EMAIL, "firstName": "Ada", "lastName": "Lovelace"},
    ),
    "onelogin-saml": Shape(
        sign_response=True,
        attributes={"email": EMAIL, "firstName": "Ada", "lastName": "Lovelace"},
    ),
    "pingfederate-saml": Shape(
        sign_response=True,
        sign_assertion=False,
        name_id_format=UNSPECIFIED,
        attributes={"email": EMAIL, "firstName": "Ada", "lastName": "Lovelace"},
    ),
    "pingone-saml": Shape(
        name_id_format=None,
        attributes={
            "saml_subject": EMAIL,
            "email": EMAIL,
            "firstName": "Ada",
            "lastName": "Lovelace",
        },
    ),
    "shibboleth-saml": Shape(
        sign_response=True,
        sign_assertion=False,
        name_id_format=TRANSIENT,
        attribute_name_format=URI_FORMAT,
        attributes={
            "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": "ada@acme.example",
            "urn:oid:0.9.2342.19200300.100.1.3": EMAIL,
            "urn:oid:2.5.4.42": "Ada",
            "urn:oid:2.5.4.4": "Lovelace",
            "urn:oid:1.3.6.1.4.1.5923.1.5.1.1": ["staff", "engineering"],
        },
    ),
    "vmware-saml": Shape(
        attributes={"email": EMAIL, "firstName": "Ada", "lastName": "Lovelace"},
    ),
    "cyberark-saml": Shape(
        sign_response=True,
        sign_assertion=False,
        name_id_format=UNSPECIFIED,
        attributes={"email": EMAIL, "firstName": "Ada", "lastName": "Lovelace"},
    ),
}
NAME_IDS = {
    "azure-saml": "ada_acme.example#EXT#@tenant.onmicrosoft.com",
    "shibboleth-saml": "_7f3c9e0d2b5a4e1f9c8d",
    "cyberark-saml": "ada.lovelace",
}


@pytest.fixture
def testserver(settings):
    settings.PUBLIC_BASE_URL = "https://progression.example"


def make_connection(organization, provider="generic-saml", **options):
    connection = connection_create(
        organization=organization, provider=provider, actor="operator"
    )
    connection_idp_set(
        connection=connection,
        actor="operator",
        entity_id=f"https://idp.example/{provider}",
        sso_url="https://idp.example/sso",
        certificates=[signing_key()[0]],
    )
    if options:
        connection_settings_set(connection=connection, actor="operator", **options)
    connection_activate(connection=connection, actor="operator", skip_test=True)
    return connection


@pytest.fixture
def connection(testserver, entitled):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    return make_connection(entitled)


@pytest.fixture
def ada(organization):
    return UserFactory(organization=organization, email=EMAIL)


def start(client, connection) -> str:
    page = client.get(reverse("sso:saml-login", args=[connection.public_id]))
    assert page.status_code == 302
    return request_id_from(page["Location"])


def respond(client, connection, request_id, **overrides):
    kwargs = {
        "issuer": connection.idp_entity_id,
        "audience": connection.sp_entity_id,
        "acs_url": connection.acs_url,
        "name_id": EMAIL,
        "in_response_to": request_id,
    }
    kwargs.update(overrides)
    return client.post(
        reverse("sso:saml-acs", args=[connection.public_id]),
        {"SAMLResponse": build_response(**kwargs)},
    )


def reason(connection) -> str:
    return LoginAttempt.objects.filter(connection=connection).first().reason


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_acs_provider_shape_with_default_mapping_signs_in(
    client, testserver, entitled, ada, provider
):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    connection = make_connection(entitled, provider=provider)
    request_id = start(client, connection)

    response = respond(
        client,
        connection,
        request_id,
        name_id=NAME_IDS.get(provider, EMAIL),
        shape=SHAPES[provider],
    )

    assert response.status_code == 302, response.content
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    attempt = LoginAttempt.objects.get(connection=connection)
    assert attempt.user == ada
    assert attempt.mapped["email"] == EMAIL
    assert (attempt.mapped["first_name"], attempt.mapped["last_name"]) == (
        "Ada",
        "Lovelace",
    )


def test_acs_shibboleth_transient_name_id_keys_on_eppn(
    client, testserver, entitled, ada
):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    connection = make_connection(entitled, provider="shibboleth-saml")

    respond(
        client,
        connection,
        start(client, connection),
        name_id="_transient1",
        shape=SHAPES["shibboleth-saml"],
    )

    assert Identity.objects.get(connection=connection).subject == "ada@acme.example"


def test_acs_azure_keys_on_object_identifier_not_upn(client, testserver, entitled, ada):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    connection = make_connection(entitled, provider="azure-saml")

    respond(
        client,
        connection,
        start(client, connection),
        name_id=NAME_IDS["azure-saml"],
        shape=SHAPES["azure-saml"],
    )

    identity = Identity.objects.get(connection=connection)
    assert identity.subject == "7c0c6b4e-1b7b-4d2b-9a7e-0f0f0f0f0f0f"
    attempt = LoginAttempt.objects.get(connection=connection)
    assert len(attempt.mapped["groups"]) == 2


def test_acs_missing_audience_is_refused(client, connection, ada):
    response = respond(client, connection, start(client, connection), audience=None)

    assert response.status_code == 403
    assert reason(connection) == "audience_missing"


def test_acs_destination_that_only_starts_with_acs_url_is_refused(
    client, connection, ada
):
    request_id = start(client, connection)

    response = respond(
        client, connection, request_id, destination=connection.acs_url + "extra"
    )

    assert response.status_code == 403
    assert reason(connection) == "wrong_destination"


def test_acs_recipient_that_only_contains_acs_url_is_refused(client, connection, ada):
    request_id = start(client, connection)

    response = respond(
        client,
        connection,
        request_id,
        recipient="https://evil.example/?next=" + connection.acs_url,
    )

    assert response.status_code == 403
    assert reason(connection) == "wrong_recipient"


def test_acs_missing_recipient_is_refused(client, connection, ada):
    response = respond(client, connection, start(client, connection), recipient=None)

    assert response.status_code == 403
    assert reason(connection) == "wrong_recipient"


def test_acs_wrong_issuer_is_refused(client, connection, ada):
    response = respond(
        client, connection, start(client, connection), issuer="https://other.example/"
    )

    assert response.status_code == 403
    assert reason(connection) == "wrong_issuer"


def test_acs_expired_beyond_skew_is_refused(client, connection, ada):
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)

    response = respond(client, connection, start(client, connection), now=long_ago)

    assert response.status_code == 403
    assert reason(connection) == "expired"


def test_acs_sha1_signature_is_refused(client, connection, ada):
    response = respond(
        client, connection, start(client, connection), signature_algorithm="sha1"
    )

    assert response.content.decode().count(saml.REASONS["sha1_refused"][:40]) == 1
    assert reason(connection) == "sha1_refused"


def test_acs_response_for_other_request_of_same_connection_is_refused(
    client, connection, ada
):
    start(client, connection)

    response = respond(client, connection, "_a-request-we-never-sent")

    assert reason(connection) == "unknown_request"
    assert response.status_code == 403


def test_acs_unsolicited_with_subject_bound_to_a_request_is_refused(
    client, connection, ada
):
    connection_settings_set(
        connection=connection, actor="operator", allow_idp_initiated=True
    )
    request_id = start(client, connection)
    # The Response-level InResponseTo stripped, the signed assertion still
    # names the request: it must not pass as an IdP-initiated sign-in.
    shape = Shape()
    body = build_response(
        issuer=connection.idp_entity_id,
        audience=connection.sp_entity_id,
        acs_url=connection.acs_url,
        name_id=EMAIL,
        in_response_to=request_id,
        shape=shape,
    )
    xml = base64.b64decode(body).decode()
    xml = xml.replace(f' InResponseTo="{request_id}"', "", 1)

    response = client.post(
        reverse("sso:saml-acs", args=[connection.public_id]),
        {"SAMLResponse": base64.b64encode(xml.encode()).decode()},
    )

    assert response.status_code == 403
    assert reason(connection) == "wrong_in_response_to"


def test_acs_unknown_connection_answers_404(client, testserver, db):
    response = client.post(
        reverse("sso:saml-acs", args=["no-such-connection"]), {"SAMLResponse": "x"}
    )

    assert response.status_code == 404


def test_acs_garbage_is_refused_and_logged(client, connection):
    response = client.post(
        reverse("sso:saml-acs", args=[connection.public_id]),
        {"SAMLResponse": "bm90IHhtbA=="},
    )

    assert response.status_code == 403
    assert reason(connection) == "response_malformed"
    assert REFUSED_PREFIX.split(":")[0] in response.content.decode()


def test_acs_missing_response_is_refused(client, connection):
    response = client.post(reverse("sso:saml-acs", args=[connection.public_id]), {})

    assert response.status_code == 403
    assert reason(connection) == "response_missing"


def test_email_name_id_used_when_email_attribute_absent(client, connection, ada):
    response = respond(
        client,
        connection,
        start(client, connection),
        shape=Shape(name_id_format=EMAIL_FORMAT, attributes={}),
    )

    assert response["Location"] == "/"


def test_metadata_of_unknown_connection_answers_404(client, db):
    response = client.get(reverse("sso:saml-metadata", args=["nope"]))

    assert response.status_code == 404


def test_login_of_unknown_connection_answers_404(client, db):
    response = client.get(reverse("sso:saml-login", args=["nope"]))

    assert response.status_code == 404


def test_metadata_publishes_entity_id_and_acs(client, connection):
    response = client.get(
        reverse("sso:saml-metadata", args=[connection.public_id]), {"download": "1"}
    )

    body = response.content.decode()
    assert f'entityID="{connection.sp_entity_id}"' in body
    assert f'Location="{connection.acs_url}"' in body
    assert response["Content-Disposition"].startswith("attachment;")


def test_sign_in_session_cookie_is_http_only_lax_and_complete(client, connection, ada):
    request_id = start(client, connection)

    response = respond(client, connection, request_id)

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert "Cookie" in response["Vary"]
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(cookie.value).load()
    assert session["_auth_user_id"] == str(ada.pk)
    assert session["sso_connection_id"] == connection.pk


def test_acs_certificate_change_takes_effect_at_once(client, connection, ada):
    first = respond(client, connection, start(client, connection))
    old = connection.certificates.get()
    certificate_add(
        connection=connection, actor="operator", pem=signing_key("rotated")[0]
    )
    certificate_remove(certificate=old, actor="operator")

    with_old_key = respond(client, connection, start(client, connection))
    refused_reason = reason(connection)
    with_new_key = respond(client, connection, start(client, connection), key="rotated")

    assert first.status_code == 302
    assert with_old_key.status_code == 403
    assert refused_reason == "signature_invalid"
    assert with_new_key.status_code == 302
