"""Headless Chromium through the portal's pages and the OpenID provider's."""

import pytest
from playwright.sync_api import expect

from sso.models import Connection, Identity, LoginAttempt
from tests.factories import PASSWORD, AdminFactory, UserFactory
from tests.sso.oidc_peer import oidc_connect

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(oidc_peer):
    oidc_peer.reset()
    yield oidc_peer
    oidc_peer.reset()


@pytest.fixture
def page(chromium, public_base):
    context = chromium.new_context(base_url=public_base)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _provider_login(page, login):
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    # The provider asks for consent once per client and account.
    page.wait_for_selector("button[type=submit]:has-text('Continue')")
    page.click("button[type=submit]:has-text('Continue')")


def test_employee_signs_in_through_the_provider_from_the_email_page(
    page, public_base, provider, entitled, acme_domain
):
    ada = UserFactory(organization=entitled, email="ada@acme.example", first_name="Ada")
    connection = oidc_connect(entitled, provider.issuer)

    page.goto("/signin/")
    page.fill("input[name=email]", "ada@acme.example")
    page.click("button[type=submit]")
    _provider_login(page, "sub-ada")
    page.wait_for_url(f"{public_base}/")

    expect(page.locator(".topbar")).to_contain_text("Ada")
    attempt = LoginAttempt.objects.get(connection=connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN
    assert Identity.objects.get(connection=connection).user == ada


def test_admin_tests_then_activates_an_oidc_connection_in_the_portal(
    page, provider, entitled, acme_domain
):
    AdminFactory(organization=entitled, email="admin@acme.example", first_name="Avery")
    UserFactory(organization=entitled, email="ada@acme.example")
    connection = oidc_connect(entitled, provider.issuer, activate=False)

    page.goto("/signin/password/?email=admin@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/sso/connections/{connection.pk}/")
    expect(page.locator("#redirect-uri")).to_have_text(connection.redirect_uri)
    expect(page.locator("#activate")).to_be_disabled()
    page.click("#test-sign-in")
    _provider_login(page, "sub-ada")
    page.wait_for_selector("#test-outcome")

    expect(page.locator("#test-outcome")).to_contain_text("ada@acme.example")
    expect(page.locator("#test-attributes")).to_contain_text("given_name")
    expect(page.locator("#test-subject")).to_have_text("sub-ada")
    expect(page.locator(".topbar")).to_contain_text("Avery")
    page.click("text=Back to the connection")
    page.click("#activate")
    expect(page.locator("#connection-state")).to_have_text("Active")
    assert Connection.objects.get(pk=connection.pk).state == Connection.State.ACTIVE
