from directory.models import DirectoryMembership, DirectoryUser
from directory.scim.errors import NOT_FOUND
from progression.models import User

CORE = "urn:scim:schemas:core:1.0"
ENTERPRISE = "urn:scim:schemas:extension:enterprise:1.0"


def v1_user(user_name="ada@acme.example", **extra):
    body = {
        "schemas": [CORE],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "active": True,
    }
    body.update(extra)
    return body


def test_v1_create_user_answers_in_core_1_0(scim_v1):
    response = scim_v1.post(
        "/Users",
        v1_user(
            schemas=[CORE, ENTERPRISE],
            **{ENTERPRISE: {"department": "Research", "manager": {"managerId": "m-1"}}},
        ),
    )

    body = response.json()
    assert response.status_code == 201
    assert body["schemas"] == [CORE, ENTERPRISE]
    assert body[ENTERPRISE] == {
        "department": "Research",
        "manager": {"managerId": "m-1"},
    }
    record = DirectoryUser.objects.get()
    assert (record.department, record.manager_ref) == ("Research", "m-1")
    assert record.user.email == "ada@acme.example"


def test_v1_partial_patch_active_false_archives(scim_v1):
    user_id = scim_v1.post("/Users", v1_user()).json()["id"]

    response = scim_v1.patch(
        f"/Users/{user_id}", {"schemas": [CORE], "id": user_id, "active": False}
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert DirectoryUser.objects.get().user.status == User.Status.ARCHIVED


def test_v1_patch_meta_attributes_removes_them(scim_v1):
    user_id = scim_v1.post("/Users", v1_user(title="Countess")).json()["id"]

    scim_v1.patch(
        f"/Users/{user_id}", {"schemas": [CORE], "meta": {"attributes": ["title"]}}
    )

    assert DirectoryUser.objects.get().title == ""


def test_v1_group_member_operation_delete_removes_only_that_member(scim_v1):
    ada = scim_v1.post("/Users", v1_user()).json()["id"]
    bob = scim_v1.post("/Users", v1_user("bob@acme.example")).json()["id"]
    group = scim_v1.post(
        "/Groups",
        {"schemas": [CORE], "displayName": "Eng", "members": [{"value": ada}]},
    ).json()

    scim_v1.patch(
        f"/Groups/{group['id']}",
        {
            "schemas": [CORE],
            "members": [
                {"value": bob, "display": "bob"},
                {"value": ada, "display": "ada", "operation": "delete"},
            ],
        },
    )

    members = DirectoryMembership.objects.values_list(
        "directory_user__user_name", flat=True
    )
    assert list(members) == ["bob@acme.example"]


def test_v1_errors_use_errors_envelope(scim_v1):
    response = scim_v1.get("/Users/nope")

    assert response.status_code == 404
    assert response.json()["Errors"] == [{"description": NOT_FOUND, "code": "404"}]


def test_v1_duplicate_is_409_with_errors_envelope(scim_v1):
    scim_v1.post("/Users", v1_user())

    response = scim_v1.post("/Users", v1_user())

    assert response.status_code == 409
    assert response.json()["Errors"][0]["code"] == "409"


def test_v1_service_provider_configs_and_list_schemas(scim_v1):
    config = scim_v1.get("/ServiceProviderConfigs").json()
    users = scim_v1.get("/Users", filter='userName eq "x"').json()

    assert CORE in config["schemas"]
    assert config["patch"]["supported"] is True
    assert CORE in users["schemas"]
    assert users["totalResults"] == 0
