import pytest
from django.urls import reverse
from django.utils.html import escape

from directory.links import links_resolve
from directory.links_queue import links_forget, pending_store
from directory.models import DirectoryUser
from directory.services import directory_create
from directory.views_links import NEVER_RESOLVED, NO_ISSUES, WAITING
from progression.access import ADMINS_ONLY
from progression.services.teams import team_create
from tests.factories import AdminFactory, OrganizationFactory, UserFactory


def url():
    return reverse("directory:sync-issues")


def _synced(organization, *people):
    """Directory people of `organization`: (email, manager_ref, department)."""
    directory, _ = directory_create(
        organization=organization, provider="okta-scim-v2", actor="operator"
    )
    for email, manager_ref, department in people:
        user = UserFactory(
            organization=organization, email=email, first_name="", last_name=""
        )
        DirectoryUser.objects.create(
            directory=directory,
            user_name=email,
            user=user,
            manager_ref=manager_ref,
            department=department,
        )
    links_resolve(organization=organization)
    return directory


@pytest.fixture
def acme_issues(organization):
    return _synced(
        organization,
        ("ada@acme.example", "E-404", "Sales Ops"),
        ("bob@acme.example", "", "Sales Ops"),
    )


def test_sync_issues_lists_reasons_and_people(admin_client, acme_issues):
    response = admin_client.get(url())

    content = response.content.decode()
    assert response.status_code == 200
    assert "no team named &#x27;Sales Ops&#x27;" in content
    assert "no person matches manager &#x27;E-404&#x27;" in content
    assert content.count("ada@acme.example") == 2
    assert "since links were last resolved" in content
    assert WAITING not in content


def test_sync_issues_filters_by_kind(admin_client, acme_issues):
    response = admin_client.get(url(), {"kind": "manager"})

    content = response.content.decode()
    assert "E-404" in content
    assert "no team named" not in content


def test_sync_issues_unknown_kind_shows_every_issue(admin_client, acme_issues):
    response = admin_client.get(url(), {"kind": "nonsense"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "E-404" in content
    assert "no team named" in content


def test_sync_issues_disappear_once_team_exists(
    admin_client, organization, acme_issues
):
    team_create(organization=organization, name="sales ops", actor=None)
    links_resolve(organization=organization)

    response = admin_client.get(url(), {"kind": "team"})

    assert NO_ISSUES in response.content.decode()


def test_sync_issues_before_any_resolution_says_so(admin_client):
    response = admin_client.get(url())

    content = response.content.decode()
    assert NO_ISSUES in content
    assert NEVER_RESOLVED in content


def test_sync_issues_other_organization_never_shown(client, acme_issues):
    globex = OrganizationFactory(name="Globex", slug="globex")
    _synced(globex, ("hank@globex.example", "nobody@globex.example", "Globex Team"))
    client.force_login(AdminFactory(organization=globex))

    response = client.get(url())

    content = response.content.decode()
    assert "hank@globex.example" in content
    assert "acme.example" not in content
    assert "Sales Ops" not in content


def test_sync_issues_member_refused(member_client, acme_issues):
    response = member_client.get(url())

    assert response.status_code == 403
    assert escape(ADMINS_ONLY) in response.content.decode()


def test_sync_issues_anonymous_sent_to_sign_in(client):
    response = client.get(url())

    assert response.status_code == 302


def test_sync_issues_says_when_changes_wait(admin_client, organization, acme_issues):
    pending_store().add(organization.pk, ["*"])

    try:
        response = admin_client.get(url())
    finally:
        links_forget(organization_id=organization.pk)

    assert WAITING in response.content.decode()
