import pytest
from playwright.sync_api import expect

from billing import entitlements as e
from billing.models import BoltOnPurchase
from billing.services.subscriptions import subscription_set
from sso.models import Connection
from tests.factories import PASSWORD, AdminFactory, UserFactory
from tests.sso.conftest import IDP_PASSWORD, connect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _idp_login(page, username):
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", IDP_PASSWORD)
    page.locator("input[name=password]").press("Enter")


def test_launch_annual_admin_adds_bolt_on_from_billing_page(
    page,
    organization,
    tmp_path,
):
    admin = AdminFactory(organization=organization, email="admin@acme.example")
    subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=25,
        actor="operator",
    )

    page.goto("/")
    page.get_by_label("Work email").fill(admin.email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation").get_by_role("link", name="Billing").click()

    expect(page.get_by_test_id("plan")).to_have_text("Launch")
    expect(page.get_by_test_id("period")).to_have_text("Annual")
    expect(page.get_by_test_id("seats")).to_have_text("25")
    expect(page.get_by_test_id("seats-in-use")).to_have_text("1")
    expect(page.get_by_test_id("entitlement-status")).to_have_text("Not available")
    expect(page.get_by_test_id("entitlement-message")).to_have_text(
        e.BOLT_ON_REQUIRED_LAUNCH_MESSAGE
    )
    expect(page.get_by_test_id("bolt-on-price")).to_have_text("$1,700 per year")
    page.screenshot(path=tmp_path / "billing-before.png", full_page=True)

    page.get_by_role("button", name="Add the bolt-on").click()

    expect(page.get_by_test_id("entitlement-status")).to_have_text("Available")
    expect(page.get_by_test_id("entitlement-reason")).to_have_text(e.BOLT_ON)
    expect(page.get_by_role("button", name="Add the bolt-on")).to_have_count(0)
    expect(page.get_by_test_id("history")).to_contain_text("Bolt-on purchased")
    purchase = BoltOnPurchase.objects.get(organization=organization)
    assert purchase.purchased_by == admin
    assert e.entitlement(organization).available is True
    page.screenshot(path=tmp_path / "billing-after.png", full_page=True)


def test_launch_annual_admin_sees_upsell_adds_bolt_on_then_activates_connection(
    page,
    public_base,
    saml_idp,
    organization,
    acme_domain,
    tmp_path,
):
    AdminFactory(organization=organization, email="admin@acme.example")
    UserFactory(organization=organization, email="ada@acme.example")
    subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=25,
        actor="operator",
    )
    connection = connect(saml_idp, organization, activate=False)
    connection_url = f"/sso/connections/{connection.pk}/"

    page.goto("/signin/password/?email=admin@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(connection_url)
    upsell = page.locator(".upsell")
    expect(upsell).to_contain_text(e.BOLT_ON_REQUIRED_LAUNCH_MESSAGE)
    expect(page.locator("#activate")).to_be_disabled()
    page.screenshot(path=tmp_path / "sso-upsell.png", full_page=True)
    upsell.get_by_role("link", name="Add the bolt-on for $1,700/year").click()
    page.get_by_role("button", name="Add the bolt-on").click()
    expect(page.get_by_test_id("entitlement-status")).to_have_text("Available")

    page.goto(connection_url)
    expect(page.locator(".upsell")).to_have_count(0)
    page.click("#test-sign-in")
    _idp_login(page, "ada")
    page.wait_for_selector("#test-outcome")
    expect(page.locator("#test-outcome")).to_contain_text("ada@acme.example")
    page.click("text=Back to the connection")
    page.click("#activate")

    expect(page.locator("#connection-state")).to_have_text("Active")
    assert Connection.objects.get(pk=connection.pk).state == Connection.State.ACTIVE
    assert BoltOnPurchase.objects.get(organization=organization).amount_cents == (
        170_000
    )
