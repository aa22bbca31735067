"""Single logout against SimpleSAMLphp, over plain HTTP with requests.

The IdP's own logout messages are used as they come, and tampered with for the
refusal cases; a refused message must leave the session as it was.
"""

import base64
import zlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.urls import reverse

from sso.models import Connection
from sso.services.connections import connection_keypair_generate
from sso.views.protocol import LOGOUT_REFUSED
from tests.factories import UserFactory
from tests.peers.simplesamlphp.idp import idp_sign_in
from tests.sso.conftest import IDP_PASSWORD, connect

REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


def _slo_options(connection, *, signed=True, validate_ours=False) -> dict:
    """What the IdP needs to know to log this SP out, and how to sign."""
    options = {
        "SingleLogoutService": [
            {"Binding": REDIRECT, "Location": connection.slo_return_url}
        ],
        "sign.logout": signed,
    }
    if validate_ours:
        options["validate.logout"] = True
        options["certData"] = "".join(
            line
            for line in connection.sp_certificate.strip().splitlines()
            if "-----" not in line
        )
    return options


def _connect_with_slo(idp, organization, *, keypair=False, **slo):
    connection = connect(idp, organization, register=False)
    if keypair:
        connection_keypair_generate(connection=connection, actor="operator")
        connection = Connection.objects.get(pk=connection.pk)
    idp.register_sp(
        connection.sp_entity_id,
        connection.acs_url,
        extra=_slo_options(connection, validate_ours=keypair, **slo),
    )
    return connection


@pytest.fixture
def ada(organization):
    return UserFactory(organization=organization, email="ada@acme.example")


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


@pytest.fixture
def slo_connection(transactional_db, public_base, saml_idp, entitled, acme_domain):
    return _connect_with_slo(saml_idp, entitled)


def _sign_in(browser, connection, username="ada"):
    start = browser.get(connection.login_url, allow_redirects=False, timeout=10)
    action, fields = idp_sign_in(
        browser, start.headers["Location"], username, IDP_PASSWORD
    )
    landed = browser.post(action, data=fields, allow_redirects=False, timeout=10)
    assert landed.status_code == 302, landed.text


def _signed_in(browser, base) -> bool:
    page = browser.get(f"{base}/", allow_redirects=False, timeout=10)
    return page.status_code == 200


def _sign_out(browser, base):
    """Press Sign out; return our answer (a redirect) without following it."""
    browser.get(f"{base}/", timeout=10)
    return browser.post(
        f"{base}{reverse('signout')}",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{base}/"},
        allow_redirects=False,
        timeout=10,
    )


def _follow_until(browser, url, prefix):
    """Follow redirects from `url` until one points under `prefix`; return it."""
    for _ in range(10):
        answer = browser.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code in (301, 302, 303), answer.text[:500]
        url = answer.headers["Location"]
        if url.startswith(prefix):
            return url
    raise AssertionError(f"never sent to {prefix}")


def _idp_logout_request(browser, idp, connection):
    """Log out at the IdP; return the LogoutRequest URL it sends us to."""
    start = (
        idp.base_url
        + "saml2/idp/SingleLogoutService.php?"
        + urlencode({"ReturnTo": idp.base_url})
    )
    return _follow_until(browser, start, connection.slo_return_url)


def _query(url) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _with_query(url, params) -> str:
    return url.split("?", 1)[0] + "?" + urlencode(params)


def _inflate(value: str) -> bytes:
    return zlib.decompress(base64.b64decode(value), -15)


def _deflate(xml: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(xml) + compressor.flush()).decode()


def _idp_session_ended(browser, connection) -> bool:
    """Whether the IdP asks for the password again (its session is gone)."""
    start = browser.get(connection.login_url, allow_redirects=False, timeout=10)
    page = browser.get(start.headers["Location"], timeout=10)
    return "SAMLResponse" not in page.text and "password" in page.text


def test_sp_initiated_logout_round_trip_ends_both_sessions(
    slo_connection, public_base, saml_idp, browser, ada
):
    _sign_in(browser, slo_connection)
    was_signed_in = _signed_in(browser, public_base)

    signed_out = _sign_out(browser, public_base)
    ours_ended = not _signed_in(browser, public_base)
    answer_url = _follow_until(
        browser, signed_out.headers["Location"], slo_connection.slo_return_url
    )
    landed = browser.get(answer_url, allow_redirects=False, timeout=10)

    assert was_signed_in is True
    assert signed_out.headers["Location"].startswith(slo_connection.slo_url)
    assert "SAMLRequest" in _query(signed_out.headers["Location"])
    assert ours_ended is True
    assert "Signature" in _query(answer_url)
    assert landed.status_code == 302
    assert landed.headers["Location"] == reverse("signin")
    assert _idp_session_ended(browser, slo_connection) is True


def test_logout_response_is_accepted_once(
    slo_connection, public_base, saml_idp, browser, ada
):
    _sign_in(browser, slo_connection)
    signed_out = _sign_out(browser, public_base)
    answer_url = _follow_until(
        browser, signed_out.headers["Location"], slo_connection.slo_return_url
    )
    browser.get(answer_url, allow_redirects=False, timeout=10)

    again = browser.get(answer_url, allow_redirects=False, timeout=10)

    assert again.status_code == 400
    assert "logout we did not start" in again.text


def test_signed_sp_logout_request_is_accepted_by_idp_that_checks_it(
    transactional_db, public_base, saml_idp, entitled, acme_domain, browser, ada
):
    connection = _connect_with_slo(saml_idp, entitled, keypair=True)
    _sign_in(browser, connection)

    signed_out = _sign_out(browser, public_base)
    request = _query(signed_out.headers["Location"])
    answer_url = _follow_until(
        browser, signed_out.headers["Location"], connection.slo_return_url
    )
    landed = browser.get(answer_url, allow_redirects=False, timeout=10)

    assert "Signature" in request
    assert landed.headers["Location"] == reverse("signin")
    assert _idp_session_ended(browser, connection) is True


def test_tampered_logout_response_is_refused_and_session_kept(
    slo_connection, public_base, saml_idp, browser, ada
):
    _sign_in(browser, slo_connection)
    signed_out = _sign_out(browser, public_base)
    answer_url = _follow_until(
        browser, signed_out.headers["Location"], slo_connection.slo_return_url
    )
    params = _query(answer_url)
    xml = _inflate(params["SAMLResponse"]).replace(
        b"status:Success", b"status:Requester"
    )
    tampered = _with_query(answer_url, {**params, "SAMLResponse": _deflate(xml)})
    _sign_in(browser, slo_connection)

    answer = browser.get(tampered, allow_redirects=False, timeout=10)

    assert answer.status_code == 400
    assert "signature does not match" in answer.text
    assert _signed_in(browser, public_base) is True


def test_idp_initiated_logout_ends_the_session_and_answers(
    slo_connection, public_base, saml_idp, browser, ada
):
    _sign_in(browser, slo_connection)
    request_url = _idp_logout_request(browser, saml_idp, slo_connection)

    answer = browser.get(request_url, allow_redirects=False, timeout=10)
    answer_params = _query(answer.headers["Location"])
    finished = browser.get(
        answer.headers["Location"], allow_redirects=False, timeout=10
    )

    assert "Signature" in _query(request_url)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(slo_connection.slo_url)
    assert b"status:Success" in _inflate(answer_params["SAMLResponse"])
    assert finished.status_code in (302, 303)
    assert finished.headers["Location"] == saml_idp.base_url
    assert _signed_in(browser, public_base) is False


def test_signed_logout_response_is_accepted_by_idp_that_checks_it(
    transactional_db, public_base, saml_idp, entitled, acme_domain, browser, ada
):
    connection = _connect_with_slo(saml_idp, entitled, keypair=True)
    _sign_in(browser, connection)
    request_url = _idp_logout_request(browser, saml_idp, connection)

    answer = browser.get(request_url, allow_redirects=False, timeout=10)
    finished = browser.get(
        answer.headers["Location"], allow_redirects=False, timeout=10
    )

    assert "Signature" in _query(answer.headers["Location"])
    assert finished.headers["Location"] == saml_idp.base_url
    assert _signed_in(browser, public_base) is False


def test_idp_logout_request_is_accepted_once(
    slo_connection, public_base, saml_idp, browser, ada
):
    _sign_in(browser, slo_connection)
    request_url = _idp_logout_request(browser, saml_idp, slo_connection)
    browser.get(request_url, allow_redirects=False, timeout=10)
    _sign_in(browser, slo_connection)

    replayed = browser.get(request_url, allow_redirects=False, timeout=10)

    assert replayed.status_code == 400
    assert "already used" in replayed.text
    assert _signed_in(browser, public_base) is True


def _tamper_name_id(params):
    xml = _inflate(params["SAMLRequest"]).replace(
        b"ada@acme.example", b"admin@acme.example"
    )
    return {**params, "SAMLRequest": _deflate(xml)}


def _strip_signature(params):
    return {k: v for k, v in params.items() if k not in ("Signature", "SigAlg")}


def _swap_sig_alg(params):
    return {**params, "SigAlg": "http://www.w3.org/2000/09/xmldsig#rsa-sha1"}


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_tamper_name_id, "signature does not match"),
        (_strip_signature, "not signed"),
        (_swap_sig_alg, "SHA-1"),
    ],
)
def test_tampered_idp_logout_request_is_refused_and_session_kept(
    slo_connection, public_base, saml_idp, browser, ada, tamper, reason
):
    _sign_in(browser, slo_connection)
    request_url = _idp_logout_request(browser, saml_idp, slo_connection)
    tampered = _with_query(request_url, tamper(_query(request_url)))

    answer = browser.get(tampered, allow_redirects=False, timeout=10)

    assert answer.status_code == 400
    assert LOGOUT_REFUSED.split("%")[0] in answer.text
    assert reason in answer.text
    assert _signed_in(browser, public_base) is True


def test_unsigned_idp_logout_request_is_refused_and_session_kept(
    transactional_db, public_base, saml_idp, entitled, acme_domain, browser, ada
):
    connection = _connect_with_slo(saml_idp, entitled, signed=False)
    _sign_in(browser, connection)
    request_url = _idp_logout_request(browser, saml_idp, connection)

    answer = browser.get(request_url, allow_redirects=False, timeout=10)

    assert "Signature" not in _query(request_url)
    assert answer.status_code == 400
    assert "not signed" in answer.text
    assert _signed_in(browser, public_base) is True


def test_idp_logout_request_for_another_person_keeps_this_session(
    slo_connection, public_base, saml_idp, browser, ada, organization
):
    UserFactory(organization=organization, email="admin@acme.example")
    _sign_in(browser, slo_connection)
    with requests.Session() as other:
        _sign_in(other, slo_connection, username="admin")
        request_url = _idp_logout_request(other, saml_idp, slo_connection)

    answer = browser.get(request_url, allow_redirects=False, timeout=10)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(slo_connection.slo_url)
    assert _signed_in(browser, public_base) is True


def test_idp_logout_request_at_another_connection_is_refused(
    slo_connection, public_base, saml_idp, entitled, browser, ada
):
    other = _connect_with_slo(saml_idp, entitled)
    _sign_in(browser, slo_connection)
    request_url = _idp_logout_request(browser, saml_idp, slo_connection)
    elsewhere = other.slo_return_url + "?" + urlsplit(request_url).query

    answer = browser.get(elsewhere, allow_redirects=False, timeout=10)

    assert answer.status_code == 400
    assert "another URL" in answer.text
    assert _signed_in(browser, public_base) is True


def test_sls_without_message_is_refused_and_session_kept(
    slo_connection, public_base, saml_idp, browser, ada
):
    _sign_in(browser, slo_connection)

    answer = browser.get(slo_connection.slo_return_url, allow_redirects=False)

    assert answer.status_code == 400
    assert "no logout message" in answer.text
    assert _signed_in(browser, public_base) is True


def test_sign_out_without_idp_logout_url_ends_only_our_session(
    slo_connection, public_base, saml_idp, browser, ada
):
    Connection.objects.filter(pk=slo_connection.pk).update(slo_url="")
    _sign_in(browser, slo_connection)

    signed_out = _sign_out(browser, public_base)

    assert signed_out.headers["Location"] == reverse("signin")
    assert _signed_in(browser, public_base) is False
