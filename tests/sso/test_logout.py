"""Single logout checks we add over python3-saml's, with logout messages built
and signed by `tests.sso.builder`; a refused message must end nothing."""

import base64
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from lxml import etree

from sso import logout
from sso.services.connections import connection_activate, connection_create
from sso.services.idp import connection_idp_set
from sso.views.protocol import LOGOUT_REFUSED
from tests.factories import OrganizationDomainFactory, UserFactory
from tests.sso.builder import (
    build_logout_request_url,
    build_logout_response_url,
    build_response,
    request_id_from,
    signing_key,
)

EMAIL = "ada@acme.example"
IDP = "https://idp.example/generic-saml"
SLO_URL = "https://idp.example/slo"
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}


@pytest.fixture(autouse=True)
def testserver(settings):
    settings.PUBLIC_BASE_URL = "https://progression.example"


def _make_connection(organization, *, slo_url=SLO_URL, activate=True):
    connection = connection_create(
        organization=organization, provider="generic-saml", actor="operator"
    )
    connection_idp_set(
        connection=connection,
        actor="operator",
        entity_id=IDP,
        sso_url="https://idp.example/sso",
        slo_url=slo_url,
        certificates=[signing_key()[0]],
    )
    if activate:
        connection_activate(connection=connection, actor="operator", skip_test=True)
    connection.refresh_from_db()
    return connection


@pytest.fixture
def connection(entitled):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    return _make_connection(entitled)


@pytest.fixture
def ada(organization):
    return UserFactory(organization=organization, email=EMAIL)


def _sign_in(client, connection, name_id=EMAIL):
    page = client.get(reverse("sso:saml-login", args=[connection.public_id]))
    response = client.post(
        reverse("sso:saml-acs", args=[connection.public_id]),
        {
            "SAMLResponse": build_response(
                issuer=connection.idp_entity_id,
                audience=connection.sp_entity_id,
                acs_url=connection.acs_url,
                name_id=name_id,
                in_response_to=request_id_from(page["Location"]),
            )
        },
    )
    assert response.status_code == 302


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def _local(url: str) -> str:
    """The path and query of one of our absolute URLs, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _message(url: str, kind: str):
    encoded = parse_qs(urlsplit(url).query)[kind][0]
    return etree.fromstring(zlib.decompress(base64.b64decode(encoded), -15))


def _idp_request(connection, **overrides):
    kwargs = {"sls_url": connection.slo_return_url, "issuer": IDP, "name_id": EMAIL}
    kwargs.update(overrides)
    return _local(build_logout_request_url(**kwargs))


def test_sign_in_keeps_name_id_and_session_index_for_logout(client, connection, ada):
    _sign_in(client, connection)

    session = client.session

    assert session[logout.SESSION_NAME_ID] == EMAIL
    assert session[logout.SESSION_INDEX].startswith("_s")


def test_sign_out_sends_logout_request_naming_the_session(client, connection, ada):
    _sign_in(client, connection)
    index = client.session[logout.SESSION_INDEX]

    response = client.post(reverse("signout"))
    request = _message(response["Location"], "SAMLRequest")

    assert response["Location"].startswith(SLO_URL + "?")
    assert request.get("Destination") == SLO_URL
    assert request.findtext("{*}NameID") == EMAIL
    assert request.findtext("samlp:SessionIndex", namespaces=NS) == index
    assert _signed_in(client) is False


def test_logout_response_to_our_request_is_accepted(client, connection, ada):
    _sign_in(client, connection)
    sent = client.post(reverse("signout"))
    request_id = _message(sent["Location"], "SAMLRequest").get("ID")
    answer = build_logout_response_url(
        sls_url=connection.slo_return_url, issuer=IDP, in_response_to=request_id
    )

    response = client.get(_local(answer))

    assert response.status_code == 302
    assert response["Location"] == reverse("signin")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"in_response_to": None}, "another sign-in request"),
        ({"in_response_to": "_never-sent"}, "logout we did not start"),
        ({"issuer": None}, "another identity provider"),
        ({"issuer": "https://evil.example/"}, "another identity provider"),
        ({"destination": None}, "another URL"),
        ({"key": None}, "not signed"),
        ({"key": "stranger"}, "signature does not match"),
        (
            {"status": "urn:oasis:names:tc:SAML:2.0:status:Requester"},
            "error status",
        ),
    ],
)
def test_bad_logout_response_is_refused_and_session_kept(
    client, connection, ada, overrides, reason
):
    _sign_in(client, connection)
    sent = client.post(reverse("signout"))
    kwargs = {
        "sls_url": connection.slo_return_url,
        "issuer": IDP,
        "in_response_to": _message(sent["Location"], "SAMLRequest").get("ID"),
    }
    kwargs.update(overrides)
    _sign_in(client, connection)

    response = client.get(_local(build_logout_response_url(**kwargs)))

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert _signed_in(client) is True


def test_idp_logout_request_ends_session_and_answers(client, connection, ada):
    _sign_in(client, connection)
    url = _idp_request(connection)
    request_id = _message(url, "SAMLRequest").get("ID")

    response = client.get(url)
    answer = _message(response["Location"], "SAMLResponse")

    assert response.status_code == 302
    assert response["Location"].startswith(SLO_URL + "?")
    assert answer.get("InResponseTo") == request_id
    assert answer.get("Destination") == SLO_URL
    assert _signed_in(client) is False


def test_idp_logout_request_for_other_name_id_keeps_session(client, connection, ada):
    _sign_in(client, connection)

    response = client.get(_idp_request(connection, name_id="other@acme.example"))

    assert response.status_code == 302
    assert _signed_in(client) is True


def test_idp_logout_request_for_other_session_index_keeps_session(
    client, connection, ada
):
    _sign_in(client, connection)

    response = client.get(_idp_request(connection, session_index="_s-another"))

    assert response.status_code == 302
    assert _signed_in(client) is True


def test_idp_logout_request_of_own_session_index_ends_session(client, connection, ada):
    _sign_in(client, connection)
    index = client.session[logout.SESSION_INDEX]

    client.get(_idp_request(connection, session_index=index))

    assert _signed_in(client) is False


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"issuer": None}, "another identity provider"),
        ({"issuer": "https://evil.example/"}, "another identity provider"),
        ({"destination": None}, "another URL"),
        ({"destination": "https://evil.example/slo"}, "another URL"),
        ({"lifetime": -60}, "expired"),
        ({"lifetime": None, "issued_ago": 11 * 60}, "expired"),
        ({"key": None}, "not signed"),
        ({"key": "stranger"}, "signature does not match"),
    ],
)
def test_bad_idp_logout_request_is_refused_and_session_kept(
    client, connection, ada, overrides, reason
):
    _sign_in(client, connection)

    response = client.get(_idp_request(connection, **overrides))

    assert response.status_code == 400
    assert LOGOUT_REFUSED.split("%")[0] in response.content.decode()
    assert reason in response.content.decode()
    assert _signed_in(client) is True


def test_idp_logout_request_with_destination_under_ours_is_refused(
    client, connection, ada
):
    _sign_in(client, connection)
    longer = connection.slo_return_url + "more/"

    response = client.get(_idp_request(connection, destination=longer))

    assert response.status_code == 400
    assert _signed_in(client) is True


def test_idp_logout_request_at_other_connection_keeps_session(client, connection, ada):
    other = _make_connection(connection.organization)
    _sign_in(client, connection)

    response = client.get(_idp_request(other))

    assert response.status_code == 302
    assert _signed_in(client) is True


def test_idp_logout_request_at_other_organisations_connection_keeps_session(
    client, connection, ada, other_organization
):
    theirs = _make_connection(other_organization, activate=False)
    _sign_in(client, connection)

    response = client.get(_idp_request(theirs))

    assert response.status_code == 302
    assert _signed_in(client) is True


def test_sls_of_unknown_connection_answers_404(client, db):
    response = client.get(reverse("sso:saml-sls", args=["nope"]))

    assert response.status_code == 404


def test_sls_without_message_is_refused_and_session_kept(client, connection, ada):
    _sign_in(client, connection)

    response = client.get(reverse("sso:saml-sls", args=[connection.public_id]))

    assert response.status_code == 400
    assert "no logout message" in response.content.decode()
    assert _signed_in(client) is True


def test_idp_logout_request_with_repeated_parameter_is_refused(client, connection, ada):
    _sign_in(client, connection)
    url = _idp_request(connection)
    forged = _idp_request(connection, name_id="other@acme.example", key=None)
    extra = forged.split("?", 1)[1]

    response = client.get(f"{url}&{extra}")

    assert response.status_code == 400
    assert "not a readable SAML message" in response.content.decode()
    assert _signed_in(client) is True


def test_idp_logout_request_without_idp_logout_url_ends_session(client, entitled, ada):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    connection = _make_connection(entitled, slo_url="")
    _sign_in(client, connection)

    response = client.get(_idp_request(connection))

    assert response.status_code == 302
    assert response["Location"] == reverse("signin")
    assert _signed_in(client) is False


def test_sign_out_of_connection_without_idp_logout_url_ends_session(
    client, entitled, ada
):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    connection = _make_connection(entitled, slo_url="")
    _sign_in(client, connection)

    response = client.post(reverse("signout"))

    assert response["Location"] == reverse("signin")
    assert _signed_in(client) is False
