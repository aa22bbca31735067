import pytest
from django.urls import reverse

from billing.services.subscriptions import subscription_set
from directory.models import Directory, DirectoryGroup, DirectoryRequest, DirectoryUser
from directory.provisioning import Record, directory_user_create
from directory.services import directory_create, token_digest
from directory.views import SCOPE_SAVED, TOKEN_ROTATED
from progression.access import ADMINS_ONLY
from tests.directory.conftest import ScimClient, user_body


@pytest.fixture
def directory(entitled):
    directory, _ = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    return directory


@pytest.fixture
def foreign(other_organization):
    subscription_set(
        organization=other_organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    directory, _ = directory_create(
        organization=other_organization, provider="azure-scim-v2", actor="operator"
    )
    record = directory_user_create(
        directory=directory,
        record=Record(user_name="eve@globex.example", email="eve@globex.example"),
    )
    return directory, record


def pages(directory, record):
    return [
        ("get", reverse("directory:detail", args=[directory.pk])),
        ("get", reverse("directory:requests", args=[directory.pk])),
        ("get", reverse("directory:users", args=[directory.pk])),
        ("get", reverse("directory:user", args=[directory.pk, record.pk])),
        ("get", reverse("directory:person-source", args=[record.user.pk])),
        ("post", reverse("directory:rotate", args=[directory.pk])),
        ("post", reverse("directory:state", args=[directory.pk])),
        ("post", reverse("directory:scope", args=[directory.pk])),
    ]


def test_index_lists_directories_and_offers_providers(admin_client, directory):
    response = admin_client.get(reverse("directory:index"))

    assert response.status_code == 200
    assert directory.name in response.content.decode()
    assert b'value="rippling"' in response.content


def test_index_member_is_refused(member_client):
    response = member_client.get(reverse("directory:index"))

    assert response.status_code == 403
    assert response.context["message"] == ADMINS_ONLY


def test_create_shows_token_once_and_stores_only_its_digest(admin_client, entitled):
    response = admin_client.post(
        reverse("directory:create"), {"provider": "azure-scim-v2", "name": "Entra"}
    )

    directory = Directory.objects.get()
    token = response.context["token"]
    assert response.status_code == 200
    assert token in response.content.decode()
    assert "?aadOptscim062020" in response.context["base_url"]
    assert directory.token_hash == token_digest(token)
    assert token not in str(Directory.objects.values().get())
    detail = admin_client.get(reverse("directory:detail", args=[directory.pk]))
    assert token not in detail.content.decode()


def test_create_not_entitled_is_refused(admin_client, organization):
    response = admin_client.post(
        reverse("directory:create"), {"provider": "okta-scim-v2"}, follow=True
    )

    assert Directory.objects.count() == 0
    assert response.status_code == 200


def test_create_unknown_provider_changes_nothing(admin_client, entitled):
    admin_client.post(reverse("directory:create"), {"provider": "bogus"})

    assert Directory.objects.count() == 0


def test_rotate_old_token_stops_working(admin_client, client, entitled):
    directory, old = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )

    response = admin_client.post(reverse("directory:rotate", args=[directory.pk]))

    new = response.context["token"]
    assert TOKEN_ROTATED in response.content.decode()
    assert ScimClient(client, directory, old).get("/Users").status_code == 401
    assert ScimClient(client, directory, new).get("/Users").status_code == 200


def test_state_deactivate_then_activate(admin_client, directory):
    admin_client.post(
        reverse("directory:state", args=[directory.pk]), {"state": "inactive"}
    )
    directory.refresh_from_db()
    inactive = directory.state

    admin_client.post(
        reverse("directory:state", args=[directory.pk]), {"state": "active"}
    )

    directory.refresh_from_db()
    assert inactive == Directory.State.INACTIVE
    assert directory.state == Directory.State.ACTIVE


def test_scope_saves_groups_of_this_directory_only(admin_client, directory, foreign):
    mine = DirectoryGroup.objects.create(directory=directory, display_name="Eng")
    theirs = DirectoryGroup.objects.create(directory=foreign[0], display_name="Spies")

    response = admin_client.post(
        reverse("directory:scope", args=[directory.pk]),
        {"groups": [mine.pk, theirs.pk]},
        follow=True,
    )

    assert SCOPE_SAVED in response.content.decode()
    assert list(directory.scope_groups.all()) == [mine]
    directory.refresh_from_db()
    assert directory.group_scope_enabled is True


def test_detail_shows_counts_and_last_request(admin_client, client, entitled):
    directory, token = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    ScimClient(client, directory, token).post("/Users", user_body())
    admin_client.force_login(entitled.users.get(email="admin@acme.example"))

    response = admin_client.get(reverse("directory:detail", args=[directory.pk]))

    assert response.context["counts"] == {"active": 1, "archived": 0, "pending": 0}
    assert response.context["last_request"] == DirectoryRequest.objects.get()


def test_users_and_user_pages_show_raw_attributes(admin_client, directory):
    record = directory_user_create(
        directory=directory,
        record=Record(
            user_name="ada@acme.example",
            email="ada@acme.example",
            department="Research",
            attributes={"userName": "ada@acme.example", "nickName": "Countess"},
        ),
    )

    listing = admin_client.get(reverse("directory:users", args=[directory.pk]))
    one = admin_client.get(reverse("directory:user", args=[directory.pk, record.pk]))
    source = admin_client.get(reverse("directory:person-source", args=[record.user.pk]))

    assert "ada@acme.example" in listing.content.decode()
    assert "Countess" in one.content.decode()
    assert "Research" in source.content.decode()
    assert directory.name in source.content.decode()


def test_pages_of_other_organization_are_404(admin_client, foreign):
    directory, record = foreign

    statuses = [
        getattr(admin_client, method)(url).status_code
        for method, url in pages(directory, record)
    ]

    assert statuses == [404] * 8
    directory.refresh_from_db()
    assert directory.state == Directory.State.ACTIVE
    assert DirectoryUser.objects.get().user_name == "eve@globex.example"


def test_pages_refuse_members(member_client, directory):
    record = directory_user_create(
        directory=directory,
        record=Record(user_name="x@acme.example", email="x@acme.example"),
    )

    statuses = [
        getattr(member_client, method)(url).status_code
        for method, url in pages(directory, record)
    ]

    assert statuses == [403] * 8
