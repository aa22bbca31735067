import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, AdminFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_signs_in_finds_a_person_and_opens_their_page(
    page, organization, tmp_path
):
    admin = AdminFactory(organization=organization, email="admin@acme.example")
    team = TeamFactory(organization=organization, name="Research")
    UserFactory(
        organization=organization,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@acme.example",
        team=team,
        manager=admin,
    )
    UserFactory.create_batch(5, organization=organization)

    page.goto("/")
    page.get_by_label("Work email").fill(admin.email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="People").click()
    page.get_by_label("Search").fill("lovel")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link", name="Ada Lovelace").click()

    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Research")
    expect(page.locator("dl.facts")).to_contain_text(admin.full_name)
    page.screenshot(path=tmp_path / "person.png", full_page=True)
