import pytest
from playwright.sync_api import expect

from billing import entitlements as e
from billing import services
from billing.models import BoltOnPurchase
from tests.browser.conftest import browser, page  # noqa: F401
from tests.factories import PASSWORD, AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_launch_annual_admin_adds_bolt_on_from_billing_page(
    page,  # noqa: F811
    organization,
    tmp_path,
):
    admin = AdminFactory(organization=organization, email="admin@acme.example")
    services.subscription_set(
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
