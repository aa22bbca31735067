"""Headless Chromium through the portal's own pages and SimpleSAMLphp's."""

import pytest
from playwright.sync_api import expect

from sso.models import Connection, LoginAttempt
from tests.factories import PASSWORD, AdminFactory, UserFactory
from tests.sso.conftest import IDP_PASSWORD, connect

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium, public_base):
    context = chromium.new_context(base_url=public_base)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _idp_login(page, username):
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", IDP_PASSWORD)
    page.locator("input[name=password]").press("Enter")


def test_employee_signs_in_through_the_idp_from_the_email_page(
    page, idp_connection, organization
):
    UserFactory(organization=organization, email="ada@acme.example", first_name="Ada")

    page.goto("/signin/")
    page.fill("input[name=email]", "ada@acme.example")
    page.click("button[type=submit]")
    _idp_login(page, "ada")
    page.wait_for_url(f"{idp_connection.acs_url.rsplit('/sso/', 1)[0]}/")

    expect(page.locator(".topbar")).to_contain_text("Ada")
    attempt = LoginAttempt.objects.get(connection=idp_connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN


def test_admin_tests_then_activates_a_connection_in_the_portal(
    page, transactional_db, public_base, saml_idp, entitled, acme_domain
):
    AdminFactory(organization=entitled, email="admin@acme.example", first_name="Avery")
    UserFactory(organization=entitled, email="ada@acme.example")
    connection = connect(saml_idp, entitled, activate=False)

    page.goto("/signin/password/?email=admin@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/sso/connections/{connection.pk}/")
    expect(page.locator("#activate")).to_be_disabled()
    page.click("#test-sign-in")
    _idp_login(page, "ada")
    page.wait_for_selector("#test-outcome")

    expect(page.locator("#test-outcome")).to_contain_text("ada@acme.example")
    expect(page.locator("#test-attributes")).to_contain_text("firstName")
    expect(page.locator(".topbar")).to_contain_text("Avery")
    page.click("text=Back to the connection")
    page.click("#activate")
    expect(page.locator("#connection-state")).to_have_text("Active")
    assert Connection.objects.get(pk=connection.pk).state == Connection.State.ACTIVE
