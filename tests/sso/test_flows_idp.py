"""Full sign-ins against SimpleSAMLphp, over plain HTTP with requests."""

import requests

from sso.models import LoginAttempt
from tests.factories import UserFactory
from tests.peers.simplesamlphp.idp import idp_sign_in
from tests.sso.conftest import IDP_PASSWORD


def _signed_in_email(session, base):
    page = session.get(f"{base}/", allow_redirects=False, timeout=10)
    return page


def test_sp_initiated_sign_in_from_email_page_signs_in(
    idp_connection, public_base, saml_idp, organization
):
    UserFactory(organization=organization, email="ada@acme.example")
    browser = requests.Session()
    page = browser.get(f"{public_base}/signin/", timeout=10)
    csrf = browser.cookies["csrftoken"]

    start = browser.post(
        f"{public_base}/signin/",
        data={"email": "ada@acme.example", "csrfmiddlewaretoken": csrf},
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=10,
    )
    action, fields = idp_sign_in(
        browser, public_base + start.headers["Location"], "ada", IDP_PASSWORD
    )
    landed = browser.post(action, data=fields, allow_redirects=False, timeout=10)
    home = browser.get(f"{public_base}/", allow_redirects=False, timeout=10)

    assert action == idp_connection.acs_url
    assert landed.status_code == 302
    assert landed.headers["Location"] == "/"
    assert home.status_code == 200
    attempt = LoginAttempt.objects.get(connection=idp_connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN
    assert attempt.user.email == "ada@acme.example"
