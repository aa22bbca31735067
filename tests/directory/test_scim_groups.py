from billing.services.subscriptions import subscription_set
from directory.models import DirectoryGroup, DirectoryMembership, DirectoryUser
from directory.provisioning import REASON_OUT_OF_SCOPE
from directory.scim.handlers.messages import GROUP_NAME_TAKEN
from directory.services import directory_create, directory_scope_set
from progression.models import User
from tests.directory.conftest import ScimClient, user_body

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def make_users(scim, *names):
    ids = []
    for name in names:
        response = scim.post("/Users", user_body(f"{name}@acme.example"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


def make_group(scim, name="Engineering", members=()):
    response = scim.post(
        "/Groups", {"displayName": name, "members": [{"value": m} for m in members]}
    )
    assert response.status_code == 201, response.content
    return response.json()


def member_names(group_id):
    return sorted(
        DirectoryMembership.objects.filter(group__scim_id=group_id).values_list(
            "directory_user__user_name", flat=True
        )
    )


def test_create_group_with_members(scim):
    ada, bob = make_users(scim, "ada", "bob")

    group = make_group(scim, members=[ada, bob])

    assert sorted(m["value"] for m in group["members"]) == sorted([ada, bob])
    assert member_names(group["id"]) == ["ada@acme.example", "bob@acme.example"]


def test_create_group_same_name_is_409(scim):
    make_group(scim)

    response = scim.post("/Groups", {"displayName": "engineering"})

    assert response.status_code == 409
    assert response.json()["detail"] == GROUP_NAME_TAKEN


def test_create_group_unknown_member_is_400_and_nothing_stored(scim):
    response = scim.post(
        "/Groups", {"displayName": "X", "members": [{"value": "string id 1"}]}
    )

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert DirectoryGroup.objects.count() == 0


def test_patch_remove_member_value_filter_removes_only_that_member(scim):
    ada, bob = make_users(scim, "ada", "bob")
    group = make_group(scim, members=[ada, bob])

    response = scim.patch(
        f"/Groups/{group['id']}",
        patch({"op": "remove", "path": f'members[value eq "{ada}"]'}),
    )

    assert response.status_code == 200
    assert member_names(group["id"]) == ["bob@acme.example"]


def test_patch_unflagged_entra_remove_with_value_list_keeps_others(scim):
    ada, bob, cy = make_users(scim, "ada", "bob", "cy")
    group = make_group(scim, members=[ada, bob, cy])

    scim.patch(
        f"/Groups/{group['id']}",
        patch({"op": "Remove", "path": "members", "value": [{"value": bob}]}),
    )

    assert member_names(group["id"]) == ["ada@acme.example", "cy@acme.example"]


def test_patch_add_members_appends_and_replace_members_replaces(scim):
    ada, bob, cy = make_users(scim, "ada", "bob", "cy")
    group = make_group(scim, members=[ada])

    scim.patch(
        f"/Groups/{group['id']}",
        patch(
            {"op": "add", "path": "members", "value": [{"value": bob, "display": "b"}]}
        ),
    )
    added = member_names(group["id"])
    scim.patch(
        f"/Groups/{group['id']}",
        patch({"op": "replace", "path": "members", "value": [{"value": cy}]}),
    )

    assert added == ["ada@acme.example", "bob@acme.example"]
    assert member_names(group["id"]) == ["cy@acme.example"]


def test_patch_okta_rename_with_id_in_value_renames(scim):
    group = make_group(scim)

    response = scim.patch(
        f"/Groups/{group['id']}",
        patch({"op": "replace", "value": {"id": group["id"], "displayName": "Eng"}}),
    )

    assert response.status_code == 200
    assert DirectoryGroup.objects.get().display_name == "Eng"
    assert str(DirectoryGroup.objects.get().scim_id) == group["id"]


def test_get_group_excluded_members_omits_them(scim):
    (ada,) = make_users(scim, "ada")
    group = make_group(scim, members=[ada])

    listed = scim.get("/Groups", excludedAttributes="members").json()
    one = scim.get(f"/Groups/{group['id']}", excludedAttributes="members").json()

    assert "members" not in listed["Resources"][0]
    assert "members" not in one
    assert one["displayName"] == "Engineering"


def test_filter_groups_by_display_name_and_member(scim):
    ada, bob = make_users(scim, "ada", "bob")
    make_group(scim, "Engineering", members=[ada])
    make_group(scim, "Sales", members=[bob])

    by_name = scim.get("/Groups", filter='displayName eq "sales"').json()
    by_member = scim.get("/Groups", filter=f'members[value eq "{ada}"]').json()

    assert [g["displayName"] for g in by_name["Resources"]] == ["Sales"]
    assert [g["displayName"] for g in by_member["Resources"]] == ["Engineering"]


def test_user_resource_lists_its_groups(scim):
    (ada,) = make_users(scim, "ada")
    group = make_group(scim, members=[ada])

    body = scim.get(f"/Users/{ada}").json()

    assert [g["value"] for g in body["groups"]] == [group["id"]]


def test_scope_member_of_scoped_group_is_provisioned_others_are_not(scim):
    ada, bob = make_users(scim, "ada", "bob")
    group = make_group(scim, members=[ada])

    directory_scope_set(
        directory=scim.directory,
        groups=[DirectoryGroup.objects.get(scim_id=group["id"])],
        actor="operator",
    )

    statuses = {
        du.user_name: du.user.status
        for du in DirectoryUser.objects.select_related("user")
    }
    assert statuses == {
        "ada@acme.example": User.Status.ACTIVE,
        "bob@acme.example": User.Status.ARCHIVED,
    }
    bob_user = DirectoryUser.objects.get(user_name="bob@acme.example").user
    assert bob_user.archived_reason == REASON_OUT_OF_SCOPE


def test_scope_adding_to_group_provisions_removing_archives(scim):
    group = make_group(scim)
    directory_scope_set(
        directory=scim.directory,
        groups=[DirectoryGroup.objects.get(scim_id=group["id"])],
        actor="operator",
    )
    (ada,) = make_users(scim, "ada")
    assert DirectoryUser.objects.get().user is None

    scim.patch(
        f"/Groups/{group['id']}",
        patch({"op": "add", "path": "members", "value": [{"value": ada}]}),
    )
    provisioned = DirectoryUser.objects.get().user
    scim.patch(
        f"/Groups/{group['id']}",
        patch({"op": "remove", "path": f'members[value eq "{ada}"]'}),
    )

    assert provisioned.status == User.Status.ACTIVE
    provisioned.refresh_from_db()
    assert provisioned.status == User.Status.ARCHIVED


def test_scope_deleting_the_scoped_group_archives_members(scim):
    (ada,) = make_users(scim, "ada")
    group = make_group(scim, members=[ada])
    directory_scope_set(
        directory=scim.directory,
        groups=[DirectoryGroup.objects.get(scim_id=group["id"])],
        actor="operator",
    )

    response = scim.delete(f"/Groups/{group['id']}")

    assert response.status_code == 204
    assert DirectoryUser.objects.get().user.status == User.Status.ARCHIVED


def test_group_of_other_directory_is_404(scim, client, other_organization):
    group = make_group(scim)
    subscription_set(
        organization=other_organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    directory, token = directory_create(
        organization=other_organization, provider="azure-scim-v2", actor="operator"
    )
    other = ScimClient(client, directory, token)

    responses = [
        other.get(f"/Groups/{group['id']}"),
        other.patch(
            f"/Groups/{group['id']}",
            patch({"op": "replace", "path": "displayName", "value": "Mine"}),
        ),
        other.put(f"/Groups/{group['id']}", {"displayName": "Mine"}),
        other.delete(f"/Groups/{group['id']}"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert DirectoryGroup.objects.get().display_name == "Engineering"
    assert other.get("/Groups").json()["totalResults"] == 0
